// The cache's alarms, per node: memory, evictions, engine CPU and, where the group has replicas, replica lag.
// Created in the monitoring construct's scope, routed as it says (modules/monitoring/alarm.ts).
import { Construct } from "constructs";
import type { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { AlarmRouting, metricAlarm } from "../monitoring/alarm";

/** What the alarms read from the cache. */
export interface MonitoredCache {
  readonly replicationGroupId: string;
  /** Nodes in the group; member clusters are `<id>-001` ... */
  readonly nodeCount: number;
}

/** The thresholds these alarms read (`monitoring.thresholds`). */
export interface CacheAlarmThresholds {
  readonly cacheMemoryPercent: number;
  readonly cacheEvictions: number;
  readonly cacheCpuPercent: number;
  readonly cacheReplicationLagSeconds: number;
}

/** One node's alarms. */
export interface CacheNodeAlarms {
  readonly memory: CloudwatchMetricAlarm;
  readonly evictions: CloudwatchMetricAlarm;
  readonly cpu: CloudwatchMetricAlarm;
  /** Only where the group has replicas. */
  readonly replicationLag?: CloudwatchMetricAlarm;
}

export interface CacheAlarms {
  /** In node order: `nodes[0]` watches `<id>-001`. */
  readonly nodes: readonly CacheNodeAlarms[];
}

/** Member cluster ids of a replication group without cluster mode: `<id>-001`, `<id>-002`, ... */
export function cacheNodeIds(cache: MonitoredCache): string[] {
  return Array.from({ length: cache.nodeCount }, (_, i) => `${cache.replicationGroupId}-${String(i + 1).padStart(3, "0")}`);
}

/** Creates the cache's alarms in `scope`, the monitoring construct: `cache-<n>-<what>` for node n (from 1). */
export function cacheAlarms(scope: Construct, routing: AlarmRouting, watched: MonitoredCache, t: CacheAlarmThresholds): CacheAlarms {
  const nodes = cacheNodeIds(watched).map((clusterId, i): CacheNodeAlarms => {
    const node = { CacheClusterId: clusterId };
    const n = i + 1;
    return {
      memory: metricAlarm(scope, routing, {
        id: `cache-${n}-memory`,
        description:
          "Redis memory is nearly full, so keys (locks, sessions) may be evicted: look first at key counts and TTLs, then the node type.",
        comparison: "GreaterThanThreshold",
        threshold: t.cacheMemoryPercent,
        missing: "missing",
        metric: { namespace: "AWS/ElastiCache", name: "DatabaseMemoryUsagePercentage", dimensions: node, statistic: "Maximum" },
      }),
      evictions: metricAlarm(scope, routing, {
        id: `cache-${n}-evictions`,
        description: "Redis evicted keys: locks or sessions may have been lost. Look first at memory usage and keys written without a TTL.",
        comparison: "GreaterThanThreshold",
        threshold: t.cacheEvictions,
        missing: "missing",
        evaluationPeriods: 1,
        metric: { namespace: "AWS/ElastiCache", name: "Evictions", dimensions: node, statistic: "Sum" },
      }),
      cpu: metricAlarm(scope, routing, {
        id: `cache-${n}-cpu`,
        description: "Redis engine CPU is high: look first at slow-log entries in the cache's log group.",
        comparison: "GreaterThanThreshold",
        threshold: t.cacheCpuPercent,
        missing: "missing",
        metric: { namespace: "AWS/ElastiCache", name: "EngineCPUUtilization", dimensions: node, statistic: "Average" },
      }),
      replicationLag:
        watched.nodeCount > 1
          ? metricAlarm(scope, routing, {
              id: `cache-${n}-replication-lag`,
              description: "A Redis replica lags its primary: look first at network throughput and write volume on the primary.",
              comparison: "GreaterThanThreshold",
              threshold: t.cacheReplicationLagSeconds,
              missing: "notBreaching",
              metric: { namespace: "AWS/ElastiCache", name: "ReplicationLag", dimensions: node, statistic: "Maximum" },
            })
          : undefined,
    };
  });
  return { nodes };
}
