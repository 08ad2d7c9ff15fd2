// Reads the IAM side of a synthesized stack for the policy evaluator: a role's identity policies (inline,
// attached customer-managed, and a stand-in for the AWS-managed ones), its boundary, and resource policies,
// with Terraform references resolved to the ARNs they will have (a KMS key's id is its logical name).
import type { Json } from "./synth";
import { resources } from "./synth";

/**
 * Stand-ins for the AWS-managed policies, named as such: their shape, not their full action lists
 * (ReadOnlyAccess grants Get/List/Describe on every service, data reads included).
 */
const AWS_MANAGED: Record<string, Json> = {
  "arn:aws:iam::aws:policy/ReadOnlyAccess": {
    Statement: [
      {
        Effect: "Allow",
        Action: ["*:Describe*", "*:Get*", "*:List*", "sqs:ReceiveMessage", "dynamodb:Query", "dynamodb:Scan"],
        Resource: "*",
      },
    ],
  },
  "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore": {
    Statement: [
      {
        Effect: "Allow",
        Action: [
          "ssm:*Association*",
          "ssm:GetDocument",
          "ssm:GetParameter",
          "ssm:GetParameters",
          "ssm:*InstanceInformation",
          "ssmmessages:*",
          "ec2messages:*",
        ],
        Resource: "*",
      },
    ],
  },
  "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole": {
    Statement: [
      {
        Effect: "Allow",
        Action: [
          "logs:CreateLogGroup",
          "logs:PutRetentionPolicy",
          "logs:CreateLogStream",
          "logs:PutLogEvents",
          "logs:DescribeLogStreams",
          "logs:GetLogEvents",
        ],
        Resource: "arn:aws:logs:*:*:log-group:RDS*",
      },
    ],
  },
  "arn:aws:iam::aws:policy/PowerUserAccess": {
    Statement: [
      { Effect: "Allow", NotAction: ["iam:*", "organizations:*", "account:*"], Resource: "*" },
      {
        Effect: "Allow",
        Action: [
          "iam:CreateServiceLinkedRole",
          "iam:DeleteServiceLinkedRole",
          "iam:ListRoles",
          "organizations:DescribeOrganization",
          "account:ListRegions",
        ],
        Resource: "*",
      },
    ],
  },
};

export interface StackIam {
  readonly json: Json;
  readonly region: string;
  readonly accountId: string;
  /** Managed policies of other stacks (for example the bootstrap stack's boundaries), by ARN. */
  readonly external?: Readonly<Record<string, Json>>;
}

/** Replaces `${aws_x.name.attr}` references with the values the resources will have. */
export function resolve(stack: StackIam, text: string): string {
  return text.replace(
    /\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.(arn|id|name|key_id)\}/g,
    (whole, type: string, name: string, attr: string) => {
      const r = resources(stack.json, type)[name];
      if (!r) return whole;
      const { region, accountId } = stack;
      switch (type) {
        case "aws_s3_bucket":
          return attr === "arn" ? `arn:aws:s3:::${r.bucket}` : String(r.bucket);
        case "aws_dynamodb_table":
          return attr === "arn" ? `arn:aws:dynamodb:${region}:${accountId}:table/${r.name}` : String(r.name);
        case "aws_kms_key":
          return attr === "arn" ? `arn:aws:kms:${region}:${accountId}:key/${name}` : name;
        case "aws_iam_role":
          return attr === "arn" ? `arn:aws:iam::${accountId}:role/${r.name}` : String(r.name);
        case "aws_iam_policy":
          return attr === "arn" ? `arn:aws:iam::${accountId}:policy/${r.name}` : String(r.name);
        case "aws_iam_openid_connect_provider":
          return `arn:aws:iam::${accountId}:oidc-provider/token.actions.githubusercontent.com`;
        case "aws_cloudtrail":
          return attr === "arn" ? `arn:aws:cloudtrail:${region}:${accountId}:trail/${r.name}` : String(r.name);
        default:
          return whole;
      }
    },
  );
}

const parse = (stack: StackIam, text: string): Json => JSON.parse(resolve(stack, text)) as Json;

function roleKey(stack: StackIam, roleName: string): string {
  const found = Object.entries(resources(stack.json, "aws_iam_role")).find(([, r]) => r.name === roleName);
  if (!found) throw new Error(`no role named ${roleName}`);
  return found[0];
}

function managedPolicy(stack: StackIam, arn: string): Json {
  if (AWS_MANAGED[arn]) return AWS_MANAGED[arn]!;
  if (stack.external?.[arn]) return stack.external[arn]!;
  const ref = /^\$\{aws_iam_policy\.([A-Za-z0-9_-]+)\.arn\}$/.exec(arn);
  const policy = ref
    ? resources(stack.json, "aws_iam_policy")[ref[1]!]
    : Object.values(resources(stack.json, "aws_iam_policy")).find((p) => arn.endsWith(`:policy/${p.name}`));
  if (!policy) throw new Error(`policy ${arn}: neither in the stack nor a known AWS-managed policy`);
  return parse(stack, policy.policy);
}

/** The identity policies of the role named `roleName`: inline and attached. */
export function identityPolicies(stack: StackIam, roleName: string): Json[] {
  const key = roleKey(stack, roleName);
  const refersToRole = (value: unknown) => typeof value === "string" && value.startsWith(`\${aws_iam_role.${key}.`);
  const inline = Object.values(resources(stack.json, "aws_iam_role_policy"))
    .filter((p) => refersToRole(p.role))
    .map((p) => parse(stack, p.policy));
  const attached = Object.values(resources(stack.json, "aws_iam_role_policy_attachment"))
    .filter((a) => refersToRole(a.role))
    .map((a) => managedPolicy(stack, a.policy_arn));
  return [...inline, ...attached];
}

/** The permissions boundary of the role, or undefined. */
export function boundaryPolicy(stack: StackIam, roleName: string): Json | undefined {
  const role = resources(stack.json, "aws_iam_role")[roleKey(stack, roleName)]!;
  return role.permissions_boundary ? managedPolicy(stack, role.permissions_boundary) : undefined;
}

/** The trust policy of the role. */
export function trustPolicy(stack: StackIam, roleName: string): Json {
  return parse(stack, resources(stack.json, "aws_iam_role")[roleKey(stack, roleName)]!.assume_role_policy);
}

/** Every policy document the role's requests are evaluated against: identity, and the boundary if any. */
export function policySets(stack: StackIam, roleName: string): Json[][] {
  const boundary = boundaryPolicy(stack, roleName);
  return boundary ? [identityPolicies(stack, roleName), [boundary]] : [identityPolicies(stack, roleName)];
}

/** A resource policy of the stack (bucket policy, key policy ...), references resolved. */
export function resourcePolicy(stack: StackIam, text: string): Json {
  return parse(stack, text);
}
