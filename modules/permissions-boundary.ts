// The permissions boundary every workload role of an environment carries: whatever policies a role gets,
// it can never touch IAM, Organizations or account settings. The bootstrap stack creates the boundary
// policy per environment; each environment stack applies it to all of its roles with an aspect, so a role
// added later is covered without anyone remembering. The CI apply role may only create roles that carry it.
import { IAspect } from "cdktf";
import { Construct, IConstruct } from "constructs";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { policyDocument } from "./policy";

/** Name of an environment's workload boundary; outside the `<project>-<env>-*` names the apply role manages. */
export function workloadBoundaryName(project: string, environment: string): string {
  return `${project}-boundary-${environment}`;
}

export function workloadBoundaryArn(accountId: string, project: string, environment: string): string {
  return `arn:aws:iam::${accountId}:policy/${workloadBoundaryName(project, environment)}`;
}

/** Everything except identity and account administration. */
export function workloadBoundaryDocument(): string {
  return policyDocument({
    Sid: "EverythingButIdentityAndAccountAdministration",
    Effect: "Allow",
    NotAction: ["iam:*", "organizations:*", "account:*"],
    Resource: "*",
  });
}

/** The boundary policy itself (bootstrap stack). */
export class WorkloadBoundary extends Construct {
  readonly policy: IamPolicy;

  constructor(scope: Construct, id: string, props: { readonly project: string; readonly environment: string }) {
    super(scope, id);
    this.policy = new IamPolicy(this, "policy", {
      name: workloadBoundaryName(props.project, props.environment),
      description: `Permissions boundary of every role in ${props.project}-${props.environment}: no IAM, Organizations or account administration`,
      policy: workloadBoundaryDocument(),
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
