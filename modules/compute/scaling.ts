// When the group changes size: target tracking on average CPU (and, if set, on ALB requests per target), and
// the environment's scheduled actions. Created in the compute construct's scope, so ids and paths are the
// construct's.
import { Construct } from "constructs";
import type { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { AutoscalingPolicy } from "@cdktf/provider-aws/lib/autoscaling-policy";
import { AutoscalingSchedule } from "@cdktf/provider-aws/lib/autoscaling-schedule";
import type { ResolvedComputeProps } from "./props";

/** The group the policies and actions belong to, and its name as written (the policies' names start with it). */
export interface ScalingParts {
  readonly name: string;
  readonly group: AutoscalingGroup;
}

/** The target tracking policies (`cpu`, and `requests` when set), in `scope`. */
export function addTargetTracking(scope: Construct, props: ResolvedComputeProps, { name, group }: ScalingParts): void {
  new AutoscalingPolicy(scope, "cpu", {
    name: `${name}-cpu`,
    autoscalingGroupName: group.name,
    policyType: "TargetTrackingScaling",
    targetTrackingConfiguration: {
      predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
      targetValue: props.scaling.targetCpuPercent,
    },
  });
  if (props.scaling.requestsPerTarget !== undefined) {
    new AutoscalingPolicy(scope, "requests", {
      name: `${name}-requests`,
      autoscalingGroupName: group.name,
      policyType: "TargetTrackingScaling",
      targetTrackingConfiguration: {
        predefinedMetricSpecification: {
          predefinedMetricType: "ALBRequestCountPerTarget",
          resourceLabel: `${props.loadBalancer.arnSuffix}/${props.targetGroup.arnSuffix}`,
        },
        targetValue: props.scaling.requestsPerTarget,
      },
    });
  }
}

/** One scheduled action (`schedule-<name>`) per entry of the settings, in `scope`. */
export function addScheduledActions(scope: Construct, props: ResolvedComputeProps, { group }: ScalingParts): void {
  for (const action of props.scheduledActions) {
    new AutoscalingSchedule(scope, `schedule-${action.name}`, {
      scheduledActionName: action.name,
      autoscalingGroupName: group.name,
      recurrence: action.recurrence,
      timeZone: action.timeZone,
      minSize: action.minCapacity,
      maxSize: action.maxCapacity,
      // The provider sends an unset desired_capacity as 0 (below a non-zero minimum: AWS rejects it); -1 leaves it out.
      desiredCapacity: action.desiredCapacity ?? -1,
    });
  }
}
