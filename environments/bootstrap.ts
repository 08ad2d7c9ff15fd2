// The bootstrap stacks' settings: one per account (state bucket, lock table, state key, the state read
// audit trail, the boundaries and CI roles of that account's environments), each applied once.
import { base } from "./base";
import type { BootstrapConfig } from "./schema/types";

export const bootstrap: BootstrapConfig = {
  project: base.project,
  region: base.region,
  accountId: base.accountId,
  repository: base.repository,
  state: base.state,
  // Flip to true after the first apply, then migrate (docs/deploying.md: "Bootstrapping the state bucket").
  remoteState: false,
  noncurrentVersionRetentionDays: 90,
  ci: {
    githubRepository: "example-org/cdktf-webapp-platform",
    environments: [{ name: "dev" }, { name: "staging" }, { name: "prod" }],
  },
};

/**
 * Every bootstrap stack, one per account. With prod in its own account, add that account's stack here
 * (docs/ci-and-state.md: "Prod in its own account"), for example
 * `{ ...bootstrap, name: "bootstrap-prod", accountId: prod.accountId, state: prod.state, ci: { ...bootstrap.ci, environments: [{ name: "prod" }] } }`,
 * and remove prod from this one's `ci.environments`.
 */
export const BOOTSTRAPS: readonly BootstrapConfig[] = [bootstrap];
