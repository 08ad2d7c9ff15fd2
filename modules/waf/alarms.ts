// The web ACL's alarm: a spike of blocked requests. Created in the monitoring construct's scope, routed as it
// says (modules/monitoring/alarm.ts).
import { Construct } from "constructs";
import type { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { AlarmRouting, metricAlarm } from "../monitoring/alarm";

/** What the alarm reads from the web ACL. */
export interface MonitoredWaf {
  readonly webAclName: string;
  /** The web ACL's region (a dimension of its metrics). */
  readonly region: string;
}

/** The threshold this alarm reads (`monitoring.thresholds`). */
export interface WafAlarmThresholds {
  readonly wafBlockedRequests: number;
}

export interface WafAlarms {
  readonly blockedSpike: CloudwatchMetricAlarm;
}

/** Creates the web ACL's alarm in `scope`, the monitoring construct. */
export function wafAlarms(scope: Construct, routing: AlarmRouting, watched: MonitoredWaf, t: WafAlarmThresholds): WafAlarms {
  return {
    blockedSpike: metricAlarm(scope, routing, {
      id: "waf-blocked-spike",
      description:
        "The WAF is blocking an unusual number of requests: look first at the web ACL's sampled requests to tell an attack from a false positive.",
      comparison: "GreaterThanThreshold",
      threshold: t.wafBlockedRequests,
      missing: "notBreaching",
      metric: {
        namespace: "AWS/WAFV2",
        name: "BlockedRequests",
        dimensions: { WebACL: watched.webAclName, Region: watched.region, Rule: "ALL" },
        statistic: "Sum",
      },
    }),
  };
}
