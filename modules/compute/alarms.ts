// The app tier's alarms: in service below the minimum, replacements failing, failed boots (counted from the boot
// script's log line), unsuccessful launches and, where the group buys Spot, interruption storms (counted from
// EventBridge), group CPU, and the timed jobs' metrics their runner records. Created in the monitoring
// construct's scope, routed as it says (modules/monitoring/alarm.ts). Also: the instance refresh's rollback on
// alarms.
import { Construct } from "constructs";
import type { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter";
import type { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { AlarmRouting, metricAlarm } from "../monitoring/alarm";

/** What the alarms read from the app tier. */
export interface MonitoredCompute {
  readonly autoScalingGroupName: string;
  /** Log group that receives the boot script's lines. */
  readonly logGroupName: string;
  /** CloudWatch Logs filter pattern matching the boot script's failure line. */
  readonly bootFailurePattern: string;
  /** Namespace of the app tier's own metrics (boot failures, and what the timed jobs' runner records). */
  readonly metricsNamespace: string;
  /** Whether the group may launch Spot Instances: their interruptions are counted. @default false */
  readonly launchesSpot?: boolean;
  /** The longest an instance may take from launch to in service (its boot budget). @default 1800 */
  readonly launchWindowSeconds?: number;
}

/** The thresholds these alarms read (`monitoring.thresholds`). */
export interface ComputeAlarmThresholds {
  readonly groupCpuPercent: number;
  readonly spotInterruptionsPerHour: number;
}

/** Alarms on the metrics the timed jobs' runner records (each datapoint is one slot or one claim). */
export const JOB_ALARMS = [
  {
    id: "job-failures",
    metric: "JobFailures",
    description:
      "A timed job's slot failed on its last attempt (or its holder died on it) and will not run again by itself: look first at the `<instance>/cron` log stream and `webapp-jobs status` (docs/runbooks.md, 11).",
  },
  {
    id: "jobs-missed",
    metric: "JobsMissed",
    description:
      "A timed job's slot passed its backfill window with no instance claiming it (no instance in service, or the jobs table unreachable): look first at the group's in-service count and the `<instance>/cron` log stream (docs/runbooks.md, 11).",
  },
  {
    id: "job-leases-lost",
    metric: "JobLeasesLost",
    description:
      "A timed job's holder stopped renewing its claim (instance lost, killed, or cut off from DynamoDB) and another instance took the slot over, so its work may have run twice: look first at the group's activity history, then the `<instance>/cron` log stream (docs/runbooks.md, 11).",
  },
  {
    id: "lock-failures",
    metric: "LockFailures",
    description:
      "A timed job ran on its slot claim alone because Redis was unreachable or refused its lock: each slot still ran once, but two slots of one job could overlap. Look first at the cache alarms (memory: the cache refuses writes when full) and the `<instance>/cron` log stream (docs/runbooks.md, 11).",
  },
] as const satisfies readonly { readonly id: string; readonly metric: string; readonly description: string }[];

export type JobAlarmId = (typeof JOB_ALARMS)[number]["id"];

export interface ComputeAlarms {
  readonly inServiceBelowMinimum: CloudwatchMetricAlarm;
  readonly bootFailures: CloudwatchMetricAlarm;
  readonly launchAbandoned: CloudwatchMetricAlarm;
  readonly replacementShortfall: CloudwatchMetricAlarm;
  /** Only for a group that may launch Spot Instances. */
  readonly spotInterruptions?: CloudwatchMetricAlarm;
  readonly groupCpuHigh: CloudwatchMetricAlarm;
  readonly jobs: Readonly<Record<JobAlarmId, CloudwatchMetricAlarm>>;
}

/**
 * Creates the app tier's alarms in `scope`, the monitoring construct, with what they count: a metric filter
 * on the boot script's failure line, and EventBridge rules matching unsuccessful launches and Spot interruption
 * warnings.
 */
export function computeAlarms(
  scope: Construct,
  routing: AlarmRouting,
  watched: MonitoredCompute,
  t: ComputeAlarmThresholds,
): ComputeAlarms {
  const name = (suffix: string) => `${routing.namePrefix}-${suffix}`;
  const period = routing.periodSeconds;
  const asg = { AutoScalingGroupName: watched.autoScalingGroupName };
  const appNamespace = watched.metricsNamespace;

  new CloudwatchLogMetricFilter(scope, "boot-failures-filter", {
    name: name("boot-failures"),
    logGroupName: watched.logGroupName,
    pattern: watched.bootFailurePattern,
    metricTransformation: { name: "BootFailures", namespace: appNamespace, value: "1", defaultValue: "0" },
  });
  const launchFailures = new CloudwatchEventRule(scope, "launch-unsuccessful", {
    name: name("launch-unsuccessful"),
    description: "Instance launches that failed or whose launch lifecycle action was abandoned or timed out",
    eventPattern: JSON.stringify({
      source: ["aws.autoscaling"],
      "detail-type": ["EC2 Instance Launch Unsuccessful"],
      detail: { AutoScalingGroupName: [watched.autoScalingGroupName] },
    }),
  });
  // EC2's interruption warning names the instance, not its group: the rule counts the account's in this region.
  const spotWarnings = watched.launchesSpot
    ? new CloudwatchEventRule(scope, "spot-interruption-warnings", {
        name: name("spot-interruptions"),
        description: "EC2 Spot interruption warnings (two minutes before EC2 reclaims an instance) in this account and region",
        eventPattern: JSON.stringify({ source: ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"] }),
      })
    : undefined;
  // A shortfall lasting longer than any launch can take means replacements are failing, not just slow.
  const shortfallPeriod = Math.max(period, 300);
  const shortfallPeriods = Math.ceil((watched.launchWindowSeconds ?? 1800) / shortfallPeriod) + 1;

  const inServiceBelowMinimum = metricAlarm(scope, routing, {
    id: "in-service-below-minimum",
    description:
      "Fewer instances are in service than the group's minimum: look first at the group's activity history, then the boot failure alarm.",
    comparison: "GreaterThanOrEqualToThreshold",
    threshold: 1,
    missing: "breaching",
    queries: [
      {
        id: "inservice",
        metric: { namespace: "AWS/AutoScaling", metricName: "GroupInServiceInstances", dimensions: asg, stat: "Minimum", period },
      },
      { id: "minimum", metric: { namespace: "AWS/AutoScaling", metricName: "GroupMinSize", dimensions: asg, stat: "Maximum", period } },
      { id: "short", expression: "IF(inservice < minimum, 1, 0)", label: "In service below minimum", returnData: true },
    ],
  });
  const bootFailures = metricAlarm(scope, routing, {
    id: "boot-failures",
    description:
      "An instance failed to boot and abandoned its launch: look first at the failing step's log stream `<instance>/<step>` in the app log group.",
    comparison: "GreaterThanThreshold",
    threshold: 0,
    missing: "notBreaching",
    evaluationPeriods: 1,
    metric: { namespace: appNamespace, name: "BootFailures", dimensions: {}, statistic: "Sum" },
  });
  const launchAbandoned = metricAlarm(scope, routing, {
    id: "launch-abandoned",
    description:
      "A launch was unsuccessful (abandoned or timed-out lifecycle action): look first at the group's activity history for the status message.",
    comparison: "GreaterThanThreshold",
    threshold: 0,
    missing: "notBreaching",
    evaluationPeriods: 1,
    metric: { namespace: "AWS/Events", name: "MatchedEvents", dimensions: { RuleName: launchFailures.name }, statistic: "Sum" },
  });
  const replacementShortfall = metricAlarm(scope, routing, {
    id: "replacement-shortfall",
    description:
      "Fewer instances in service than the group wants, for longer than a launch can take: replacements (of interrupted Spot Instances, unhealthy instances, a scale-out) are failing. Look first at the group's activity history (no capacity for any listed type? a boot failing?), then the launch-abandoned and boot-failures alarms.",
    comparison: "GreaterThanOrEqualToThreshold",
    threshold: 1,
    missing: "notBreaching",
    evaluationPeriods: shortfallPeriods,
    queries: [
      {
        id: "inservice",
        metric: {
          namespace: "AWS/AutoScaling",
          metricName: "GroupInServiceInstances",
          dimensions: asg,
          stat: "Maximum",
          period: shortfallPeriod,
        },
      },
      {
        id: "desired",
        metric: {
          namespace: "AWS/AutoScaling",
          metricName: "GroupDesiredCapacity",
          dimensions: asg,
          stat: "Minimum",
          period: shortfallPeriod,
        },
      },
      { id: "short", expression: "IF(inservice < desired, 1, 0)", label: "In service below desired", returnData: true },
    ],
  });
  const spotInterruptions = spotWarnings
    ? metricAlarm(scope, routing, {
        id: "spot-interruptions",
        description:
          "Spot Instances are interrupted often. The count is the account's EC2 Spot interruption warnings in this region (the event names no group): look first at this group's activity history for instances taken out of service, then widen compute.purchaseMix (more instance types, or a larger On-Demand share).",
        comparison: "GreaterThanThreshold",
        threshold: t.spotInterruptionsPerHour,
        missing: "notBreaching",
        evaluationPeriods: 1,
        periodSeconds: 3600,
        metric: { namespace: "AWS/Events", name: "MatchedEvents", dimensions: { RuleName: spotWarnings.name }, statistic: "Sum" },
      })
    : undefined;
  const groupCpuHigh = metricAlarm(scope, routing, {
    id: "group-cpu-high",
    description:
      "CPU is high across the group: look first at whether scaling is at its maximum and at the target-tracking policy's activity.",
    comparison: "GreaterThanThreshold",
    threshold: t.groupCpuPercent,
    missing: "notBreaching",
    metric: { namespace: "AWS/EC2", name: "CPUUtilization", dimensions: asg, statistic: "Average" },
  });
  // The timed jobs' runner records these itself (webapp-jobs, put-metric-data); docs/runbooks.md, 11.
  const jobs = Object.fromEntries(
    JOB_ALARMS.map((alarm) => [
      alarm.id,
      metricAlarm(scope, routing, {
        id: alarm.id,
        description: alarm.description,
        comparison: "GreaterThanThreshold",
        threshold: 0,
        missing: "notBreaching",
        evaluationPeriods: 1,
        metric: { namespace: appNamespace, name: alarm.metric, dimensions: {}, statistic: "Sum" },
      }),
    ]),
  ) as Record<JobAlarmId, CloudwatchMetricAlarm>;

  return { inServiceBelowMinimum, bootFailures, launchAbandoned, replacementShortfall, spotInterruptions, groupCpuHigh, jobs };
}

/**
 * An instance refresh of `group` rolls itself back when any of `alarms` goes into ALARM during the rollout
 * (alarm-based rollback; the refresh's preferences turn auto rollback on).
 */
export function rollBackRefreshOn(group: AutoscalingGroup, alarms: readonly CloudwatchMetricAlarm[]): void {
  group.instanceRefresh.preferences.putAlarmSpecification({ alarms: alarms.map((alarm) => alarm.alarmName) });
}
