// Signals for the on-call developer: an encrypted SNS topic with email subscriptions, alarms on the edge,
// compute and data tiers (each notifying on ALARM and OK, with a description of what to look at first),
// and one dashboard. It reads the other modules through narrow refs and creates nothing they own.
import { Construct } from "constructs";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { CloudwatchMetricAlarm, CloudwatchMetricAlarmMetricQuery } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { EncryptionKey } from "../primitives/encryption-key";
import { policyDocument } from "../primitives/policy";
import { assertValid, Problems } from "../primitives/validation";

/** Alarm thresholds; percentages are 0-100, counts whole and non-negative. */
export interface AlarmThresholds {
  /** Load-balancer-generated 5xx responses as a percentage of requests. @default 5 */
  readonly loadBalancer5xxPercent: number;
  /** Target (app) 5xx responses as a percentage of requests. @default 5 */
  readonly target5xxPercent: number;
  /** p95 target response time, in seconds. @default 2 */
  readonly targetResponseP95Seconds: number;
  /** Connections rejected because the load balancer was at its connection limit, per period. @default 0 */
  readonly rejectedConnections: number;
  /** Requests the WAF blocked in one period before it is called a spike. @default 500 */
  readonly wafBlockedRequests: number;
  /** Alarm when the certificate expires in fewer days than this. @default 30 */
  readonly certificateExpiryDays: number;
  /** Average CPU across the group. @default 80 */
  readonly groupCpuPercent: number;
  /** @default 80 */
  readonly databaseCpuPercent: number;
  /** @default 5 */
  readonly databaseFreeStorageGiB: number;
  /** @default 256 */
  readonly databaseFreeableMemoryMiB: number;
  /** Open database connections. @default 200 */
  readonly databaseConnections: number;
  /** Redis memory used, as a percentage of what it may use. @default 80 */
  readonly cacheMemoryPercent: number;
  /** Keys evicted per period (locks and sessions must never be evicted). @default 0 */
  readonly cacheEvictions: number;
  /** Redis engine CPU. @default 80 */
  readonly cacheCpuPercent: number;
  /** Replica lag, in seconds (only where the group has replicas). @default 30 */
  readonly cacheReplicationLagSeconds: number;
  /** EFS I/O as a percentage of the General Purpose limit. @default 95 */
  readonly fileSystemIoLimitPercent: number;
  /** EFS burst credits left, in GiB (bursting throughput only). @default 100 */
  readonly fileSystemBurstCreditGiB: number;
  /** Spot interruption warnings in one hour before it is called a storm (groups that buy Spot only). @default 2 */
  readonly spotInterruptionsPerHour: number;
}

export const DEFAULT_THRESHOLDS: AlarmThresholds = {
  loadBalancer5xxPercent: 5,
  target5xxPercent: 5,
  targetResponseP95Seconds: 2,
  rejectedConnections: 0,
  wafBlockedRequests: 500,
  certificateExpiryDays: 30,
  groupCpuPercent: 80,
  databaseCpuPercent: 80,
  databaseFreeStorageGiB: 5,
  databaseFreeableMemoryMiB: 256,
  databaseConnections: 200,
  cacheMemoryPercent: 80,
  cacheEvictions: 0,
  cacheCpuPercent: 80,
  cacheReplicationLagSeconds: 30,
  fileSystemIoLimitPercent: 95,
  fileSystemBurstCreditGiB: 100,
  spotInterruptionsPerHour: 2,
};

const PERCENT_FIELDS: readonly (keyof AlarmThresholds)[] = [
  "loadBalancer5xxPercent",
  "target5xxPercent",
  "groupCpuPercent",
  "databaseCpuPercent",
  "cacheMemoryPercent",
  "cacheCpuPercent",
  "fileSystemIoLimitPercent",
];
const COUNT_FIELDS: readonly (keyof AlarmThresholds)[] = ["rejectedConnections", "wafBlockedRequests", "databaseConnections", "cacheEvictions", "spotInterruptionsPerHour"];

export interface MonitoringSettings {
  /** Create the environment's alarm topic. */
  readonly topic: boolean;
  /** Email addresses subscribed to the topic (each confirms by email). @default [] */
  readonly alarmEmails?: readonly string[];
  /** Period of every metric alarm, in seconds (60 or a multiple of 60). @default 60 */
  readonly periodSeconds?: number;
  /** Consecutive periods that must breach before an alarm fires. @default 5 */
  readonly evaluationPeriods?: number;
  /** Thresholds that differ from `DEFAULT_THRESHOLDS`. @default {} */
  readonly thresholds?: Partial<AlarmThresholds>;
}

/** What the alarms read from the edge. */
export interface MonitoredEdge {
  readonly loadBalancerArnSuffix: string;
  readonly targetGroupArnSuffix: string;
  readonly certificateArn: string;
  /** The web ACL's name, where WAF is on. */
  readonly webAclName?: string;
}

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

export interface MonitoredDatabase {
  readonly identifier: string;
}

export interface MonitoredCache {
  readonly replicationGroupId: string;
  /** Nodes in the group; member clusters are `<id>-001` ... */
  readonly nodeCount: number;
}

export interface MonitoredFileSystem {
  readonly fileSystemId: string;
  /** `bursting` adds a burst-credit alarm. */
  readonly throughputMode: string;
}

export interface MonitoringProps extends MonitoringSettings {
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
  readonly edge: MonitoredEdge;
  readonly compute: MonitoredCompute;
  readonly database: MonitoredDatabase;
  readonly cache: MonitoredCache;
  readonly fileSystem: MonitoredFileSystem;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function checkMonitoringSettings(props: MonitoringSettings, problems: Problems): void {
  const emails = props.alarmEmails ?? [];
  emails.forEach((email, i) => {
    problems.check(EMAIL.test(email), `alarmEmails[${i}]`, email, "not an email address");
    // SNS keeps one subscription per topic and address: a second resource gets the same subscription, and
    // destroying either removes it for both. Mail providers treat addresses case-insensitively.
    const first = emails.findIndex((e) => e.toLowerCase() === email.toLowerCase());
    problems.check(first === i, `alarmEmails[${i}]`, email, `repeats alarmEmails[${first}]`);
  });
  problems.check(props.topic || emails.length === 0, "alarmEmails", emails, "subscriptions need a topic: set topic to true or remove them");
  const period = props.periodSeconds ?? 60;
  problems.check(Number.isInteger(period) && period >= 60 && period % 60 === 0, "periodSeconds", period, "CloudWatch alarms take 60 seconds or a multiple of 60");
  const evaluations = props.evaluationPeriods ?? 5;
  problems.check(Number.isInteger(evaluations) && evaluations >= 1 && evaluations * period <= 86400, "evaluationPeriods", evaluations, "must be a whole number of periods, at least 1, spanning at most one day");
  const thresholds = props.thresholds ?? {};
  for (const [field, value] of Object.entries(thresholds) as [keyof AlarmThresholds, number][]) {
    const path = `thresholds.${field}`;
    if (!(field in DEFAULT_THRESHOLDS)) {
      problems.add(path, value, `unknown threshold; known: ${Object.keys(DEFAULT_THRESHOLDS).join(", ")}`);
    } else if (PERCENT_FIELDS.includes(field)) {
      problems.check(typeof value === "number" && value >= 0 && value <= 100, path, value, "a percentage must be between 0 and 100");
    } else if (COUNT_FIELDS.includes(field)) {
      problems.check(Number.isInteger(value) && value >= 0, path, value, "a count must be a whole number, 0 or more");
    } else {
      problems.check(typeof value === "number" && value > 0, path, value, "must be greater than 0");
    }
  }
}

/** Alarms on the metrics the timed jobs' runner records (each datapoint is one slot or one claim). */
export const JOB_ALARMS: readonly { readonly id: string; readonly metric: string; readonly description: string }[] = [
  {
    id: "job-failures",
    metric: "JobFailures",
    description: "A timed job's slot failed on its last attempt (or its holder died on it) and will not run again by itself: look first at the `<instance>/cron` log stream and `webapp-jobs status` (docs/runbooks.md, 11).",
  },
  {
    id: "jobs-missed",
    metric: "JobsMissed",
    description: "A timed job's slot passed its backfill window with no instance claiming it (no instance in service, or the jobs table unreachable): look first at the group's in-service count and the `<instance>/cron` log stream (docs/runbooks.md, 11).",
  },
  {
    id: "job-leases-lost",
    metric: "JobLeasesLost",
    description: "A timed job's holder stopped renewing its claim (instance lost, killed, or cut off from DynamoDB) and another instance took the slot over, so its work may have run twice: look first at the group's activity history, then the `<instance>/cron` log stream (docs/runbooks.md, 11).",
  },
  {
    id: "lock-failures",
    metric: "LockFailures",
    description: "A timed job ran on its slot claim alone because Redis was unreachable or refused its lock: each slot still ran once, but two slots of one job could overlap. Look first at the cache alarms (memory: the cache refuses writes when full) and the `<instance>/cron` log stream (docs/runbooks.md, 11).",
  },
];

type Comparison = "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold" | "LessThanOrEqualToThreshold";
type MissingData = "missing" | "notBreaching" | "breaching" | "ignore";

/** One alarm: either a single metric or a metric-math expression over queries. */
interface AlarmSpec {
  readonly id: string;
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

export class Monitoring extends Construct {
  readonly topic?: SnsTopic;
  readonly alarms: Readonly<Record<string, CloudwatchMetricAlarm>>;
  readonly dashboard: CloudwatchDashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    assertValid(this, props, checkMonitoringSettings);
    const t: AlarmThresholds = { ...DEFAULT_THRESHOLDS, ...(props.thresholds ?? {}) };
    const period = props.periodSeconds ?? 60;
    const evaluations = props.evaluationPeriods ?? 5;
    const name = (suffix: string) => `${props.namePrefix}-${suffix}`;
    const { edge, compute, database, cache, fileSystem } = props;
    const lb = { LoadBalancer: edge.loadBalancerArnSuffix };
    const tg = { LoadBalancer: edge.loadBalancerArnSuffix, TargetGroup: edge.targetGroupArnSuffix };
    const asg = { AutoScalingGroupName: compute.autoScalingGroupName };
    const db = { DBInstanceIdentifier: database.identifier };
    const appNamespace = compute.metricsNamespace;

    if (props.topic) {
      const key = new EncryptionKey(this, "key", {
        description: `${props.namePrefix}: alarm notifications`,
        alias: name("alarms"),
        accountId: props.accountId,
        services: [{ service: "cloudwatch.amazonaws.com", actions: ["kms:Decrypt", "kms:GenerateDataKey*"] }],
      });
      this.topic = new SnsTopic(this, "topic", { name: name("alarms"), kmsMasterKeyId: key.arn });
      new SnsTopicPolicy(this, "topic-policy", {
        arn: this.topic.arn,
        policy: policyDocument({
          Sid: "CloudWatchAlarmsOfThisAccount",
          Effect: "Allow",
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: "sns:Publish",
          Resource: this.topic.arn,
          Condition: {
            StringEquals: { "aws:SourceAccount": props.accountId },
            ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:${props.region}:${props.accountId}:alarm:${props.namePrefix}-*` },
          },
        }),
      });
      (props.alarmEmails ?? []).forEach((email, i) => {
        new SnsTopicSubscription(this, `email-${i}`, { topicArn: this.topic?.arn ?? "", protocol: "email", endpoint: email });
      });
    }

    new CloudwatchLogMetricFilter(this, "boot-failures-filter", {
      name: name("boot-failures"),
      logGroupName: compute.logGroupName,
      pattern: compute.bootFailurePattern,
      metricTransformation: { name: "BootFailures", namespace: appNamespace, value: "1", defaultValue: "0" },
    });
    const launchFailures = new CloudwatchEventRule(this, "launch-unsuccessful", {
      name: name("launch-unsuccessful"),
      description: "Instance launches that failed or whose launch lifecycle action was abandoned or timed out",
      eventPattern: JSON.stringify({
        source: ["aws.autoscaling"],
        "detail-type": ["EC2 Instance Launch Unsuccessful"],
        detail: { AutoScalingGroupName: [compute.autoScalingGroupName] },
      }),
    });

    // EC2's interruption warning names the instance, not its group: the rule counts the account's in this region.
    const spotInterruptions = compute.launchesSpot
      ? new CloudwatchEventRule(this, "spot-interruption-warnings", {
          name: name("spot-interruptions"),
          description: "EC2 Spot interruption warnings (two minutes before EC2 reclaims an instance) in this account and region",
          eventPattern: JSON.stringify({ source: ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"] }),
        })
      : undefined;
    // A shortfall lasting longer than any launch can take means replacements are failing, not just slow.
    const shortfallPeriod = Math.max(period, 300);
    const shortfallPeriods = Math.ceil((compute.launchWindowSeconds ?? 1800) / shortfallPeriod) + 1;

    const rate = (numerator: string, label: string): CloudwatchMetricAlarmMetricQuery[] => [
      { id: "errors", metric: { namespace: "AWS/ApplicationELB", metricName: numerator, dimensions: numerator.startsWith("HTTPCode_Target") ? tg : lb, stat: "Sum", period } },
      { id: "requests", metric: { namespace: "AWS/ApplicationELB", metricName: "RequestCount", dimensions: numerator.startsWith("HTTPCode_Target") ? tg : lb, stat: "Sum", period } },
      { id: "rate", expression: "IF(requests > 0, 100 * errors / requests, 0)", label, returnData: true },
    ];

    const specs: AlarmSpec[] = [
      {
        id: "alb-5xx-rate",
        description: "The load balancer itself answers 5xx (502/503/504): look first at target health and the app's log stream `<instance>/app`; 503 means no healthy targets.",
        comparison: "GreaterThanThreshold",
        threshold: t.loadBalancer5xxPercent,
        missing: "notBreaching",
        queries: rate("HTTPCode_ELB_5XX_Count", "ELB 5xx % of requests"),
      },
      {
        id: "target-5xx-rate",
        description: "The app answers 5xx: look first at the app log stream `<instance>/app` and at the database and cache alarms.",
        comparison: "GreaterThanThreshold",
        threshold: t.target5xxPercent,
        missing: "notBreaching",
        queries: rate("HTTPCode_Target_5XX_Count", "Target 5xx % of requests"),
      },
      {
        id: "target-p95-latency",
        description: "p95 response time is high: look first at group CPU, database CPU and connections, then slow queries in the database log exports.",
        comparison: "GreaterThanThreshold",
        threshold: t.targetResponseP95Seconds,
        missing: "notBreaching",
        metric: { namespace: "AWS/ApplicationELB", name: "TargetResponseTime", dimensions: tg, extendedStatistic: "p95" },
      },
      {
        id: "unhealthy-hosts",
        description: "At least one instance fails its health check: look first at the instance's boot log streams `<instance>/<step>` and the app stream.",
        comparison: "GreaterThanThreshold",
        threshold: 0,
        missing: "notBreaching",
        metric: { namespace: "AWS/ApplicationELB", name: "UnHealthyHostCount", dimensions: tg, statistic: "Maximum" },
      },
      {
        id: "no-healthy-hosts",
        description: "No instance is healthy, so users get 503s: look first at the Auto Scaling group's activity history and the boot failure alarm. No data is treated as down.",
        comparison: "LessThanThreshold",
        threshold: 1,
        missing: "breaching",
        evaluationPeriods: Math.min(evaluations, 2),
        metric: { namespace: "AWS/ApplicationELB", name: "HealthyHostCount", dimensions: tg, statistic: "Minimum" },
      },
      {
        id: "rejected-connections",
        description: "The load balancer rejected connections at its limit: look first at traffic (RequestCount) and whether the group is at its maximum size.",
        comparison: "GreaterThanThreshold",
        threshold: t.rejectedConnections,
        missing: "notBreaching",
        metric: { namespace: "AWS/ApplicationELB", name: "RejectedConnectionCount", dimensions: lb, statistic: "Sum" },
      },
      ...(edge.webAclName
        ? [
            {
              id: "waf-blocked-spike",
              description: "The WAF is blocking an unusual number of requests: look first at the web ACL's sampled requests to tell an attack from a false positive.",
              comparison: "GreaterThanThreshold" as const,
              threshold: t.wafBlockedRequests,
              missing: "notBreaching" as const,
              metric: { namespace: "AWS/WAFV2", name: "BlockedRequests", dimensions: { WebACL: edge.webAclName, Region: props.region, Rule: "ALL" }, statistic: "Sum" },
            },
          ]
        : []),
      {
        id: "certificate-expiry",
        description: "The certificate is close to expiry and has not renewed: look first at its DNS validation records (ACM renews only while they resolve).",
        comparison: "LessThanThreshold",
        threshold: t.certificateExpiryDays,
        missing: "ignore",
        evaluationPeriods: 1,
        periodSeconds: 86400,
        metric: { namespace: "AWS/CertificateManager", name: "DaysToExpiry", dimensions: { CertificateArn: edge.certificateArn }, statistic: "Minimum" },
      },
      {
        id: "in-service-below-minimum",
        description: "Fewer instances are in service than the group's minimum: look first at the group's activity history, then the boot failure alarm.",
        comparison: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        missing: "breaching",
        queries: [
          { id: "inservice", metric: { namespace: "AWS/AutoScaling", metricName: "GroupInServiceInstances", dimensions: asg, stat: "Minimum", period } },
          { id: "minimum", metric: { namespace: "AWS/AutoScaling", metricName: "GroupMinSize", dimensions: asg, stat: "Maximum", period } },
          { id: "short", expression: "IF(inservice < minimum, 1, 0)", label: "In service below minimum", returnData: true },
        ],
      },
      {
        id: "boot-failures",
        description: "An instance failed to boot and abandoned its launch: look first at the failing step's log stream `<instance>/<step>` in the app log group.",
        comparison: "GreaterThanThreshold",
        threshold: 0,
        missing: "notBreaching",
        evaluationPeriods: 1,
        metric: { namespace: appNamespace, name: "BootFailures", dimensions: {}, statistic: "Sum" },
      },
      {
        id: "launch-abandoned",
        description: "A launch was unsuccessful (abandoned or timed-out lifecycle action): look first at the group's activity history for the status message.",
        comparison: "GreaterThanThreshold",
        threshold: 0,
        missing: "notBreaching",
        evaluationPeriods: 1,
        metric: { namespace: "AWS/Events", name: "MatchedEvents", dimensions: { RuleName: launchFailures.name }, statistic: "Sum" },
      },
      {
        id: "replacement-shortfall",
        description:
          "Fewer instances in service than the group wants, for longer than a launch can take: replacements (of interrupted Spot Instances, unhealthy instances, a scale-out) are failing. Look first at the group's activity history (no capacity for any listed type? a boot failing?), then the launch-abandoned and boot-failures alarms.",
        comparison: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        missing: "notBreaching",
        evaluationPeriods: shortfallPeriods,
        queries: [
          { id: "inservice", metric: { namespace: "AWS/AutoScaling", metricName: "GroupInServiceInstances", dimensions: asg, stat: "Maximum", period: shortfallPeriod } },
          { id: "desired", metric: { namespace: "AWS/AutoScaling", metricName: "GroupDesiredCapacity", dimensions: asg, stat: "Minimum", period: shortfallPeriod } },
          { id: "short", expression: "IF(inservice < desired, 1, 0)", label: "In service below desired", returnData: true },
        ],
      },
      ...(spotInterruptions
        ? [
            {
              id: "spot-interruptions",
              description:
                "Spot Instances are interrupted often. The count is the account's EC2 Spot interruption warnings in this region (the event names no group): look first at this group's activity history for instances taken out of service, then widen compute.purchaseMix (more instance types, or a larger On-Demand share).",
              comparison: "GreaterThanThreshold" as const,
              threshold: t.spotInterruptionsPerHour,
              missing: "notBreaching" as const,
              evaluationPeriods: 1,
              periodSeconds: 3600,
              metric: { namespace: "AWS/Events", name: "MatchedEvents", dimensions: { RuleName: spotInterruptions.name }, statistic: "Sum" },
            },
          ]
        : []),
      {
        id: "group-cpu-high",
        description: "CPU is high across the group: look first at whether scaling is at its maximum and at the target-tracking policy's activity.",
        comparison: "GreaterThanThreshold",
        threshold: t.groupCpuPercent,
        missing: "notBreaching",
        metric: { namespace: "AWS/EC2", name: "CPUUtilization", dimensions: asg, statistic: "Average" },
      },
      // The timed jobs' runner records these itself (webapp-jobs, put-metric-data); docs/runbooks.md, 11.
      ...JOB_ALARMS.map((alarm) => ({
        id: alarm.id,
        description: alarm.description,
        comparison: "GreaterThanThreshold" as const,
        threshold: 0,
        missing: "notBreaching" as const,
        evaluationPeriods: 1,
        metric: { namespace: appNamespace, name: alarm.metric, dimensions: {}, statistic: "Sum" },
      })),
      {
        id: "database-cpu",
        description: "Database CPU is high: look first at Performance Insights' top SQL.",
        comparison: "GreaterThanThreshold",
        threshold: t.databaseCpuPercent,
        missing: "missing",
        metric: { namespace: "AWS/RDS", name: "CPUUtilization", dimensions: db, statistic: "Average" },
      },
      {
        id: "database-free-storage",
        description: "Database storage is running out: look first at storage autoscaling's ceiling (max allocated storage) and at table growth.",
        comparison: "LessThanThreshold",
        threshold: t.databaseFreeStorageGiB * 1024 ** 3,
        missing: "missing",
        metric: { namespace: "AWS/RDS", name: "FreeStorageSpace", dimensions: db, statistic: "Minimum" },
      },
      {
        id: "database-freeable-memory",
        description: "Database memory is low: look first at connection count and the instance class.",
        comparison: "LessThanThreshold",
        threshold: t.databaseFreeableMemoryMiB * 1024 ** 2,
        missing: "missing",
        metric: { namespace: "AWS/RDS", name: "FreeableMemory", dimensions: db, statistic: "Minimum" },
      },
      {
        id: "database-connections",
        description: "Many database connections are open: look first at the app's pool size times the number of instances.",
        comparison: "GreaterThanThreshold",
        threshold: t.databaseConnections,
        missing: "missing",
        metric: { namespace: "AWS/RDS", name: "DatabaseConnections", dimensions: db, statistic: "Maximum" },
      },
      ...Array.from({ length: cache.nodeCount }, (_, i) => {
        const node = { CacheClusterId: cacheNodeIds(cache)[i] ?? "" };
        const n = i + 1;
        const nodeSpecs: AlarmSpec[] = [
          {
            id: `cache-${n}-memory`,
            description: "Redis memory is nearly full, so keys (locks, sessions) may be evicted: look first at key counts and TTLs, then the node type.",
            comparison: "GreaterThanThreshold",
            threshold: t.cacheMemoryPercent,
            missing: "missing",
            metric: { namespace: "AWS/ElastiCache", name: "DatabaseMemoryUsagePercentage", dimensions: node, statistic: "Maximum" },
          },
          {
            id: `cache-${n}-evictions`,
            description: "Redis evicted keys: locks or sessions may have been lost. Look first at memory usage and keys written without a TTL.",
            comparison: "GreaterThanThreshold",
            threshold: t.cacheEvictions,
            missing: "missing",
            evaluationPeriods: 1,
            metric: { namespace: "AWS/ElastiCache", name: "Evictions", dimensions: node, statistic: "Sum" },
          },
          {
            id: `cache-${n}-cpu`,
            description: "Redis engine CPU is high: look first at slow-log entries in the cache's log group.",
            comparison: "GreaterThanThreshold",
            threshold: t.cacheCpuPercent,
            missing: "missing",
            metric: { namespace: "AWS/ElastiCache", name: "EngineCPUUtilization", dimensions: node, statistic: "Average" },
          },
        ];
        if (cache.nodeCount > 1) {
          nodeSpecs.push({
            id: `cache-${n}-replication-lag`,
            description: "A Redis replica lags its primary: look first at network throughput and write volume on the primary.",
            comparison: "GreaterThanThreshold",
            threshold: t.cacheReplicationLagSeconds,
            missing: "notBreaching",
            metric: { namespace: "AWS/ElastiCache", name: "ReplicationLag", dimensions: node, statistic: "Maximum" },
          });
        }
        return nodeSpecs;
      }).flat(),
      {
        id: "efs-io-limit",
        description: "EFS is near its I/O limit, so uploads slow down: look first at which instances do heavy file I/O.",
        comparison: "GreaterThanThreshold",
        threshold: t.fileSystemIoLimitPercent,
        missing: "notBreaching",
        metric: { namespace: "AWS/EFS", name: "PercentIOLimit", dimensions: { FileSystemId: fileSystem.fileSystemId }, statistic: "Maximum" },
      },
      ...(fileSystem.throughputMode === "bursting"
        ? [
            {
              id: "efs-burst-credits",
              description: "EFS burst credits are running out; throughput will drop to the baseline: consider elastic throughput.",
              comparison: "LessThanThreshold" as const,
              threshold: t.fileSystemBurstCreditGiB * 1024 ** 3,
              missing: "missing" as const,
              metric: { namespace: "AWS/EFS", name: "BurstCreditBalance", dimensions: { FileSystemId: fileSystem.fileSystemId }, statistic: "Minimum" },
            },
          ]
        : []),
    ];

    const actions = this.topic ? [this.topic.arn] : [];
    const alarms: Record<string, CloudwatchMetricAlarm> = {};
    for (const spec of specs) {
      alarms[spec.id] = new CloudwatchMetricAlarm(this, spec.id, {
        alarmName: name(spec.id),
        alarmDescription: spec.description,
        comparisonOperator: spec.comparison,
        threshold: spec.threshold,
        evaluationPeriods: spec.evaluationPeriods ?? evaluations,
        treatMissingData: spec.missing,
        alarmActions: actions,
        okActions: actions,
        ...(spec.metric
          ? {
              namespace: spec.metric.namespace,
              metricName: spec.metric.name,
              dimensions: Object.keys(spec.metric.dimensions).length > 0 ? spec.metric.dimensions : undefined,
              period: spec.periodSeconds ?? period,
              statistic: spec.metric.statistic,
              extendedStatistic: spec.metric.extendedStatistic,
            }
          : { metricQuery: spec.queries }),
      });
    }
    this.alarms = alarms;

    this.dashboard = new CloudwatchDashboard(this, "dashboard", {
      dashboardName: name("overview"),
      dashboardBody: JSON.stringify(
        dashboardBody({ region: props.region, period, lb, tg, asg, db, cache, fileSystemId: fileSystem.fileSystemId, appNamespace }),
      ),
    });
  }
}

/** Member cluster ids of a replication group without cluster mode: `<id>-001`, `<id>-002`, ... */
function cacheNodeIds(cache: MonitoredCache): string[] {
  return Array.from({ length: cache.nodeCount }, (_, i) => `${cache.replicationGroupId}-${String(i + 1).padStart(3, "0")}`);
}

interface DashboardInput {
  readonly region: string;
  readonly period: number;
  readonly lb: Record<string, string>;
  readonly tg: Record<string, string>;
  readonly asg: Record<string, string>;
  readonly db: Record<string, string>;
  readonly cache: MonitoredCache;
  readonly fileSystemId: string;
  readonly appNamespace: string;
}

type MetricLine = (string | Record<string, string>)[];

function metric(namespace: string, name: string, dimensions: Record<string, string>, options?: Record<string, string>): MetricLine {
  const line: MetricLine = [namespace, name, ...Object.entries(dimensions).flat()];
  return options ? [...line, options] : line;
}

/** Widgets in reading order: requests, latency, errors, healthy hosts, group size and scaling, database, cache, file system. */
export function dashboardBody(input: DashboardInput): { widgets: unknown[] } {
  const { region, period, lb, tg, asg, db, cache } = input;
  const cacheNodes = cacheNodeIds(cache).map((id) => ({ CacheClusterId: id }));
  const widgets: [string, MetricLine[]][] = [
    ["Requests", [metric("AWS/ApplicationELB", "RequestCount", lb, { stat: "Sum" })]],
    [
      "Latency (target response time)",
      [metric("AWS/ApplicationELB", "TargetResponseTime", tg, { stat: "p50" }), metric("AWS/ApplicationELB", "TargetResponseTime", tg, { stat: "p95" })],
    ],
    [
      "Errors",
      [
        metric("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", lb, { stat: "Sum" }),
        metric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", tg, { stat: "Sum" }),
        metric("AWS/ApplicationELB", "HTTPCode_Target_4XX_Count", tg, { stat: "Sum" }),
      ],
    ],
    ["Healthy hosts", [metric("AWS/ApplicationELB", "HealthyHostCount", tg, { stat: "Minimum" }), metric("AWS/ApplicationELB", "UnHealthyHostCount", tg, { stat: "Maximum" })]],
    [
      "Group size and scaling",
      [
        metric("AWS/AutoScaling", "GroupInServiceInstances", asg),
        metric("AWS/AutoScaling", "GroupDesiredCapacity", asg),
        metric("AWS/AutoScaling", "GroupMinSize", asg),
        metric("AWS/AutoScaling", "GroupMaxSize", asg),
        metric("AWS/EC2", "CPUUtilization", asg, { stat: "Average" }),
        metric(input.appNamespace, "BootFailures", {}, { stat: "Sum" }),
      ],
    ],
    ["Timed jobs", ["JobFailures", "JobsMissed", "JobRetries", "JobLeasesLost", "LockFailures"].map((m) => metric(input.appNamespace, m, {}, { stat: "Sum" }))],
    [
      "Database",
      [
        metric("AWS/RDS", "CPUUtilization", db),
        metric("AWS/RDS", "DatabaseConnections", db),
        metric("AWS/RDS", "FreeStorageSpace", db),
        metric("AWS/RDS", "FreeableMemory", db),
      ],
    ],
    [
      "Cache",
      cacheNodes.flatMap((node) => [
        metric("AWS/ElastiCache", "EngineCPUUtilization", node),
        metric("AWS/ElastiCache", "DatabaseMemoryUsagePercentage", node),
        metric("AWS/ElastiCache", "Evictions", node, { stat: "Sum" }),
      ]),
    ],
    [
      "File system",
      [metric("AWS/EFS", "PercentIOLimit", { FileSystemId: input.fileSystemId }), metric("AWS/EFS", "ClientConnections", { FileSystemId: input.fileSystemId }, { stat: "Sum" })],
    ],
  ];
  return {
    widgets: widgets.map(([title, metrics], i) => ({
      type: "metric",
      x: (i % 2) * 12,
      y: Math.floor(i / 2) * 6,
      width: 12,
      height: 6,
      properties: { title, region, period, view: "timeSeries", stacked: false, metrics },
    })),
  };
}
