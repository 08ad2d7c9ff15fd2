// Values every environment shares. Each environment file spreads these and states what differs.
import type { StateConfig } from "./types";

export const project = "webapp";
export const region = "eu-west-2";
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
 * The app every environment runs; each environment pins its own ref (README: "Deploying a new app version").
 * Out of the box it is the sample app in examples/app of this repository (`repository` above, README
 * there): replace url, directory and the commands with your app's.
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
