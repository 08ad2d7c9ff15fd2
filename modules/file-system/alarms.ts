// The file system's alarms: I/O near the General Purpose limit and, with bursting throughput, burst credits
// running out. Created in the monitoring construct's scope, routed as it says (modules/monitoring/alarm.ts).
import { Construct } from "constructs";
import type { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { AlarmRouting, metricAlarm } from "../monitoring/alarm";

/** What the alarms read from the file system. */
export interface MonitoredFileSystem {
  readonly fileSystemId: string;
  /** `bursting` adds a burst-credit alarm. */
  readonly throughputMode: string;
}

/** The thresholds these alarms read (`monitoring.thresholds`). */
export interface FileSystemAlarmThresholds {
  readonly fileSystemIoLimitPercent: number;
  readonly fileSystemBurstCreditGiB: number;
}

export interface FileSystemAlarms {
  readonly ioLimit: CloudwatchMetricAlarm;
  /** Only with bursting throughput. */
  readonly burstCredits?: CloudwatchMetricAlarm;
}

/** Creates the file system's alarms in `scope`, the monitoring construct. */
export function fileSystemAlarms(
  scope: Construct,
  routing: AlarmRouting,
  watched: MonitoredFileSystem,
  t: FileSystemAlarmThresholds,
): FileSystemAlarms {
  const fs = { FileSystemId: watched.fileSystemId };
  return {
    ioLimit: metricAlarm(scope, routing, {
      id: "efs-io-limit",
      description: "EFS is near its I/O limit, so uploads slow down: look first at which instances do heavy file I/O.",
      comparison: "GreaterThanThreshold",
      threshold: t.fileSystemIoLimitPercent,
      missing: "notBreaching",
      metric: { namespace: "AWS/EFS", name: "PercentIOLimit", dimensions: fs, statistic: "Maximum" },
    }),
    burstCredits:
      watched.throughputMode === "bursting"
        ? metricAlarm(scope, routing, {
            id: "efs-burst-credits",
            description: "EFS burst credits are running out; throughput will drop to the baseline: consider elastic throughput.",
            comparison: "LessThanThreshold",
            threshold: t.fileSystemBurstCreditGiB * 1024 ** 3,
            missing: "missing",
            metric: { namespace: "AWS/EFS", name: "BurstCreditBalance", dimensions: fs, statistic: "Minimum" },
          })
        : undefined,
  };
}
