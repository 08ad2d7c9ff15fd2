// The permissions boundary every workload role of an environment carries: whatever policies a role gets,
// it can never touch IAM, Organizations or account settings, and it stays inside its environment's fence
// (modules/bootstrap/environment-fence.ts: other environments' resources, state, locks, keys and records, other roles,
// commands and sessions). The bootstrap stack creates the boundary policy per environment; each environment
// stack applies it to all of its roles with an aspect, so a role added later is covered without anyone
// remembering. The CI apply role may only create roles that carry it. A second aspect gives every KMS key
// of an environment a key-policy deny for the principals of the project's other environments.
import { IAspect } from "cdktf";
import { Construct, IConstruct } from "constructs";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { formatArn } from "../primitives/arn";
import { environmentFence, FenceProps } from "./environment-fence";
import { Conditions, PolicyDocument, policyDocument, Statement } from "../primitives/policy";

/** Name of an environment's workload boundary; outside the `<project>-<env>-*` names the apply role manages. */
export function workloadBoundaryName(project: string, environment: string): string {
  return `${project}-boundary-${environment}`;
}

export function workloadBoundaryArn(accountId: string, project: string, environment: string): string {
  return formatArn({ service: "iam", account: accountId, resource: `policy/${workloadBoundaryName(project, environment)}` });
}

/** Everything except identity and account administration, inside the environment's fence. */
export function workloadBoundaryDocument(fence: FenceProps): string {
  return policyDocument(
    {
      Sid: "EverythingButIdentityAndAccountAdministration",
      Effect: "Allow",
      NotAction: ["iam:*", "organizations:*", "account:*"],
      Resource: "*",
    },
    ...environmentFence(fence),
  );
}

/** The boundary policy itself (bootstrap stack). */
export class WorkloadBoundary extends Construct {
  readonly policy: IamPolicy;

  constructor(scope: Construct, id: string, props: { readonly fence: FenceProps }) {
    super(scope, id);
    const { project, environment } = props.fence;
    this.policy = new IamPolicy(this, "policy", {
      name: workloadBoundaryName(project, environment),
      description: `Permissions boundary of every role in ${project}-${environment}: no IAM, Organizations or account administration; nothing outside ${environment}`,
      policy: workloadBoundaryDocument(props.fence),
    });
  }
}

/** Sets the boundary on every IAM role in the scope it is added to. */
export class PermissionsBoundaryAspect implements IAspect {
  constructor(private readonly boundaryArn: string) {}

  visit(node: IConstruct): void {
    if (node instanceof IamRole) node.permissionsBoundary = this.boundaryArn;
  }
}

/**
 * The key-policy statement that keeps the project's other environments' principals (workload and CI roles,
 * by name) away from a key of `environment`, whatever their IAM policies say.
 */
export function otherEnvironmentsKeyDeny(accountId: string, project: string, environment: string): Statement {
  return {
    Sid: "NoOtherEnvironmentsPrincipals",
    Effect: "Deny",
    Principal: "*",
    Action: "kms:*",
    Resource: "*",
    Condition: otherEnvironmentsPrincipals(accountId, project, environment),
  };
}

/**
 * The same for a bucket's policy: S3 objects carry no environment tag, so without it another environment's
 * roles could delete or overwrite objects (a boot bundle's pinned version, access logs) or the policy itself.
 * `bucket` is the bucket's name (a reference is fine).
 */
export function otherEnvironmentsBucketDeny(accountId: string, project: string, environment: string, bucket: string): Statement {
  return {
    Sid: "NoOtherEnvironmentsPrincipals",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [formatArn({ service: "s3", resource: bucket }), formatArn({ service: "s3", resource: `${bucket}/*` })],
    Condition: otherEnvironmentsPrincipals(accountId, project, environment),
  };
}

/** Every role named for the project but not for `environment` (its stack's roles and its CI roles). */
function otherEnvironmentsPrincipals(accountId: string, project: string, environment: string): Conditions {
  const role = (name: string) => formatArn({ service: "iam", account: accountId, resource: `role/${name}` });
  return {
    ArnLike: { "aws:PrincipalArn": role(`${project}-*`) },
    ArnNotLike: { "aws:PrincipalArn": [role(`${project}-${environment}-*`), role(`${project}-ci-${environment}-*`)] },
  };
}

/**
 * Adds `otherEnvironmentsKeyDeny` to the key policy of every KMS key in the scope it is added to (keys
 * delegate to IAM through the account, so without it a key would rely on the IAM side alone).
 */
export class KeyPolicyFenceAspect implements IAspect {
  constructor(private readonly statement: Statement) {}

  visit(node: IConstruct): void {
    if (!(node instanceof KmsKey)) return;
    const text = node.policyInput;
    if (text === undefined)
      throw new Error(`${node.node.path}: a KMS key without a key policy: give it one, the environment fence extends it`);
    const document = JSON.parse(text) as PolicyDocument;
    if (document.Statement.some((s) => s.Sid === this.statement.Sid)) return;
    node.policy = JSON.stringify({ ...document, Statement: [...document.Statement, this.statement] });
  }
}

/** Adds `otherEnvironmentsBucketDeny` to the policy of every bucket in the scope it is added to. */
export class BucketPolicyFenceAspect implements IAspect {
  constructor(private readonly statement: (bucket: string) => Statement) {}

  visit(node: IConstruct): void {
    if (!(node instanceof S3BucketPolicy)) return;
    const text = node.policyInput;
    const bucket = node.bucketInput;
    if (text === undefined || bucket === undefined) throw new Error(`${node.node.path}: a bucket policy without a bucket or a policy`);
    const document = JSON.parse(text) as PolicyDocument;
    const statement = this.statement(bucket);
    if (document.Statement.some((s) => s.Sid === statement.Sid)) return;
    node.policy = JSON.stringify({ ...document, Statement: [...document.Statement, statement] });
  }
}
