// One CloudWatch metric alarm as every capability's alarms make it: named after the environment, timed by the
// environment's period and evaluation periods, and routed (ALARM and OK) where the monitoring construct says.
// The capabilities describe their alarms here and create them in the monitoring construct's scope.
import { Construct } from "constructs";
import { CloudwatchMetricAlarm, CloudwatchMetricAlarmMetricQuery } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";

export type Comparison = "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold" | "LessThanOrEqualToThreshold";
export type MissingData = "missing" | "notBreaching" | "breaching" | "ignore";

/** How the environment's alarms are named, timed and routed; set once by the monitoring construct. */
export interface AlarmRouting {
  /** Every alarm is named `<namePrefix>-<id>`. */
  readonly namePrefix: string;
  /** Period of every metric alarm that states none of its own, in seconds. */
  readonly periodSeconds: number;
  /** Consecutive periods that must breach, for every alarm that states none of its own. */
  readonly evaluationPeriods: number;
  /** Where ALARM and OK notifications go: the alarm topic, or nowhere. */
  readonly actions: string[];
}

/** One alarm: either a single metric or a metric-math expression over queries. */
export interface AlarmSpec {
  /** The construct id in the monitoring construct, and the alarm name's suffix. */
  readonly id: string;
  /** What the alarm means and what to look at first. */
  readonly description: string;
  readonly comparison: Comparison;
  readonly threshold: number;
  readonly missing: MissingData;
  readonly metric?: {
    readonly namespace: string;
    readonly name: string;
    readonly dimensions: Record<string, string>;
    readonly statistic?: string;
    readonly extendedStatistic?: string;
  };
  readonly queries?: CloudwatchMetricAlarmMetricQuery[];
  /** Periods that must breach; @default the environment's evaluationPeriods */
  readonly evaluationPeriods?: number;
  /** @default the environment's period */
  readonly periodSeconds?: number;
}

/**
 * Creates the alarm `spec` describes as a child of `scope` (the monitoring construct: the id decides the
 * resource's Terraform name), notifying `routing.actions` on ALARM and on OK.
 */
export function metricAlarm(scope: Construct, routing: AlarmRouting, spec: AlarmSpec): CloudwatchMetricAlarm {
  return new CloudwatchMetricAlarm(scope, spec.id, {
    alarmName: `${routing.namePrefix}-${spec.id}`,
    alarmDescription: spec.description,
    comparisonOperator: spec.comparison,
    threshold: spec.threshold,
    evaluationPeriods: spec.evaluationPeriods ?? routing.evaluationPeriods,
    treatMissingData: spec.missing,
    alarmActions: routing.actions,
    okActions: routing.actions,
    ...(spec.metric
      ? {
          namespace: spec.metric.namespace,
          metricName: spec.metric.name,
          dimensions: Object.keys(spec.metric.dimensions).length > 0 ? spec.metric.dimensions : undefined,
          period: spec.periodSeconds ?? routing.periodSeconds,
          statistic: spec.metric.statistic,
          extendedStatistic: spec.metric.extendedStatistic,
        }
      : { metricQuery: spec.queries }),
  });
}
