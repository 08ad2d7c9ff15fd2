// Signals for the on-call developer: an encrypted SNS topic with email subscriptions, the routing every alarm
// follows (notify on ALARM and OK), the alarm settings and one dashboard. The alarms themselves belong to the
// capabilities they watch (`<capability>/alarms.ts`); this construct makes them as its children, routed to the
// topic. It reads the other modules through narrow refs and creates nothing they own.
import { Construct } from "constructs";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { CacheAlarms, cacheAlarms, cacheNodeIds, MonitoredCache } from "../cache/alarms";
import { CertificateAlarms, certificateAlarms, MonitoredCertificate } from "../certificate/alarms";
import { ComputeAlarms, computeAlarms, MonitoredCompute } from "../compute/alarms";
import { DatabaseAlarms, databaseAlarms, MonitoredDatabase } from "../database/alarms";
import { FileSystemAlarms, fileSystemAlarms, MonitoredFileSystem } from "../file-system/alarms";
import { LoadBalancerAlarms, loadBalancerAlarms, MonitoredLoadBalancer } from "../load-balancer/alarms";
import { WafAlarms, wafAlarms } from "../waf/alarms";
import { formatArn } from "../primitives/arn";
import { EncryptionKey } from "../primitives/encryption-key";
import { policyDocument } from "../primitives/policy";
import { assertValid, Problems } from "../primitives/validation";
import { AlarmRouting } from "./alarm";

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
const COUNT_FIELDS: readonly (keyof AlarmThresholds)[] = [
  "rejectedConnections",
  "wafBlockedRequests",
  "databaseConnections",
  "cacheEvictions",
  "spotInterruptionsPerHour",
];

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

/** What the alarms read from the edge: the load balancer, its certificate and, where WAF is on, its web ACL. */
export interface MonitoredEdge extends MonitoredLoadBalancer, MonitoredCertificate {
  /** The web ACL's name, where WAF is on. */
  readonly webAclName?: string;
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

export const DEFAULT_PERIOD_SECONDS = 60;
export const DEFAULT_EVALUATION_PERIODS = 5;

/** The monitoring settings with every default filled in (thresholds: only those the environment sets). */
export interface ResolvedMonitoringSettings extends MonitoringSettings {
  readonly alarmEmails: readonly string[];
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly thresholds: Partial<AlarmThresholds>;
}

/** The settings' defaults, written once: the check and the construct both read what this returns. */
export function resolveMonitoringSettings<S extends MonitoringSettings>(settings: S): S & ResolvedMonitoringSettings {
  return {
    ...settings,
    alarmEmails: settings.alarmEmails ?? [],
    periodSeconds: settings.periodSeconds ?? DEFAULT_PERIOD_SECONDS,
    evaluationPeriods: settings.evaluationPeriods ?? DEFAULT_EVALUATION_PERIODS,
    thresholds: settings.thresholds ?? {},
  };
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** One line per problem of an environment's monitoring settings, checked with their defaults resolved. */
export function checkMonitoringSettings(settings: MonitoringSettings, problems: Problems): void {
  const props = resolveMonitoringSettings(settings);
  const emails = props.alarmEmails;
  emails.forEach((email, i) => {
    problems.check(EMAIL.test(email), `alarmEmails[${i}]`, email, "not an email address");
    // SNS keeps one subscription per topic and address: a second resource gets the same subscription, and
    // destroying either removes it for both. Mail providers treat addresses case-insensitively.
    const first = emails.findIndex((e) => e.toLowerCase() === email.toLowerCase());
    problems.check(first === i, `alarmEmails[${i}]`, email, `repeats alarmEmails[${first}]`);
  });
  problems.check(props.topic || emails.length === 0, "alarmEmails", emails, "subscriptions need a topic: set topic to true or remove them");
  const period = props.periodSeconds;
  problems.check(
    Number.isInteger(period) && period >= 60 && period % 60 === 0,
    "periodSeconds",
    period,
    "CloudWatch alarms take 60 seconds or a multiple of 60",
  );
  const evaluations = props.evaluationPeriods;
  problems.check(
    Number.isInteger(evaluations) && evaluations >= 1 && evaluations * period <= 86400,
    "evaluationPeriods",
    evaluations,
    "must be a whole number of periods, at least 1, spanning at most one day",
  );
  const thresholds = props.thresholds;
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

/** The environment's alarms, by the capability each watches. */
export interface EnvironmentAlarms {
  readonly loadBalancer: LoadBalancerAlarms;
  /** Where WAF is on. */
  readonly waf?: WafAlarms;
  readonly certificate: CertificateAlarms;
  readonly compute: ComputeAlarms;
  readonly database: DatabaseAlarms;
  readonly cache: CacheAlarms;
  readonly fileSystem: FileSystemAlarms;
}

export class Monitoring extends Construct {
  readonly topic?: SnsTopic;
  /** Every alarm is a child of this construct, routed to the topic on ALARM and OK. */
  readonly alarms: EnvironmentAlarms;
  readonly dashboard: CloudwatchDashboard;

  constructor(scope: Construct, id: string, settings: MonitoringProps) {
    super(scope, id);
    assertValid(this, settings, checkMonitoringSettings);
    const props = resolveMonitoringSettings(settings);
    const t: AlarmThresholds = { ...DEFAULT_THRESHOLDS, ...props.thresholds };
    const period = props.periodSeconds;
    const name = (suffix: string) => `${props.namePrefix}-${suffix}`;
    const { edge, compute, database, cache, fileSystem } = props;

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
            ArnLike: {
              "aws:SourceArn": formatArn({
                service: "cloudwatch",
                region: props.region,
                account: props.accountId,
                resource: `alarm:${props.namePrefix}-*`,
              }),
            },
          },
        }),
      });
      props.alarmEmails.forEach((email, i) => {
        new SnsTopicSubscription(this, `email-${i}`, { topicArn: this.topic?.arn ?? "", protocol: "email", endpoint: email });
      });
    }

    // Each capability's alarms, made here (their ids are this construct's children) and routed to the topic.
    const routing: AlarmRouting = {
      namePrefix: props.namePrefix,
      periodSeconds: period,
      evaluationPeriods: props.evaluationPeriods,
      actions: this.topic ? [this.topic.arn] : [],
    };
    this.alarms = {
      loadBalancer: loadBalancerAlarms(this, routing, edge, t),
      waf: edge.webAclName ? wafAlarms(this, routing, { webAclName: edge.webAclName, region: props.region }, t) : undefined,
      certificate: certificateAlarms(this, routing, edge, t),
      compute: computeAlarms(this, routing, compute, t),
      database: databaseAlarms(this, routing, database, t),
      cache: cacheAlarms(this, routing, cache, t),
      fileSystem: fileSystemAlarms(this, routing, fileSystem, t),
    };

    const lb = { LoadBalancer: edge.loadBalancerArnSuffix };
    const tg = { LoadBalancer: edge.loadBalancerArnSuffix, TargetGroup: edge.targetGroupArnSuffix };
    const asg = { AutoScalingGroupName: compute.autoScalingGroupName };
    const db = { DBInstanceIdentifier: database.identifier };
    this.dashboard = new CloudwatchDashboard(this, "dashboard", {
      dashboardName: name("overview"),
      dashboardBody: JSON.stringify(
        dashboardBody({
          region: props.region,
          period,
          lb,
          tg,
          asg,
          db,
          cache,
          fileSystemId: fileSystem.fileSystemId,
          appNamespace: compute.metricsNamespace,
        }),
      ),
    });
  }
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
      [
        metric("AWS/ApplicationELB", "TargetResponseTime", tg, { stat: "p50" }),
        metric("AWS/ApplicationELB", "TargetResponseTime", tg, { stat: "p95" }),
      ],
    ],
    [
      "Errors",
      [
        metric("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", lb, { stat: "Sum" }),
        metric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", tg, { stat: "Sum" }),
        metric("AWS/ApplicationELB", "HTTPCode_Target_4XX_Count", tg, { stat: "Sum" }),
      ],
    ],
    [
      "Healthy hosts",
      [
        metric("AWS/ApplicationELB", "HealthyHostCount", tg, { stat: "Minimum" }),
        metric("AWS/ApplicationELB", "UnHealthyHostCount", tg, { stat: "Maximum" }),
      ],
    ],
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
    [
      "Timed jobs",
      ["JobFailures", "JobsMissed", "JobRetries", "JobLeasesLost", "LockFailures"].map((m) =>
        metric(input.appNamespace, m, {}, { stat: "Sum" }),
      ),
    ],
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
      [
        metric("AWS/EFS", "PercentIOLimit", { FileSystemId: input.fileSystemId }),
        metric("AWS/EFS", "ClientConnections", { FileSystemId: input.fileSystemId }, { stat: "Sum" }),
      ],
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
