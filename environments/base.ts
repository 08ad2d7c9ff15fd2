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
