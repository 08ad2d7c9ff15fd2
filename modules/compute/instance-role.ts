// The app instances' role and instance profile, least privilege: Session Manager, their own logs, lifecycle
// actions, metrics and target group membership, the boot bundle, the timed jobs' table and switch, and the
// data modules' grants. Created in the compute construct's scope, so their ids and paths are the construct's.
import { TerraformResource } from "cdktf";
import { Construct } from "constructs";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { formatArn } from "../primitives/arn";
import { policyDocument, serviceTrustPolicy, Statement } from "../primitives/policy";
import type { BootBundle } from "./boot-bundle";
import { JobTable, timedJobsParameterName } from "./jobs";

/** What the role's policies name. */
export interface InstanceRoleProps {
  /** The role's and the profile's name. */
  readonly name: string;
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
  readonly logGroupArn: string;
  readonly autoScalingGroupArn: string;
  readonly targetGroupArn: string;
  readonly metricsNamespace: string;
  readonly bootBundle: BootBundle;
  readonly jobTable: JobTable;
  /** The data modules' statements, each naming its resources. */
  readonly grants: readonly Statement[];
}

export interface InstanceRole {
  readonly role: IamRole;
  readonly profile: IamInstanceProfile;
  /** The role's attachments and inline policies: the group depends on them, so instances boot with their permissions. */
  readonly policies: readonly TerraformResource[];
}

/** The role (`role`, `ssm-core`, `own-resources`, `data-access`) and its profile (`profile`), in `scope`. */
export function addInstanceRole(scope: Construct, props: InstanceRoleProps): InstanceRole {
  const role = new IamRole(scope, "role", {
    name: props.name,
    description: "App instances: Session Manager, own logs, own secrets, uploads, own lifecycle action",
    assumeRolePolicy: serviceTrustPolicy("ec2.amazonaws.com", props.accountId),
  });
  const policies: TerraformResource[] = [];
  const ssmCore = new IamRolePolicyAttachment(scope, "ssm-core", {
    role: role.name,
    policyArn: formatArn({ service: "iam", account: "aws", resource: "policy/AmazonSSMManagedInstanceCore" }),
  });
  policies.push(ssmCore);
  const ownResources = new IamRolePolicy(scope, "own-resources", {
    name: "own-resources",
    role: role.id,
    policy: policyDocument(
      {
        Sid: "WriteOwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: [props.logGroupArn, `${props.logGroupArn}:*`],
      },
      {
        Sid: "OwnLifecycleActions",
        Effect: "Allow",
        Action: ["autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"],
        Resource: props.autoScalingGroupArn,
      },
      {
        // The timed jobs' run-time switch, which the runner reads once a minute (webapp-jobs.py).
        Sid: "ReadTimedJobsSwitch",
        Effect: "Allow",
        Action: ["ssm:GetParameter"],
        Resource: formatArn({
          service: "ssm",
          region: props.region,
          account: props.accountId,
          resource: `parameter${timedJobsParameterName(props.namePrefix)}`,
        }),
      },
      {
        // An instance leaves the target group before its app restarts for new secrets, and rejoins after.
        Sid: "OwnTargetGroupMembership",
        Effect: "Allow",
        Action: ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"],
        Resource: props.targetGroupArn,
      },
      ...props.bootBundle.grantRead(),
      ...props.jobTable.grantRunner(),
      {
        // PutMetricData takes no resource; the namespace condition keeps it to the app's own metrics.
        Sid: "OwnMetrics",
        Effect: "Allow",
        Action: "cloudwatch:PutMetricData",
        Resource: "*",
        Condition: { StringEquals: { "cloudwatch:namespace": props.metricsNamespace } },
      },
    ),
  });
  policies.push(ownResources);
  if (props.grants.length > 0) {
    policies.push(
      new IamRolePolicy(scope, "data-access", {
        name: "data-access",
        role: role.id,
        policy: policyDocument(...props.grants),
      }),
    );
  }
  const profile = new IamInstanceProfile(scope, "profile", { name: props.name, role: role.name });
  return { role, profile, policies };
}
