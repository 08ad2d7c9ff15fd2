// GitHub Actions as an AWS identity: the OIDC issuer, the names GitHub allows (repository, environment,
// workflow file), the subject claims each role trusts, and the trust policy that admits them.
import { policyDocument } from "../primitives/policy";

export const GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com";
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
export const GITHUB_REPOSITORY = /^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/;
export const GITHUB_ENVIRONMENT = /^[A-Za-z0-9 _.-]{1,255}$/;
export const WORKFLOW_FILE = /^[A-Za-z0-9._-]+\.ya?ml$/;

/** The claims the repository's OIDC subject must carry (set once per repository; docs/runbooks.md). */
export const SUBJECT_CLAIM_KEYS = ["repo", "context", "job_workflow_ref"] as const;

/** Trust policy for GitHub's OIDC tokens whose (customized) `sub` matches one of `subjects` exactly or by pattern. */
export function githubTrustPolicy(providerArn: string, subjects: readonly string[]): string {
  const like = subjects.some((s) => s.includes("*"));
  return policyDocument({
    Effect: "Allow",
    Principal: { Federated: providerArn },
    Action: "sts:AssumeRoleWithWebIdentity",
    Condition: {
      StringEquals: { [`${GITHUB_OIDC_HOST}:aud`]: "sts.amazonaws.com", ...(like ? {} : { [`${GITHUB_OIDC_HOST}:sub`]: [...subjects] }) },
      ...(like ? { StringLike: { [`${GITHUB_OIDC_HOST}:sub`]: [...subjects] } } : {}),
    },
  });
}

/** The `sub` of a job in `githubEnvironment` running `workflow` at `ref`, under the subject template above. */
export function githubSubject(repository: string, githubEnvironment: string, workflow: string, ref: string): string {
  return `repo:${repository}:environment:${githubEnvironment}:job_workflow_ref:${repository}/.github/workflows/${workflow}@${ref}`;
}
