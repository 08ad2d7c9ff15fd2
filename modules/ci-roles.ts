// The AWS side of plan review in CI: GitHub's OIDC identity provider and, per environment, a read-only
// plan role (pull requests only) and an apply role (only jobs in that environment's GitHub environment).
// No long-lived keys. It does not create the workflows; those live in .github/workflows/.
import { Construct } from "constructs";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { policyDocument, Statement } from "./policy";
import { assertValid, Problems } from "./validation";

export const GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com";
const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
const GITHUB_REPOSITORY = /^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/;
const GITHUB_ENVIRONMENT = /^[A-Za-z0-9 _.-]{1,255}$/;

/** One environment that CI plans and applies. */
export interface CiEnvironmentSettings {
  /** Environment (and stack) name. */
  readonly name: string;
  /** GitHub environment whose jobs may assume the apply role (set required reviewers there). @default name */
  readonly githubEnvironment?: string;
}

export interface CiSettings {
  /** The GitHub repository, `owner/name`, whose workflows may assume the roles. */
  readonly githubRepository: string;
  /** Create the account's GitHub OIDC provider; false when the account already has one. @default true */
  readonly createOidcProvider?: boolean;
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
}

export interface CiRolesProps extends Omit<CiSettings, "environments"> {
  readonly accountId: string;
  readonly project: string;
  readonly stateBucketArn: string;
  readonly lockTableArn: string;
  readonly stateKeyArn: string;
  readonly environments: readonly CiStateTarget[];
}

export function checkCiSettings(props: CiSettings, problems: Problems): void {
  problems.check(GITHUB_REPOSITORY.test(props.githubRepository), "githubRepository", props.githubRepository, "must be owner/name");
  problems.check(props.environments.length > 0, "environments", props.environments, "name at least one environment");
  props.environments.forEach((env, i) => {
    const field = `environments[${i}]`;
    problems.check(props.environments.findIndex((e) => e.name === env.name) === i, `${field}.name`, env.name, "listed twice");
    if (env.githubEnvironment !== undefined) {
      problems.check(GITHUB_ENVIRONMENT.test(env.githubEnvironment), `${field}.githubEnvironment`, env.githubEnvironment, "not a GitHub environment name");
    }
  });
}

/** Statements that let a role use exactly one environment's state object, its lock and the state key. */
export function stateAccess(target: CiStateTarget, props: Pick<CiRolesProps, "stateBucketArn" | "lockTableArn" | "stateKeyArn">, write: boolean): Statement[] {
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

/** Trust policy for GitHub's OIDC tokens from one repository whose `sub` matches one of `subjects`. */
export function githubTrustPolicy(providerArn: string, repository: string, subjects: readonly string[]): string {
  return policyDocument({
    Effect: "Allow",
    Principal: { Federated: providerArn },
    Action: "sts:AssumeRoleWithWebIdentity",
    Condition: {
      StringEquals: { [`${GITHUB_OIDC_HOST}:aud`]: "sts.amazonaws.com" },
      StringLike: { [`${GITHUB_OIDC_HOST}:sub`]: subjects.map((s) => `repo:${repository}:${s}`) },
    },
  });
}

export interface CiRoleRefs {
  readonly planRoleArn: string;
  readonly applyRoleArn: string;
}

export class CiRoles extends Construct {
  readonly providerArn: string;
  readonly roles: Readonly<Record<string, CiRoleRefs>>;

  constructor(scope: Construct, id: string, props: CiRolesProps) {
    super(scope, id);
    assertValid(this, props, checkCiSettings);

    this.providerArn =
      props.createOidcProvider === false
        ? `arn:aws:iam::${props.accountId}:oidc-provider/${GITHUB_OIDC_HOST}`
        : new IamOpenidConnectProvider(this, "github", { url: GITHUB_OIDC_URL, clientIdList: ["sts.amazonaws.com"] }).arn;

    const roles: Record<string, CiRoleRefs> = {};
    for (const target of props.environments) {
      const githubEnvironment = target.githubEnvironment ?? target.name;
      // Role names sit outside the environment's own `<project>-<env>-*` prefix, which the apply role may manage.
      const roleName = (kind: string) => `${props.project}-ci-${target.name}-${kind}`;

      const plan = new IamRole(this, `${target.name}-plan`, {
        name: roleName("plan"),
        description: `Plans ${target.namePrefix} from pull requests in ${props.githubRepository}; read-only`,
        assumeRolePolicy: githubTrustPolicy(this.providerArn, props.githubRepository, ["pull_request"]),
        maxSessionDuration: 3600,
      });
      new IamRolePolicyAttachment(this, `${target.name}-plan-read-only`, {
        role: plan.name,
        policyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess",
      });
      new IamRolePolicy(this, `${target.name}-plan-state`, {
        name: "state-read-and-lock",
        role: plan.id,
        policy: policyDocument(
          ...stateAccess(target, props, false),
          {
            // ReadOnlyAccess lacks it, and the cache token's data source calls it at plan time; it returns a
            // fresh random string and reads nothing in the account.
            Sid: "PlanTimeRandomPassword",
            Effect: "Allow",
            Action: "secretsmanager:GetRandomPassword",
            Resource: "*",
          },
        ),
      });

      const apply = new IamRole(this, `${target.name}-apply`, {
        name: roleName("apply"),
        description: `Applies reviewed plans to ${target.namePrefix} from the ${githubEnvironment} environment of ${props.githubRepository}`,
        assumeRolePolicy: githubTrustPolicy(this.providerArn, props.githubRepository, [`environment:${githubEnvironment}`]),
        maxSessionDuration: 3600,
      });
      new IamRolePolicyAttachment(this, `${target.name}-apply-power-user`, {
        role: apply.name,
        policyArn: "arn:aws:iam::aws:policy/PowerUserAccess",
      });
      const own = (kind: string) => `arn:aws:iam::${props.accountId}:${kind}/${target.namePrefix}-*`;
      new IamRolePolicy(this, `${target.name}-apply-iam`, {
        name: "environment-iam-and-state",
        role: apply.id,
        policy: policyDocument(
          {
            // Roles it creates or gives permissions to must carry the environment's boundary (no IAM at all),
            // so no role it makes can do more than the apply role itself.
            Sid: "GrantOnlyWithinTheBoundary",
            Effect: "Allow",
            Action: [
              "iam:CreateRole",
              "iam:PutRolePermissionsBoundary",
              "iam:PutRolePolicy",
              "iam:DeleteRolePolicy",
              "iam:AttachRolePolicy",
              "iam:DetachRolePolicy",
            ],
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
          {
            Sid: "KeepTheBoundary",
            Effect: "Deny",
            Action: "iam:DeleteRolePermissionsBoundary",
            Resource: own("role"),
          },
          {
            Sid: "ServiceLinkedRoles",
            Effect: "Allow",
            Action: "iam:CreateServiceLinkedRole",
            Resource: `arn:aws:iam::${props.accountId}:role/aws-service-role/*`,
          },
          ...stateAccess(target, props, true),
        ),
      });
      roles[target.name] = { planRoleArn: plan.arn, applyRoleArn: apply.arn };
    }
    this.roles = roles;
  }
}
