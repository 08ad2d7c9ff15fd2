// The Auto Scaling group: ELB health checks, the boot-gate launch hook and the draining terminate hook,
// rolling instance refresh with auto rollback, the optional warm pool, and its own tags. Created in the
// compute construct's scope, so ids and paths are the construct's.
import { TerraformResource, Token } from "cdktf";
import { Construct } from "constructs";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { AutoscalingLifecycleHook } from "@cdktf/provider-aws/lib/autoscaling-lifecycle-hook";
import type { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import type { ResolvedComputeProps } from "./props";
import { launchSource } from "./purchase-mix";

export const LAUNCH_HOOK_NAME = "boot";
export const TERMINATE_HOOK_NAME = "drain";

/** A lifecycle hook as both the group's creation block and its own resource take it. */
export interface LifecycleHookSpec {
  readonly name: string;
  readonly lifecycleTransition: string;
  readonly defaultResult: string;
  readonly heartbeatTimeout: number;
}

/**
 * The group's two hooks: the launch hook holds a new instance until the boot completes it (a heartbeat per
 * step, abandoned on silence); the terminate hook waits out the target group's deregistration delay and the
 * drain (30 s more, within what AWS accepts: 30 to 7200 s).
 */
export function lifecycleHooks(bootStepTimeoutSeconds: number, deregistrationDelaySeconds: number): LifecycleHookSpec[] {
  return [
    {
      name: LAUNCH_HOOK_NAME,
      lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
      defaultResult: "ABANDON",
      heartbeatTimeout: bootStepTimeoutSeconds,
    },
    {
      name: TERMINATE_HOOK_NAME,
      lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
      defaultResult: "CONTINUE",
      heartbeatTimeout: Math.min(7200, Math.max(30, deregistrationDelaySeconds + 30)),
    },
  ];
}

/** What the group refers to besides the settings. */
export interface GroupParts {
  /** The group's name. */
  readonly name: string;
  readonly launchTemplate: LaunchTemplate;
  /** The group's own tags (not propagated: the template tags what it launches). */
  readonly tags: Readonly<Record<string, string>>;
  /** The instance role's policies: instances call AWS at boot. */
  readonly dependsOn: readonly TerraformResource[];
}

/** The group (`group`) and its hooks as their own resources (`hook-boot`, `hook-drain`), in `scope`. */
export function addAutoScalingGroup(scope: Construct, props: ResolvedComputeProps, parts: GroupParts): AutoscalingGroup {
  const { name, launchTemplate } = parts;
  const warmup = props.defaultInstanceWarmupSeconds;
  const warmPool = props.warmPool;
  const hooks = lifecycleHooks(props.bootStepTimeoutSeconds, props.deregistrationDelaySeconds);
  const group = new AutoscalingGroup(scope, "group", {
    name,
    vpcZoneIdentifier: [...props.subnetIds],
    minSize: props.minCapacity,
    maxSize: props.maxCapacity,
    // The template, or the purchase mix over the same template (numbered version: auto rollback needs one).
    ...launchSource(props, { id: launchTemplate.id, version: Token.asString(launchTemplate.latestVersion) }),
    targetGroupArns: [props.targetGroup.arn],
    healthCheckType: "ELB",
    healthCheckGracePeriod: props.healthCheckGraceSeconds,
    defaultInstanceWarmup: warmup,
    capacityRebalance: true,
    metricsGranularity: "1Minute",
    enabledMetrics: [
      "GroupMinSize",
      "GroupMaxSize",
      "GroupDesiredCapacity",
      "GroupInServiceInstances",
      "GroupPendingInstances",
      "GroupStandbyInstances",
      "GroupTerminatingInstances",
      "GroupTotalInstances",
      ...(warmPool ? ["WarmPoolDesiredCapacity", "WarmPoolWarmedCapacity", "WarmPoolPendingCapacity", "WarmPoolTotalCapacity"] : []),
    ],
    // Terraform waits for min healthy instances, each held by the boot gate up to its budget, plus one
    // step past it in the worst case (the budget is checked between steps).
    waitForCapacityTimeout: `${Math.ceil(props.launchWindowSeconds / 60) + 5}m`,
    // Only CreateAutoScalingGroup attaches hooks before the first instance launches; the provider
    // never updates this block afterwards, so the hook resources below own every later change.
    initialLifecycleHook: hooks,
    instanceRefresh: {
      strategy: "Rolling",
      preferences: {
        minHealthyPercentage: props.instanceRefreshMinHealthyPercent,
        maxHealthyPercentage: props.instanceRefreshMaxHealthyPercent,
        instanceWarmup: String(warmup),
        autoRollback: true,
        skipMatching: false,
        scaleInProtectedInstances: "Wait",
        standbyInstances: "Wait",
      },
    },
    warmPool: warmPool
      ? {
          minSize: warmPool.minSize,
          maxGroupPreparedCapacity: warmPool.maxPreparedCapacity,
          poolState: warmPool.poolState,
          instanceReusePolicy: { reuseOnScaleIn: false },
        }
      : undefined,
    // Provider default tags do not reach the group: it carries the standard tags itself, not propagated
    // (the launch template tags what it launches).
    tag: Object.entries(parts.tags).map(([key, value]) => ({ key, value, propagateAtLaunch: false })),
    // Instances call AWS at boot: the role's permissions exist before the first launch.
    dependsOn: [...parts.dependsOn],
    // The block is read only at creation; a diff on it would promise a change that never happens.
    lifecycle: { ignoreChanges: ["initial_lifecycle_hook"] },
  });
  // The same hooks as their own resources (PutLifecycleHook creates or replaces by name): a new boot
  // timeout or draining delay reaches the existing group. On a new group they rewrite what creation attached.
  for (const hook of hooks) {
    new AutoscalingLifecycleHook(scope, `hook-${hook.name}`, { autoscalingGroupName: group.name, ...hook });
  }
  return group;
}
