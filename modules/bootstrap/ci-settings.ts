// What an account's CI chooses: the GitHub repository, the environments CI plans and applies, their GitHub
// environments and workflow files, and the names of their roles and plan keys; the check of those settings.
import type { FenceProps } from "./environment-fence";
import { GITHUB_ENVIRONMENT, GITHUB_REPOSITORY, WORKFLOW_FILE } from "./github-trust";
import { Problems } from "../primitives/validation";

/** One environment that CI plans and applies. */
export interface CiEnvironmentSettings {
  /** Environment (and stack) name; also the `Environment` tag value its apply role is limited to. */
  readonly name: string;
  /**
   * GitHub environment whose apply-workflow jobs on main may assume the apply role (deployment branches
   * limited to main; required reviewers for production). @default name
   */
  readonly githubEnvironment?: string;
  /**
   * GitHub environment whose pull-request-workflow jobs may assume the plan role (required reviewers for
   * production: a plan job reads that environment's state). @default `<name>-plan`
   */
  readonly planGithubEnvironment?: string;
}

export interface CiSettings {
  /** The GitHub repository, `owner/name`, whose workflows may assume the roles. */
  readonly githubRepository: string;
  /** Create the account's GitHub OIDC provider; false when the account already has one. @default true */
  readonly createOidcProvider?: boolean;
  /** Workflow file (in .github/workflows/) whose jobs plan. @default "pull-request.yml" */
  readonly planWorkflow?: string;
  /** Workflow file whose jobs apply, on main only. @default "apply.yml" */
  readonly applyWorkflow?: string;
  readonly environments: readonly CiEnvironmentSettings[];
}

/** Where one environment's state lives, so its roles can read (plan) or write (apply) exactly that. */
export interface CiStateTarget extends CiEnvironmentSettings {
  /** Resource name prefix of the environment, for example `webapp-prod`. */
  readonly namePrefix: string;
  /** State object key, for example `environments/prod/terraform.tfstate`. */
  readonly stateKey: string;
  /** The permissions boundary every role the apply role creates must carry. */
  readonly boundaryArn: string;
  /** Name of the secret holding the cache AUTH token, whose version a plan refreshes. */
  readonly cacheTokenSecretName: string;
  /** The environment's fence (modules/bootstrap/environment-fence.ts), part of the apply role's boundary. */
  readonly fence: FenceProps;
}

export interface CiRolesProps extends Omit<CiSettings, "environments"> {
  readonly accountId: string;
  readonly region: string;
  readonly project: string;
  readonly stateBucketArn: string;
  readonly lockTableArn: string;
  readonly stateKeyArn: string;
  readonly environments: readonly CiStateTarget[];
}

export function checkCiSettings(props: CiSettings, problems: Problems): void {
  problems.check(GITHUB_REPOSITORY.test(props.githubRepository), "githubRepository", props.githubRepository, "must be owner/name");
  for (const field of ["planWorkflow", "applyWorkflow"] as const) {
    const file = props[field];
    if (file !== undefined) problems.check(WORKFLOW_FILE.test(file), field, file, "must be a workflow file name, for example apply.yml");
  }
  problems.check(props.environments.length > 0, "environments", props.environments, "name at least one environment");
  const githubEnvironments = props.environments.flatMap((env) => [
    env.githubEnvironment ?? env.name,
    env.planGithubEnvironment ?? `${env.name}-plan`,
  ]);
  props.environments.forEach((env, i) => {
    const field = `environments[${i}]`;
    problems.check(props.environments.findIndex((e) => e.name === env.name) === i, `${field}.name`, env.name, "listed twice");
    for (const key of ["githubEnvironment", "planGithubEnvironment"] as const) {
      const value = env[key];
      if (value === undefined) continue;
      if (!problems.check(GITHUB_ENVIRONMENT.test(value), `${field}.${key}`, value, "not a GitHub environment name")) continue;
      problems.check(
        githubEnvironments.filter((g) => g === value).length === 1,
        `${field}.${key}`,
        value,
        "used by another role: each role needs its own GitHub environment",
      );
    }
  });
}

/** IAM name of an environment's CI role; outside the environment's own `<project>-<env>-*` names. */
export function ciRoleName(project: string, environment: string, kind: "plan" | "apply"): string {
  return `${project}-ci-${environment}-${kind}`;
}

/** Alias (without `alias/`) of the key that seals an environment's reviewed plan. */
export function planKeyAlias(project: string, environment: string): string {
  return `${project}-ci-${environment}-plan`;
}
