// The CI roles' permissions as policy documents: the apply role's boundary (everything but account
// administration, IAM only on the environment's own roles under the workload boundary, and the
// environment's fence), the state one environment's roles may use, and what a plan may read.
import { formatArn } from "../primitives/arn";
import { policyDocument, Statement } from "../primitives/policy";
import { ciRoleName, CiStateTarget } from "./ci-settings";
import { environmentFence } from "./environment-fence";

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
