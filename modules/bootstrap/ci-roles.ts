// The AWS side of plan review in CI: GitHub's OIDC identity provider and, per environment, a plan role
// (the pull-request workflow's jobs in the environment's plan GitHub environment; reads configuration,
// not data, and only its own state), an apply role (the apply workflow on main in the environment's GitHub
// environment; changes only resources tagged with its environment, writes only its own state, bounded by
// a boundary that carries the environment's fence), and a KMS key that seals the reviewed plan so that only the apply role can open it.
// No long-lived keys. It does not create the workflows (.github/workflows/) or the GitHub environments.
import { Construct } from "constructs";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { bootBucketName, BUNDLE_PREFIX } from "../compute/boot-bundle";
import { formatArn } from "../primitives/arn";
import { environmentFence, FenceProps, otherStateDenies } from "./environment-fence";
import { policyDocument, Statement } from "../primitives/policy";
import { assertValid, Problems } from "../primitives/validation";

export const GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com";
const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
const GITHUB_REPOSITORY = /^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/;
const GITHUB_ENVIRONMENT = /^[A-Za-z0-9 _.-]{1,255}$/;
const WORKFLOW_FILE = /^[A-Za-z0-9._-]+\.ya?ml$/;

/** The claims the repository's OIDC subject must carry (set once per repository; docs/runbooks.md). */
export const SUBJECT_CLAIM_KEYS = ["repo", "context", "job_workflow_ref"] as const;

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
  const githubEnvironments = props.environments.flatMap((env) => [env.githubEnvironment ?? env.name, env.planGithubEnvironment ?? `${env.name}-plan`]);
  props.environments.forEach((env, i) => {
    const field = `environments[${i}]`;
    problems.check(props.environments.findIndex((e) => e.name === env.name) === i, `${field}.name`, env.name, "listed twice");
    for (const key of ["githubEnvironment", "planGithubEnvironment"] as const) {
      const value = env[key];
      if (value === undefined) continue;
      if (!problems.check(GITHUB_ENVIRONMENT.test(value), `${field}.${key}`, value, "not a GitHub environment name")) continue;
      problems.check(githubEnvironments.filter((g) => g === value).length === 1, `${field}.${key}`, value, "used by another role: each role needs its own GitHub environment");
    }
  });
}

/** IAM name of an environment's CI role; outside the environment's own `<project>-<env>-*` names. */
export function ciRoleName(project: string, environment: string, kind: "plan" | "apply"): string {
  return `${project}-ci-${environment}-${kind}`;
}

/** The IAM actions that give a role permissions: the apply role may use them only with the workload boundary. */
export const GRANT_ACTIONS: readonly string[] = [
  "iam:CreateRole",
  "iam:PutRolePermissionsBoundary",
  "iam:PutRolePolicy",
  "iam:DeleteRolePolicy",
  "iam:AttachRolePolicy",
  "iam:DetachRolePolicy",
];

/** The service-linked roles of an account, which the apply role may create. */
export function serviceLinkedRolesArn(accountId: string): string {
  return formatArn({ service: "iam", account: accountId, resource: "role/aws-service-role/*" });
}

/** Name of the apply role's permissions boundary. */
export function applyBoundaryName(project: string, environment: string): string {
  return `${ciRoleName(project, environment, "apply")}-boundary`;
}

/**
 * The apply role's boundary: everything but Organizations and account administration; IAM only on the
 * environment's own roles and instance profiles (and service-linked roles), roles only with the workload
 * boundary, which it may never remove; and the environment's fence.
 */
export function applyBoundaryDocument(
  target: Pick<CiStateTarget, "namePrefix" | "boundaryArn" | "fence">,
  serviceLinkedRoles: string,
  grantActions: readonly string[],
  accountId: string,
): string {
  const own = (kind: string) => formatArn({ service: "iam", account: accountId, resource: `${kind}/${target.namePrefix}-*` });
  return policyDocument(
    { Sid: "EverythingButOrganizationsAndAccount", Effect: "Allow", NotAction: ["organizations:*", "account:*"], Resource: "*" },
    { Sid: "IamOnlyOnOwnRoles", Effect: "Deny", Action: "iam:*", NotResource: [own("role"), own("instance-profile"), serviceLinkedRoles] },
    {
      Sid: "RolesOnlyWithTheBoundary",
      Effect: "Deny",
      Action: [...grantActions],
      Resource: own("role"),
      Condition: { StringNotEquals: { "iam:PermissionsBoundary": target.boundaryArn } },
    },
    { Sid: "KeepTheBoundary", Effect: "Deny", Action: "iam:DeleteRolePermissionsBoundary", Resource: own("role") },
    ...environmentFence(target.fence),
  );
}

/** Alias (without `alias/`) of the key that seals an environment's reviewed plan. */
export function planKeyAlias(project: string, environment: string): string {
  return `${project}-ci-${environment}-plan`;
}

interface StateArns {
  readonly stateBucketArn: string;
  readonly lockTableArn: string;
  readonly stateKeyArn: string;
}

/** Statements that let a role use exactly one environment's state object, its lock and the state key. */
export function stateAccess(target: Pick<CiStateTarget, "stateKey">, props: StateArns, write: boolean): Statement[] {
  const object = `${props.stateBucketArn}/${target.stateKey}`;
  return [
    {
      Sid: "ListOwnState",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: props.stateBucketArn,
      Condition: { StringLike: { "s3:prefix": [target.stateKey, `${target.stateKey}.tflock`] } },
    },
    {
      Sid: write ? "ReadWriteOwnState" : "ReadOwnState",
      Effect: "Allow",
      Action: write ? ["s3:GetObject", "s3:PutObject"] : "s3:GetObject",
      Resource: object,
    },
    {
      Sid: "LockFile",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      Resource: `${object}.tflock`,
    },
    {
      Sid: "LockTable",
      Effect: "Allow",
      Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
      Resource: props.lockTableArn,
      Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [`*/${target.stateKey}*`] } },
    },
    {
      Sid: "StateKey",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
      Resource: props.stateKeyArn,
    },
  ];
}

/**
 * What a plan reads: configuration of the services the stacks use, never data (no S3 objects, secret
 * values, parameters other than AWS's public ones, queue messages, table items or log events).
 * `__tests__/security.test.ts` fails when a stack uses a resource type whose service is not listed here.
 */
export const PLAN_READ_ACTIONS: readonly string[] = [
  "acm:DescribeCertificate",
  "acm:GetCertificate",
  "acm:ListCertificates",
  "acm:ListTagsForCertificate",
  "autoscaling:Describe*",
  "cloudtrail:DescribeTrails",
  "cloudtrail:GetEventSelectors",
  "cloudtrail:GetTrailStatus",
  "cloudtrail:ListTags",
  "cloudwatch:DescribeAlarms",
  "cloudwatch:GetDashboard",
  "cloudwatch:ListDashboards",
  "cloudwatch:ListTagsForResource",
  "dynamodb:DescribeContinuousBackups",
  "dynamodb:DescribeTable",
  "dynamodb:DescribeTimeToLive",
  "dynamodb:ListTagsOfResource",
  "ec2:Describe*",
  "ec2:GetEbsDefaultKmsKeyId",
  "ec2:GetEbsEncryptionByDefault",
  "elasticache:Describe*",
  "elasticache:ListTagsForResource",
  "elasticfilesystem:Describe*",
  "elasticfilesystem:ListTagsForResource",
  "elasticloadbalancing:Describe*",
  "events:DescribeRule",
  "events:ListTagsForResource",
  "events:ListTargetsByRule",
  "iam:Get*",
  "iam:List*",
  "kms:Describe*",
  "kms:GetKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:List*",
  "logs:Describe*",
  "logs:ListTagsForResource",
  "logs:ListTagsLogGroup",
  "rds:Describe*",
  "rds:ListTagsForResource",
  "route53:GetChange",
  "route53:GetHostedZone",
  "route53:ListHostedZones",
  "route53:ListResourceRecordSets",
  "route53:ListTagsForResource",
  "s3:GetAccelerateConfiguration",
  "s3:GetBucket*",
  "s3:GetEncryptionConfiguration",
  "s3:GetLifecycleConfiguration",
  "s3:GetReplicationConfiguration",
  "s3:ListAllMyBuckets",
  "s3:ListBucket",
  // S3 Control's ListTagsForResource: the provider reads a bucket's tags through it.
  "s3:ListTagsForResource",
  "secretsmanager:DescribeSecret",
  "secretsmanager:GetResourcePolicy",
  "secretsmanager:ListSecrets",
  "sns:GetSubscriptionAttributes",
  "sns:GetTopicAttributes",
  "sns:ListSubscriptionsByTopic",
  "sns:ListTagsForResource",
  "wafv2:GetLoggingConfiguration",
  "wafv2:GetWebACL",
  "wafv2:GetWebACLForResource",
  "wafv2:ListTagsForResource",
  "wafv2:ListWebACLs",
];

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

export interface CiRoleRefs {
  readonly planRoleArn: string;
  readonly applyRoleArn: string;
  readonly planKeyArn: string;
}

export { otherStateDenies };

export class CiRoles extends Construct {
  readonly providerArn: string;
  readonly roles: Readonly<Record<string, CiRoleRefs>>;

  constructor(scope: Construct, id: string, props: CiRolesProps) {
    super(scope, id);
    assertValid(this, props, checkCiSettings);

    this.providerArn =
      props.createOidcProvider === false
        ? formatArn({ service: "iam", account: props.accountId, resource: `oidc-provider/${GITHUB_OIDC_HOST}` })
        : new IamOpenidConnectProvider(this, "github", { url: GITHUB_OIDC_URL, clientIdList: ["sts.amazonaws.com"] }).arn;

    const roles: Record<string, CiRoleRefs> = {};
    for (const target of props.environments) {
      const plan = this.planRole(props, target, target.fence.otherStateKeys);
      const apply = this.applyRole(props, target);
      const key = this.planKey(props, target, plan, apply);
      roles[target.name] = { planRoleArn: plan.arn, applyRoleArn: apply.arn, planKeyArn: key.arn };
    }
    this.roles = roles;
  }

  private planRole(props: CiRolesProps, target: CiStateTarget, otherKeys: readonly string[]): IamRole {
    const githubEnvironment = target.planGithubEnvironment ?? `${target.name}-plan`;
    const subject = githubSubject(props.githubRepository, githubEnvironment, props.planWorkflow ?? "pull-request.yml", "refs/pull/*/merge");
    const role = new IamRole(this, `${target.name}-plan`, {
      name: ciRoleName(props.project, target.name, "plan"),
      description: `Plans ${target.namePrefix} from pull requests (GitHub environment ${githubEnvironment}); reads configuration and its own state`,
      assumeRolePolicy: githubTrustPolicy(this.providerArn, [subject]),
      maxSessionDuration: 3600,
    });
    new IamRolePolicy(this, `${target.name}-plan-read`, {
      name: "read-configuration",
      role: role.id,
      policy: policyDocument({ Sid: "ReadConfiguration", Effect: "Allow", Action: [...PLAN_READ_ACTIONS], Resource: "*" }),
    });
    const tokenSecret = formatArn({
      service: "secretsmanager",
      region: props.region,
      account: props.accountId,
      resource: `secret:${target.cacheTokenSecretName}-??????`,
    });
    new IamRolePolicy(this, `${target.name}-plan-state`, {
      name: "state-read-and-lock",
      role: role.id,
      policy: policyDocument(
        ...stateAccess(target, props, false),
        ...otherStateDenies(target.stateKey, otherKeys, props),
        {
          // AWS's public parameters only (the AMI id the launch template pins); never the account's own.
          Sid: "PublicParameters",
          Effect: "Allow",
          Action: ["ssm:GetParameter", "ssm:GetParameters"],
          Resource: formatArn({ service: "ssm", region: props.region, resource: "parameter/aws/service/*" }),
        },
        {
          // A refresh reads the boot bundle's object (HeadObject) and its tags. The bundle is the boot script,
          // no secret, and its key decrypts only for the instances, through S3: the plan never reads its content.
          Sid: "RefreshBootBundle",
          Effect: "Allow",
          Action: ["s3:GetObject", "s3:GetObjectTagging"],
          Resource: formatArn({ service: "s3", resource: `${bootBucketName(target.namePrefix, props.accountId)}/${BUNDLE_PREFIX}/*` }),
        },
        {
          // The cache token's data source calls it at plan time; it returns a fresh random string and reads
          // nothing in the account.
          Sid: "PlanTimeRandomPassword",
          Effect: "Allow",
          Action: "secretsmanager:GetRandomPassword",
          Resource: "*",
        },
        {
          // A refresh reads the token's secret version (GetSecretValue even with secret_string_wo): that one
          // secret, decrypted only when Secrets Manager asks KMS for exactly it.
          Sid: "RefreshCacheTokenVersion",
          Effect: "Allow",
          Action: "secretsmanager:GetSecretValue",
          Resource: tokenSecret,
        },
        {
          Sid: "DecryptCacheTokenViaSecretsManager",
          Effect: "Allow",
          Action: "kms:Decrypt",
          Resource: formatArn({ service: "kms", region: props.region, account: props.accountId, resource: "key/*" }),
          Condition: {
            StringEquals: { "kms:ViaService": `secretsmanager.${props.region}.amazonaws.com` },
            StringLike: { "kms:EncryptionContext:SecretARN": tokenSecret },
          },
        },
      ),
    });
    return role;
  }

  private applyRole(props: CiRolesProps, target: CiStateTarget): IamRole {
    const githubEnvironment = target.githubEnvironment ?? target.name;
    const name = ciRoleName(props.project, target.name, "apply");
    const subject = githubSubject(props.githubRepository, githubEnvironment, props.applyWorkflow ?? "apply.yml", "refs/heads/main");
    const own = (kind: string) => formatArn({ service: "iam", account: props.accountId, resource: `${kind}/${target.namePrefix}-*` });
    const serviceLinkedRoles = serviceLinkedRolesArn(props.accountId);
    const grantActions = GRANT_ACTIONS;
    // What it may do; the boundary below says what it can never do, whatever is attached later.
    const policy = new IamPolicy(this, `${target.name}-apply-policy`, {
      name,
      description: `What ${name} may do: resources tagged Environment=${target.name}, its own IAM roles, its own state`,
      policy: policyDocument(
        {
          Sid: "EverythingButIdentityAndAccountAdministration",
          Effect: "Allow",
          NotAction: ["iam:*", "organizations:*", "account:*"],
          Resource: "*",
        },
        {
          // Roles it creates or gives permissions to must carry the environment's boundary (no IAM, the same
          // fence), so no role it makes can do more than the apply role itself.
          Sid: "GrantOnlyWithinTheBoundary",
          Effect: "Allow",
          Action: [...grantActions],
          Resource: own("role"),
          Condition: { StringEquals: { "iam:PermissionsBoundary": target.boundaryArn } },
        },
        {
          Sid: "ManageOwnRolesAndProfiles",
          Effect: "Allow",
          Action: [
            "iam:DeleteRole",
            "iam:GetRole",
            "iam:UpdateRole",
            "iam:UpdateAssumeRolePolicy",
            "iam:TagRole",
            "iam:UntagRole",
            "iam:ListRolePolicies",
            "iam:ListAttachedRolePolicies",
            "iam:ListInstanceProfilesForRole",
            "iam:GetRolePolicy",
            "iam:PassRole",
            "iam:CreateInstanceProfile",
            "iam:DeleteInstanceProfile",
            "iam:GetInstanceProfile",
            "iam:TagInstanceProfile",
            "iam:AddRoleToInstanceProfile",
            "iam:RemoveRoleFromInstanceProfile",
          ],
          Resource: [own("role"), own("instance-profile")],
        },
        { Sid: "ServiceLinkedRoles", Effect: "Allow", Action: "iam:CreateServiceLinkedRole", Resource: serviceLinkedRoles },
        ...stateAccess(target, props, true),
        {
          // Opens the sealed, reviewed plan of its own environment (the key's policy lets no one else decrypt).
          Sid: "OpenReviewedPlan",
          Effect: "Allow",
          Action: "kms:Decrypt",
          Resource: formatArn({ service: "kms", region: props.region, account: props.accountId, resource: "key/*" }),
          Condition: {
            "ForAnyValue:StringEquals": { "kms:ResourceAliases": [`alias/${planKeyAlias(props.project, target.name)}`] },
            StringEquals: { "kms:EncryptionContext:environment": target.name },
          },
        },
      ),
    });
    // Its permissions boundary: IAM on its own roles only and only with the workload boundary, and the
    // environment's fence, the same statements the workload boundary carries.
    const boundary = new IamPolicy(this, `${target.name}-apply-boundary`, {
      name: applyBoundaryName(props.project, target.name),
      description: `Permissions boundary of ${name}: nothing outside ${target.name}, IAM only on its own roles and only with their boundary`,
      policy: applyBoundaryDocument(target, serviceLinkedRoles, grantActions, props.accountId),
    });
    const role = new IamRole(this, `${target.name}-apply`, {
      name,
      description: `Applies reviewed plans to ${target.namePrefix} from the ${githubEnvironment} environment on main`,
      assumeRolePolicy: githubTrustPolicy(this.providerArn, [subject]),
      maxSessionDuration: 3600,
      permissionsBoundary: boundary.arn,
    });
    new IamRolePolicyAttachment(this, `${target.name}-apply-scoped`, { role: role.name, policyArn: policy.arn });
    return role;
  }

  /** A key per environment: the plan role seals with it (GenerateDataKey), only the apply role opens. */
  private planKey(props: CiRolesProps, target: CiStateTarget, plan: IamRole, apply: IamRole): KmsKey {
    const alias = planKeyAlias(props.project, target.name);
    const context = { "kms:EncryptionContext:environment": target.name };
    const key = new KmsKey(this, `${target.name}-plan-key`, {
      description: `Seals ${target.namePrefix}'s reviewed plans: the plan role encrypts, only the apply role decrypts`,
      enableKeyRotation: true,
      deletionWindowInDays: 7,
      policy: policyDocument(
        {
          Sid: "AccountAdministersKeyThroughIam",
          Effect: "Allow",
          Principal: { AWS: formatArn({ service: "iam", account: props.accountId, resource: "root" }) },
          Action: "kms:*",
          Resource: "*",
        },
        {
          Sid: "PlanRoleSeals",
          Effect: "Allow",
          Principal: { AWS: plan.arn },
          Action: "kms:GenerateDataKey",
          Resource: "*",
          Condition: { StringEquals: context },
        },
        {
          Sid: "ApplyRoleOpens",
          Effect: "Allow",
          Principal: { AWS: apply.arn },
          Action: "kms:Decrypt",
          Resource: "*",
          Condition: { StringEquals: context },
        },
        {
          Sid: "NobodyElseOpens",
          Effect: "Deny",
          Principal: "*",
          Action: "kms:Decrypt",
          Resource: "*",
          Condition: { ArnNotLike: { "aws:PrincipalArn": apply.arn } },
        },
      ),
      // Tagged with its environment: the other environments' apply roles cannot touch it at all.
      tags: { Name: alias, Environment: target.name },
    });
    new KmsAlias(this, `${target.name}-plan-key-alias`, { name: `alias/${alias}`, targetKeyId: key.keyId });
    return key;
  }
}
