// The certificate's alarm: close to expiry without having renewed. Created in the monitoring construct's scope,
// routed as it says (modules/monitoring/alarm.ts).
import { Construct } from "constructs";
import type { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { AlarmRouting, metricAlarm } from "../monitoring/alarm";

/** What the alarm reads from the certificate. */
export interface MonitoredCertificate {
  readonly certificateArn: string;
}

/** The threshold this alarm reads (`monitoring.thresholds`). */
export interface CertificateAlarmThresholds {
  readonly certificateExpiryDays: number;
}

export interface CertificateAlarms {
  readonly expiry: CloudwatchMetricAlarm;
}

/** Creates the certificate's alarm in `scope`, the monitoring construct. ACM reports days to expiry once a day. */
export function certificateAlarms(
  scope: Construct,
  routing: AlarmRouting,
  watched: MonitoredCertificate,
  t: CertificateAlarmThresholds,
): CertificateAlarms {
  return {
    expiry: metricAlarm(scope, routing, {
      id: "certificate-expiry",
      description:
        "The certificate is close to expiry and has not renewed: look first at its DNS validation records (ACM renews only while they resolve).",
      comparison: "LessThanThreshold",
      threshold: t.certificateExpiryDays,
      missing: "ignore",
      evaluationPeriods: 1,
      periodSeconds: 86400,
      metric: {
        namespace: "AWS/CertificateManager",
        name: "DaysToExpiry",
        dimensions: { CertificateArn: watched.certificateArn },
        statistic: "Minimum",
      },
    }),
  };
}
