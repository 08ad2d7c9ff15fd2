// The database's alarms: CPU, free storage, freeable memory, connections. Created in the monitoring construct's
// scope, routed as it says (modules/monitoring/alarm.ts).
import { Construct } from "constructs";
import type { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { AlarmRouting, metricAlarm } from "../monitoring/alarm";

/** What the alarms read from the database. */
export interface MonitoredDatabase {
  readonly identifier: string;
}

/** The thresholds these alarms read (`monitoring.thresholds`). */
export interface DatabaseAlarmThresholds {
  readonly databaseCpuPercent: number;
  readonly databaseFreeStorageGiB: number;
  readonly databaseFreeableMemoryMiB: number;
  readonly databaseConnections: number;
}

export interface DatabaseAlarms {
  readonly cpu: CloudwatchMetricAlarm;
  readonly freeStorage: CloudwatchMetricAlarm;
  readonly freeableMemory: CloudwatchMetricAlarm;
  readonly connections: CloudwatchMetricAlarm;
}

/** Creates the database's alarms in `scope`, the monitoring construct. */
export function databaseAlarms(
  scope: Construct,
  routing: AlarmRouting,
  watched: MonitoredDatabase,
  t: DatabaseAlarmThresholds,
): DatabaseAlarms {
  const db = { DBInstanceIdentifier: watched.identifier };
  return {
    cpu: metricAlarm(scope, routing, {
      id: "database-cpu",
      description: "Database CPU is high: look first at Performance Insights' top SQL.",
      comparison: "GreaterThanThreshold",
      threshold: t.databaseCpuPercent,
      missing: "missing",
      metric: { namespace: "AWS/RDS", name: "CPUUtilization", dimensions: db, statistic: "Average" },
    }),
    freeStorage: metricAlarm(scope, routing, {
      id: "database-free-storage",
      description:
        "Database storage is running out: look first at storage autoscaling's ceiling (max allocated storage) and at table growth.",
      comparison: "LessThanThreshold",
      threshold: t.databaseFreeStorageGiB * 1024 ** 3,
      missing: "missing",
      metric: { namespace: "AWS/RDS", name: "FreeStorageSpace", dimensions: db, statistic: "Minimum" },
    }),
    freeableMemory: metricAlarm(scope, routing, {
      id: "database-freeable-memory",
      description: "Database memory is low: look first at connection count and the instance class.",
      comparison: "LessThanThreshold",
      threshold: t.databaseFreeableMemoryMiB * 1024 ** 2,
      missing: "missing",
      metric: { namespace: "AWS/RDS", name: "FreeableMemory", dimensions: db, statistic: "Minimum" },
    }),
    connections: metricAlarm(scope, routing, {
      id: "database-connections",
      description: "Many database connections are open: look first at the app's pool size times the number of instances.",
      comparison: "GreaterThanThreshold",
      threshold: t.databaseConnections,
      missing: "missing",
      metric: { namespace: "AWS/RDS", name: "DatabaseConnections", dimensions: db, statistic: "Maximum" },
    }),
  };
}
