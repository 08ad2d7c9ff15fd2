// The bootstrap stack's settings: the state bucket and lock table, applied once per account.
import { base } from "./base";
import type { BootstrapConfig } from "./types";

export const bootstrap: BootstrapConfig = {
  project: base.project,
  region: base.region,
  accountId: base.accountId,
  repository: base.repository,
  state: base.state,
  // Flip to true after the first apply, then migrate (README: "Bootstrapping the state bucket").
  remoteState: false,
  noncurrentVersionRetentionDays: 90,
  ci: {
    githubRepository: "example-org/cdktf-webapp-platform",
    environments: [{ name: "dev" }, { name: "staging" }, { name: "prod" }],
  },
};
