// The environment fence: the explicit denies that keep a principal of one environment inside it, in every
// permissions boundary of that environment (the workload boundary of the roles its stack creates and the
// CI apply role's own boundary), so that no role the apply role creates, edits, passes or assumes can do
// more than the apply role. It grants nothing; the boundaries and the apply role's policy do.
import { formatArn } from "../primitives/arn";
import type { Statement } from "../primitives/policy";

/** What the fence of one environment needs to know (the bootstrap stack of its account builds it). */
export interface FenceProps {
  readonly accountId: string;
  readonly region: string;
  readonly project: string;
  /** The environment, also the `Environment` tag value its principals are limited to. */
  readonly environment: string;
  readonly stateBucketArn: string;
  readonly lockTableArn: string;
  readonly stateKeyArn: string;
  /** The environment's own state object key, for example `environments/prod/terraform.tfstate`. */
  readonly stateKey: string;
  /** Every other state object key (prefix) in the bucket: other environments' and the bootstrap's. */
  readonly otherStateKeys: readonly string[];
  /** Bootstrap resources no principal of an environment may touch (the audit trail and its bucket). @default [] */
  readonly protectedArns?: readonly string[];
  /** DNS names the environment serves from a Route 53 hosted zone (none with external DNS). @default [] */
  readonly recordNames?: readonly string[];
  /** DNS names the other environments of the account serve from Route 53. @default [] */
  readonly otherRecordNames?: readonly string[];
}

const TAG = "aws:ResourceTag/Environment";
const REQUEST_TAG = "aws:RequestTag/Environment";

/** The record types the stacks write in Route 53: alias A records and ACM's CNAME validation records. */
export const RECORD_TYPES = ["A", "CNAME"] as const;

/** The ways to act as another principal or run code elsewhere that no stack needs: denied outright. */
export const COMMANDS_AND_SESSIONS = [
  "ssm:SendCommand",
  "ssm:Start*",
  "ssm:ResumeSession",
  "ssm:CreateAssociation*",
  "ssm:UpdateAssociation",
  "ssm:RegisterTaskWithMaintenanceWindow",
  "ssm:UpdateMaintenanceWindowTask",
  "ssm-guiconnect:*",
  "ec2-instance-connect:*",
  "ecs:ExecuteCommand",
] as const;

/** Running code that some other principal's role executes: only on resources tagged with the environment. */
export const RUN_AS_ANOTHER = [
  "lambda:Invoke*",
  "lambda:UpdateFunction*",
  "states:Start*",
  "ecs:RunTask",
  "ecs:StartTask",
  "codebuild:StartBuild*",
  "glue:StartJobRun",
  "ec2:ModifyInstanceAttribute",
] as const;

/** `arn:aws:iam::<account>:role/<project>-<environment>-*`: the names of every role the environment's stack creates. */
export function environmentRolesArn(accountId: string, project: string, environment: string): string {
  return formatArn({ service: "iam", account: accountId, resource: `role/${project}-${environment}-*` });
}

/** Route 53's normalized form of a record name (lowercase, no trailing dot, `*` as `\052`). */
export function normalizedRecordName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "").replace(/\*/g, "\\052");
}

/** The record names an environment writes for `names`: each non-wildcard name (alias), ACM's `_<token>.<name>` (validation). */
export function recordNamePatterns(names: readonly string[]): string[] {
  const patterns = names.flatMap((name) => {
    const base = normalizedRecordName(name.replace(/^\*\./, ""));
    return name.startsWith("*.") ? [`_*.${base}`] : [base, `_*.${base}`];
  });
  return [...new Set(patterns)];
}

/**
 * Validation-record patterns of other environments' names that lie under one of this environment's names
 * (`_*.staging.app.example.com` under `app.example.com`): the wildcard of this environment's own pattern
 * would reach them otherwise.
 */
export function nestedOtherPatterns(own: readonly string[], others: readonly string[]): string[] {
  const bases = own.map((n) => normalizedRecordName(n.replace(/^\*\./, "")));
  const nested = others
    .map((n) => normalizedRecordName(n.replace(/^\*\./, "")))
    .filter((other) => bases.some((base) => other.endsWith(`.${base}`)) && !bases.includes(other));
  return [...new Set(nested.map((n) => `_*.${n}`))];
}

/**
 * Explicit denies on every state object but `own` (each other key named), and on lock items that are not
 * this environment's, so no policy attached later can open another's state.
 */
export function otherStateDenies(
  own: string,
  otherKeys: readonly string[],
  props: { readonly stateBucketArn: string; readonly lockTableArn: string },
): Statement[] {
  return [
    {
      Sid: "DenyOtherEnvironmentsState",
      Effect: "Deny",
      Action: "s3:*",
      Resource: otherKeys.map((key) => `${props.stateBucketArn}/${key}*`),
    },
    {
      Sid: "DenyOtherLocks",
      Effect: "Deny",
      Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"],
      Resource: props.lockTableArn,
      Condition: { "ForAnyValue:StringNotLike": { "dynamodb:LeadingKeys": [`*/${own}*`] } },
    },
  ];
}

/** The fence's statements (denies only). */
export function environmentFence(props: FenceProps): Statement[] {
  const env = props.environment;
  const stateResources = [props.stateBucketArn, `${props.stateBucketArn}/*`, props.lockTableArn, props.stateKeyArn];
  const ownNames = recordNamePatterns(props.recordNames ?? []);
  const nested = nestedOtherPatterns(props.recordNames ?? [], props.otherRecordNames ?? []);
  const records = "route53:ChangeResourceRecordSetsNormalizedRecordNames";
  return [
    {
      Sid: "DenyOtherEnvironmentsResources",
      Effect: "Deny",
      Action: "*",
      NotResource: stateResources,
      Condition: { StringNotEquals: { [TAG]: env }, Null: { [TAG]: "false" } },
    },
    {
      Sid: "DenyTaggingForOtherEnvironments",
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { StringNotEquals: { [REQUEST_TAG]: env }, Null: { [REQUEST_TAG]: "false" } },
    },
    {
      Sid: "KeepTheEnvironmentTag",
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { "ForAnyValue:StringEquals": { "aws:TagKeys": ["Environment"] }, Null: { [REQUEST_TAG]: "true" } },
    },
    {
      Sid: "StateBucketObjectsOnly",
      Effect: "Deny",
      NotAction: ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      Resource: [props.stateBucketArn, `${props.stateBucketArn}/*`],
    },
    {
      Sid: "LockItemsOnly",
      Effect: "Deny",
      NotAction: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"],
      Resource: props.lockTableArn,
    },
    {
      Sid: "StateKeyUseOnly",
      Effect: "Deny",
      NotAction: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
      Resource: props.stateKeyArn,
    },
    {
      // Plan keys (its own is tagged with its environment) may only be used to open a plan, never administered.
      Sid: "PlanKeysUseOnly",
      Effect: "Deny",
      NotAction: ["kms:Decrypt", "kms:DescribeKey"],
      Resource: formatArn({ service: "kms", region: props.region, account: props.accountId, resource: "key/*" }),
      Condition: { "ForAnyValue:StringLike": { "kms:ResourceAliases": [`alias/${props.project}-ci-*`] } },
    },
    ...(props.protectedArns && props.protectedArns.length > 0
      ? [{ Sid: "AuditUntouched", Effect: "Deny" as const, Action: "*", Resource: [...props.protectedArns] }]
      : []),
    ...otherStateDenies(props.stateKey, props.otherStateKeys, props),
    {
      // Roles of the account that trust the account (an operator's, another team's) are out of reach.
      Sid: "AssumeOnlyTheEnvironmentsRoles",
      Effect: "Deny",
      Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
      NotResource: environmentRolesArn(props.accountId, props.project, env),
    },
    { Sid: "NoCommandsOrSessions", Effect: "Deny", Action: [...COMMANDS_AND_SESSIONS], Resource: "*" },
    {
      // A missing tag counts as another environment's: an untagged function may run as any role.
      Sid: "RunCodeOnlyInTheEnvironment",
      Effect: "Deny",
      Action: [...RUN_AS_ANOTHER],
      Resource: "*",
      Condition: { StringNotEquals: { [TAG]: env } },
    },
    {
      // Hosted zones are shared and carry no environment: only the environment's own record names.
      Sid: "OwnRecordNamesOnly",
      Effect: "Deny",
      Action: "route53:ChangeResourceRecordSets",
      Resource: "*",
      ...(ownNames.length > 0 ? { Condition: { "ForAnyValue:StringNotLike": { [records]: ownNames } } } : {}),
    },
    ...(nested.length > 0
      ? [
          {
            Sid: "NotOtherEnvironmentsRecords",
            Effect: "Deny" as const,
            Action: "route53:ChangeResourceRecordSets",
            Resource: "*",
            Condition: { "ForAnyValue:StringLike": { [records]: nested } },
          },
        ]
      : []),
    {
      Sid: "OwnRecordTypesOnly",
      Effect: "Deny",
      Action: "route53:ChangeResourceRecordSets",
      Resource: "*",
      Condition: { "ForAnyValue:StringNotEquals": { "route53:ChangeResourceRecordSetsRecordTypes": [...RECORD_TYPES] } },
    },
    {
      // Zones, their VPC associations, DNSSEC, query logs and resolver rules are the account's, not an environment's.
      Sid: "NoZoneAdministration",
      Effect: "Deny",
      NotAction: ["route53:ChangeResourceRecordSets", "route53:Get*", "route53:List*"],
      Resource: formatArn({ service: "route53", resource: "hostedzone/*" }),
    },
    {
      Sid: "NoNewZonesOrResolverRules",
      Effect: "Deny",
      Action: [
        "route53:CreateHostedZone",
        "route53:AssociateVPCWithHostedZone",
        "route53:CreateVPCAssociationAuthorization",
        "route53resolver:Associate*",
      ],
      Resource: "*",
    },
  ];
}
