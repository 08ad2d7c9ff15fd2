// The AWS side of plan review in CI: GitHub's OIDC identity provider and, per environment, a plan role
// (the pull-request workflow's jobs in the environment's plan GitHub environment; reads configuration,
// not data, and only its own state), an apply role (the apply workflow on main in the environment's GitHub
// environment; changes only resources tagged with its environment, writes only its own state, bounded by
// a boundary that carries the environment's fence), and a KMS key that seals the reviewed plan so that only the apply role can open it.
// No long-lived keys. It does not create the workflows (.github/workflows/) or the GitHub environments.
// Its settings are in ci-settings.ts, its policy documents in ci-policies.ts, GitHub's trust in github-trust.ts.
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
import { otherStateDenies } from "./environment-fence";
import { policyDocument } from "../primitives/policy";
import { assertValid } from "../primitives/validation";
import {
  applyBoundaryDocument,
  applyBoundaryName,
  GRANT_ACTIONS,
  PLAN_READ_ACTIONS,
  serviceLinkedRolesArn,
  stateAccess,
} from "./ci-policies";
import { checkCiSettings, ciRoleName, CiRolesProps, CiStateTarget, planKeyAlias } from "./ci-settings";
import { GITHUB_OIDC_HOST, GITHUB_OIDC_URL, githubSubject, githubTrustPolicy } from "./github-trust";

// The settings, the policy library and GitHub's trust, for callers that know CI by this module's name.
export * from "./ci-settings";
export * from "./ci-policies";
export * from "./github-trust";

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
