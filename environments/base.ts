// Values every environment shares. Each environment file spreads these and states what differs.
import type { StateConfig } from "./schema/types";

export const project = "webapp";
export const region = "eu-west-2";
/** This code's repository (your fork of the template): the Repository tag on every resource. */
export const repository = "https://github.com/example-org/cdktf-webapp-platform";

/** Replace with your AWS account id (or give each environment its own). */
export const accountId = "111111111111";

/** Created by the bootstrap stack; shared by every environment, each with its own state object. */
export const state: StateConfig = {
  bucket: `${project}-tfstate-${accountId}`,
  lockTable: `${project}-tfstate-locks`,
  region,
};

export const base = { project, region, accountId, repository, state } as const;

/**
 * The app every environment runs; each environment pins its own ref (README: "Making it yours", then
 * docs/app-and-fleet.md: "Deploying a new app version"). Out of the box it is the sample app in examples/app of this repository
 * (README there). In a fork, either
 * - run the sample app first (it proves the platform end to end): set url to your fork's clone URL
 *   (`repository` above, ending in .git) and keep the rest; or
 * - run your own app: set url to its repository, directory to its folder ("" for the repository's root), and
 *   the runtime, commands, health path and timed jobs to its own.
 * credentialType says what the <project>-<env>/repository-credential secret holds, which the boot reads to
 * clone: a read-only HTTPS token ("https-token") or SSH deploy key ("ssh-key"); for a public repository
 * (a fork of the public template is one) set "none": the boot then clones over HTTPS without a credential
 * and the secret stays empty (docs/secrets.md).
 */
export const app = {
  url: "https://github.com/example-org/cdktf-webapp-platform.git",
  directory: "examples/app",
  credentialType: "https-token",
  runtime: { preset: "nodejs22" },
  // Build with the development dependencies (a TypeScript build needs its compiler), then drop them.
  // --include=dev: an app-env NODE_ENV=production would otherwise make npm ci skip them.
  buildCommands: ["npm ci --include=dev", "npm run build", "npm prune --omit=dev"],
  startCommand: "exec node dist/server.js",
  healthCheckPath: "/health",
  // Once per slot across the fleet; the job uses JOB_SLOT to be idempotent (examples/app/src/jobs/record-run.js).
  cronJobs: [{ name: "record-run", schedule: "*/5 * * * *", command: "node dist/jobs/record-run.js", maxRunSeconds: 120 }],
} as const;
