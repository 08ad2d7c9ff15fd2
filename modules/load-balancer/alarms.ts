// The load balancer's alarms: 5xx from the balancer and from the app as rates of requests, p95 latency,
// unhealthy and no healthy targets, rejected connections. Created in the monitoring construct's scope, routed
// as it says (modules/monitoring/alarm.ts).
import { Construct } from "constructs";
import type { CloudwatchMetricAlarm, CloudwatchMetricAlarmMetricQuery } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { AlarmRouting, metricAlarm } from "../monitoring/alarm";

/** What the alarms read from the load balancer. */
export interface MonitoredLoadBalancer {
  readonly loadBalancerArnSuffix: string;
  readonly targetGroupArnSuffix: string;
}

/** The thresholds these alarms read (`monitoring.thresholds`). */
export interface LoadBalancerAlarmThresholds {
  readonly loadBalancer5xxPercent: number;
  readonly target5xxPercent: number;
  readonly targetResponseP95Seconds: number;
  readonly rejectedConnections: number;
}

export interface LoadBalancerAlarms {
  readonly alb5xxRate: CloudwatchMetricAlarm;
  readonly target5xxRate: CloudwatchMetricAlarm;
  readonly targetP95Latency: CloudwatchMetricAlarm;
  readonly unhealthyHosts: CloudwatchMetricAlarm;
  readonly noHealthyHosts: CloudwatchMetricAlarm;
  readonly rejectedConnections: CloudwatchMetricAlarm;
}

/** Creates the load balancer's alarms in `scope`, the monitoring construct. */
export function loadBalancerAlarms(
  scope: Construct,
  routing: AlarmRouting,
  watched: MonitoredLoadBalancer,
  t: LoadBalancerAlarmThresholds,
): LoadBalancerAlarms {
  const period = routing.periodSeconds;
  const lb = { LoadBalancer: watched.loadBalancerArnSuffix };
  const tg = { LoadBalancer: watched.loadBalancerArnSuffix, TargetGroup: watched.targetGroupArnSuffix };
  const rate = (numerator: string, label: string): CloudwatchMetricAlarmMetricQuery[] => [
    {
      id: "errors",
      metric: {
        namespace: "AWS/ApplicationELB",
        metricName: numerator,
        dimensions: numerator.startsWith("HTTPCode_Target") ? tg : lb,
        stat: "Sum",
        period,
      },
    },
    {
      id: "requests",
      metric: {
        namespace: "AWS/ApplicationELB",
        metricName: "RequestCount",
        dimensions: numerator.startsWith("HTTPCode_Target") ? tg : lb,
        stat: "Sum",
        period,
      },
    },
    { id: "rate", expression: "IF(requests > 0, 100 * errors / requests, 0)", label, returnData: true },
  ];

  return {
    alb5xxRate: metricAlarm(scope, routing, {
      id: "alb-5xx-rate",
      description:
        "The load balancer itself answers 5xx (502/503/504): look first at target health and the app's log stream `<instance>/app`; 503 means no healthy targets.",
      comparison: "GreaterThanThreshold",
      threshold: t.loadBalancer5xxPercent,
      missing: "notBreaching",
      queries: rate("HTTPCode_ELB_5XX_Count", "ELB 5xx % of requests"),
    }),
    target5xxRate: metricAlarm(scope, routing, {
      id: "target-5xx-rate",
      description: "The app answers 5xx: look first at the app log stream `<instance>/app` and at the database and cache alarms.",
      comparison: "GreaterThanThreshold",
      threshold: t.target5xxPercent,
      missing: "notBreaching",
      queries: rate("HTTPCode_Target_5XX_Count", "Target 5xx % of requests"),
    }),
    targetP95Latency: metricAlarm(scope, routing, {
      id: "target-p95-latency",
      description:
        "p95 response time is high: look first at group CPU, database CPU and connections, then slow queries in the database log exports.",
      comparison: "GreaterThanThreshold",
      threshold: t.targetResponseP95Seconds,
      missing: "notBreaching",
      metric: { namespace: "AWS/ApplicationELB", name: "TargetResponseTime", dimensions: tg, extendedStatistic: "p95" },
    }),
    unhealthyHosts: metricAlarm(scope, routing, {
      id: "unhealthy-hosts",
      description:
        "At least one instance fails its health check: look first at the instance's boot log streams `<instance>/<step>` and the app stream.",
      comparison: "GreaterThanThreshold",
      threshold: 0,
      missing: "notBreaching",
      metric: { namespace: "AWS/ApplicationELB", name: "UnHealthyHostCount", dimensions: tg, statistic: "Maximum" },
    }),
    noHealthyHosts: metricAlarm(scope, routing, {
      id: "no-healthy-hosts",
      description:
        "No instance is healthy, so users get 503s: look first at the Auto Scaling group's activity history and the boot failure alarm. No data is treated as down.",
      comparison: "LessThanThreshold",
      threshold: 1,
      missing: "breaching",
      evaluationPeriods: Math.min(routing.evaluationPeriods, 2),
      metric: { namespace: "AWS/ApplicationELB", name: "HealthyHostCount", dimensions: tg, statistic: "Minimum" },
    }),
    rejectedConnections: metricAlarm(scope, routing, {
      id: "rejected-connections",
      description:
        "The load balancer rejected connections at its limit: look first at traffic (RequestCount) and whether the group is at its maximum size.",
      comparison: "GreaterThanThreshold",
      threshold: t.rejectedConnections,
      missing: "notBreaching",
      metric: { namespace: "AWS/ApplicationELB", name: "RejectedConnectionCount", dimensions: lb, statistic: "Sum" },
    }),
  };
}
