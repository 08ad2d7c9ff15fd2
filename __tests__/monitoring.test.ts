import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { checkMonitoringSettings, Monitoring, MonitoringProps } from "../modules/monitoring";
import { Problems, formatProblem } from "../modules/primitives/validation";
import { ENVIRONMENTS } from "../environments";
import { Json, policy, resourceList, resources, synthConstruct, synthEnvironment } from "./support/synth";

const props: MonitoringProps = {
  namePrefix: "webapp-test",
  region: "eu-west-2",
  accountId: "111111111111",
  topic: true,
  alarmEmails: ["oncall@example.com"],
  edge: {
    loadBalancerArnSuffix: "app/webapp-test/abc",
    targetGroupArnSuffix: "targetgroup/webapp-test/def",
    certificateArn: "arn:aws:acm:eu-west-2:111111111111:certificate/x",
    webAclName: "webapp-test",
  },
  compute: {
    autoScalingGroupName: "webapp-test-app",
    logGroupName: "/webapp-test/app",
    bootFailurePattern: '"webapp-boot" "FAILED"',
    metricsNamespace: "webapp-test/app",
  },
  database: { identifier: "webapp-test" },
  cache: { replicationGroupId: "webapp-test", nodeCount: 2 },
  fileSystem: { fileSystemId: "fs-123", throughputMode: "bursting" },
};

const build = (overrides: Partial<MonitoringProps> = {}) =>
  synthConstruct((scope) => new Monitoring(scope, "monitoring", { ...props, ...overrides }));
const alarmsByName = (json: Json): Record<string, Json> =>
  Object.fromEntries(resourceList(json, "aws_cloudwatch_metric_alarm").map((a) => [a.alarm_name, a]));

describe("Monitoring", () => {
  const { text, json } = build();
  const alarms = alarmsByName(json);
  const topicRef = expect.stringMatching(/^\$\{aws_sns_topic\.monitoring_topic_[A-Z0-9]+\.arn\}$/);

  it("creates a KMS-encrypted topic with the email subscriptions and a policy for this account's alarms only", () => {
    expect(text).toHaveResourceWithProperties(SnsTopic, {
      name: "webapp-test-alarms",
      kms_master_key_id: expect.stringMatching(/aws_kms_key/),
    });
    expect(text).toHaveResourceWithProperties(SnsTopicSubscription, { protocol: "email", endpoint: "oncall@example.com" });
    const doc = policy(resourceList(json, "aws_sns_topic_policy")[0]?.policy);
    expect(doc.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: "sns:Publish",
        Condition: {
          StringEquals: { "aws:SourceAccount": "111111111111" },
          ArnLike: { "aws:SourceArn": "arn:aws:cloudwatch:eu-west-2:111111111111:alarm:webapp-test-*" },
        },
      }),
    ]);
    const keyPolicy = policy(resourceList(json, "aws_kms_key")[0]?.policy);
    expect(keyPolicy.Statement[1]).toEqual(
      expect.objectContaining({ Principal: { Service: "cloudwatch.amazonaws.com" }, Action: ["kms:Decrypt", "kms:GenerateDataKey*"] }),
    );
  });

  it("notifies on ALARM and OK for every alarm, and describes what to look at first", () => {
    expect(Object.keys(alarms).length).toBeGreaterThanOrEqual(20);
    for (const alarm of Object.values(alarms)) {
      expect(alarm.alarm_actions).toEqual([topicRef]);
      expect(alarm.ok_actions).toEqual([topicRef]);
      expect(alarm.alarm_description).toMatch(/look first|consider/i);
    }
  });

  it.each([
    [
      "webapp-test-target-p95-latency",
      {
        namespace: "AWS/ApplicationELB",
        metric_name: "TargetResponseTime",
        extended_statistic: "p95",
        threshold: 2,
        comparison_operator: "GreaterThanThreshold",
      },
    ],
    [
      "webapp-test-unhealthy-hosts",
      { metric_name: "UnHealthyHostCount", statistic: "Maximum", threshold: 0, comparison_operator: "GreaterThanThreshold" },
    ],
    [
      "webapp-test-no-healthy-hosts",
      {
        metric_name: "HealthyHostCount",
        statistic: "Minimum",
        threshold: 1,
        comparison_operator: "LessThanThreshold",
        treat_missing_data: "breaching",
      },
    ],
    ["webapp-test-rejected-connections", { metric_name: "RejectedConnectionCount", statistic: "Sum", threshold: 0 }],
    [
      "webapp-test-waf-blocked-spike",
      {
        namespace: "AWS/WAFV2",
        metric_name: "BlockedRequests",
        statistic: "Sum",
        threshold: 500,
        dimensions: { WebACL: "webapp-test", Region: "eu-west-2", Rule: "ALL" },
      },
    ],
    [
      "webapp-test-certificate-expiry",
      {
        namespace: "AWS/CertificateManager",
        metric_name: "DaysToExpiry",
        statistic: "Minimum",
        threshold: 30,
        comparison_operator: "LessThanThreshold",
        period: 86400,
      },
    ],
    [
      "webapp-test-boot-failures",
      { namespace: "webapp-test/app", metric_name: "BootFailures", statistic: "Sum", threshold: 0, evaluation_periods: 1 },
    ],
    ["webapp-test-launch-abandoned", { namespace: "AWS/Events", metric_name: "MatchedEvents", statistic: "Sum", threshold: 0 }],
    [
      "webapp-test-group-cpu-high",
      {
        namespace: "AWS/EC2",
        metric_name: "CPUUtilization",
        statistic: "Average",
        threshold: 80,
        dimensions: { AutoScalingGroupName: "webapp-test-app" },
      },
    ],
    [
      "webapp-test-lock-failures",
      { namespace: "webapp-test/app", metric_name: "LockFailures", statistic: "Sum", threshold: 0, evaluation_periods: 1 },
    ],
    [
      "webapp-test-job-failures",
      {
        namespace: "webapp-test/app",
        metric_name: "JobFailures",
        statistic: "Sum",
        threshold: 0,
        evaluation_periods: 1,
        treat_missing_data: "notBreaching",
      },
    ],
    [
      "webapp-test-jobs-missed",
      { namespace: "webapp-test/app", metric_name: "JobsMissed", statistic: "Sum", threshold: 0, evaluation_periods: 1 },
    ],
    [
      "webapp-test-job-leases-lost",
      { namespace: "webapp-test/app", metric_name: "JobLeasesLost", statistic: "Sum", threshold: 0, evaluation_periods: 1 },
    ],
    [
      "webapp-test-database-cpu",
      { namespace: "AWS/RDS", metric_name: "CPUUtilization", threshold: 80, dimensions: { DBInstanceIdentifier: "webapp-test" } },
    ],
    [
      "webapp-test-database-free-storage",
      { metric_name: "FreeStorageSpace", statistic: "Minimum", threshold: 5 * 1024 ** 3, comparison_operator: "LessThanThreshold" },
    ],
    ["webapp-test-database-freeable-memory", { metric_name: "FreeableMemory", threshold: 256 * 1024 ** 2 }],
    ["webapp-test-database-connections", { metric_name: "DatabaseConnections", statistic: "Maximum", threshold: 200 }],
    [
      "webapp-test-cache-1-memory",
      {
        namespace: "AWS/ElastiCache",
        metric_name: "DatabaseMemoryUsagePercentage",
        threshold: 80,
        dimensions: { CacheClusterId: "webapp-test-001" },
      },
    ],
    [
      "webapp-test-cache-2-evictions",
      { metric_name: "Evictions", statistic: "Sum", threshold: 0, dimensions: { CacheClusterId: "webapp-test-002" } },
    ],
    ["webapp-test-cache-1-cpu", { metric_name: "EngineCPUUtilization", threshold: 80 }],
    ["webapp-test-cache-2-replication-lag", { metric_name: "ReplicationLag", threshold: 30 }],
    [
      "webapp-test-efs-io-limit",
      { namespace: "AWS/EFS", metric_name: "PercentIOLimit", threshold: 95, dimensions: { FileSystemId: "fs-123" } },
    ],
    ["webapp-test-efs-burst-credits", { metric_name: "BurstCreditBalance", comparison_operator: "LessThanThreshold" }],
  ])("%s watches the right metric", (name, expected) => {
    expect(alarms[name]).toEqual(expect.objectContaining(expected));
  });

  it("alarms on 5xx as a rate of requests, not a count", () => {
    const alarm = alarms["webapp-test-alb-5xx-rate"];
    expect(alarm?.metric_name).toBeUndefined();
    const queries = Object.fromEntries((alarm?.metric_query as Json[]).map((q) => [q.id, q]));
    expect(queries.rate).toEqual(
      expect.objectContaining({ expression: "IF(requests > 0, 100 * errors / requests, 0)", return_data: true }),
    );
    expect(queries.errors.metric).toEqual(
      expect.objectContaining({ metric_name: "HTTPCode_ELB_5XX_Count", stat: "Sum", dimensions: { LoadBalancer: "app/webapp-test/abc" } }),
    );
    expect(queries.requests.metric.metric_name).toBe("RequestCount");
    const target = Object.fromEntries((alarms["webapp-test-target-5xx-rate"]?.metric_query as Json[]).map((q) => [q.id, q]));
    expect(target.errors.metric.dimensions).toEqual({ LoadBalancer: "app/webapp-test/abc", TargetGroup: "targetgroup/webapp-test/def" });
  });

  it("compares in-service instances with the group's own minimum, treating no data as bad", () => {
    const alarm = alarms["webapp-test-in-service-below-minimum"];
    expect(alarm?.treat_missing_data).toBe("breaching");
    expect((alarm?.metric_query as Json[]).map((q) => q.metric?.metric_name ?? q.expression)).toEqual([
      "GroupInServiceInstances",
      "GroupMinSize",
      "IF(inservice < minimum, 1, 0)",
    ]);
  });

  it("counts boot failures from the log group with a metric filter, and unsuccessful launches from events; the timed jobs' metrics come from their runner", () => {
    expect(text).toHaveResourceWithProperties(CloudwatchLogMetricFilter, {
      log_group_name: "/webapp-test/app",
      pattern: '"webapp-boot" "FAILED"',
      metric_transformation: expect.objectContaining({ name: "BootFailures", namespace: "webapp-test/app", value: "1" }),
    });
    expect(resourceList(json, "aws_cloudwatch_log_metric_filter")).toHaveLength(1);
    const rule = resourceList(json, "aws_cloudwatch_event_rule")[0];
    expect(JSON.parse(rule?.event_pattern)).toEqual({
      source: ["aws.autoscaling"],
      "detail-type": ["EC2 Instance Launch Unsuccessful"],
      detail: { AutoScalingGroupName: ["webapp-test-app"] },
    });
  });

  it("calls a shortfall of in-service against desired instances failed replacements once it outlasts a launch", () => {
    const alarm = alarms["webapp-test-replacement-shortfall"];
    expect(alarm?.treat_missing_data).toBe("notBreaching");
    expect((alarm?.metric_query as Json[]).map((q) => q.metric?.metric_name ?? q.expression)).toEqual([
      "GroupInServiceInstances",
      "GroupDesiredCapacity",
      "IF(inservice < desired, 1, 0)",
    ]);
    // The default launch window, 1800 s, in 300 s periods, plus one.
    expect(alarm?.evaluation_periods).toBe(7);
    expect((alarm?.metric_query as Json[]).filter((q) => q.metric).map((q) => [q.metric.stat, q.metric.period])).toEqual([
      ["Maximum", 300],
      ["Minimum", 300],
    ]);
    const long = alarmsByName(build({ compute: { ...props.compute, launchWindowSeconds: 3600 } }).json);
    expect(long["webapp-test-replacement-shortfall"]?.evaluation_periods).toBe(13);
  });

  it("counts Spot interruption warnings only for a group that buys Spot, routed like the others", () => {
    expect(alarms["webapp-test-spot-interruptions"]).toBeUndefined();
    const spot = build({ compute: { ...props.compute, launchesSpot: true }, thresholds: { spotInterruptionsPerHour: 4 } }).json;
    const rule = resourceList(spot, "aws_cloudwatch_event_rule").find((r) => r.name === "webapp-test-spot-interruptions");
    expect(JSON.parse(rule?.event_pattern)).toEqual({ source: ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"] });
    expect(alarmsByName(spot)["webapp-test-spot-interruptions"]).toEqual(
      expect.objectContaining({
        namespace: "AWS/Events",
        metric_name: "MatchedEvents",
        dimensions: { RuleName: expect.stringMatching(/aws_cloudwatch_event_rule\.monitoring_spot-interruption-warnings_[A-Z0-9]+\.name/) },
        statistic: "Sum",
        period: 3600,
        evaluation_periods: 1,
        threshold: 4,
        comparison_operator: "GreaterThanThreshold",
        alarm_actions: [topicRef],
        ok_actions: [topicRef],
      }),
    );
  });

  it("leaves out WAF, replication-lag and burst-credit alarms where they do not apply", () => {
    const lean = alarmsByName(
      build({
        edge: { ...props.edge, webAclName: undefined },
        cache: { replicationGroupId: "webapp-test", nodeCount: 1 },
        fileSystem: { fileSystemId: "fs-1", throughputMode: "elastic" },
      }).json,
    );
    expect(Object.keys(lean).filter((n) => /waf|replication-lag|burst/.test(n))).toEqual([]);
  });

  it("raises alarms without actions when the environment has no topic", () => {
    const quiet = build({ topic: false, alarmEmails: [] }).json;
    expect(resourceList(quiet, "aws_sns_topic")).toHaveLength(0);
    expect(resourceList(quiet, "aws_cloudwatch_metric_alarm").every((a) => a.alarm_actions.length === 0)).toBe(true);
  });

  it("applies per-environment thresholds and evaluation periods", () => {
    const tuned = alarmsByName(build({ thresholds: { groupCpuPercent: 65 }, evaluationPeriods: 3, periodSeconds: 300 }).json);
    expect(tuned["webapp-test-group-cpu-high"]).toEqual(expect.objectContaining({ threshold: 65, evaluation_periods: 3, period: 300 }));
  });

  it("hands every alarm it makes back once, as a typed field of the capability it watches", () => {
    let monitoring: Monitoring | undefined;
    synthConstruct((scope) => {
      monitoring = new Monitoring(scope, "monitoring", { ...props, compute: { ...props.compute, launchesSpot: true } });
    });
    const handed: Record<string, string> = {};
    const walk = (value: unknown, path: string): void => {
      if (value instanceof CloudwatchMetricAlarm) handed[path] = value.node.id;
      else if (value && typeof value === "object")
        for (const [key, inner] of Object.entries(value)) walk(inner, path ? `${path}.${key}` : key);
    };
    walk(monitoring?.alarms, "");
    expect(handed).toEqual({
      "loadBalancer.alb5xxRate": "alb-5xx-rate",
      "loadBalancer.target5xxRate": "target-5xx-rate",
      "loadBalancer.targetP95Latency": "target-p95-latency",
      "loadBalancer.unhealthyHosts": "unhealthy-hosts",
      "loadBalancer.noHealthyHosts": "no-healthy-hosts",
      "loadBalancer.rejectedConnections": "rejected-connections",
      "waf.blockedSpike": "waf-blocked-spike",
      "certificate.expiry": "certificate-expiry",
      "compute.inServiceBelowMinimum": "in-service-below-minimum",
      "compute.bootFailures": "boot-failures",
      "compute.launchAbandoned": "launch-abandoned",
      "compute.replacementShortfall": "replacement-shortfall",
      "compute.spotInterruptions": "spot-interruptions",
      "compute.groupCpuHigh": "group-cpu-high",
      "compute.jobs.job-failures": "job-failures",
      "compute.jobs.jobs-missed": "jobs-missed",
      "compute.jobs.job-leases-lost": "job-leases-lost",
      "compute.jobs.lock-failures": "lock-failures",
      "database.cpu": "database-cpu",
      "database.freeStorage": "database-free-storage",
      "database.freeableMemory": "database-freeable-memory",
      "database.connections": "database-connections",
      "cache.nodes.0.memory": "cache-1-memory",
      "cache.nodes.0.evictions": "cache-1-evictions",
      "cache.nodes.0.cpu": "cache-1-cpu",
      "cache.nodes.0.replicationLag": "cache-1-replication-lag",
      "cache.nodes.1.memory": "cache-2-memory",
      "cache.nodes.1.evictions": "cache-2-evictions",
      "cache.nodes.1.cpu": "cache-2-cpu",
      "cache.nodes.1.replicationLag": "cache-2-replication-lag",
      "fileSystem.ioLimit": "efs-io-limit",
      "fileSystem.burstCredits": "efs-burst-credits",
    });
    // ... and no alarm is made that is not handed back.
    const made = monitoring?.node.children.filter((c) => c instanceof CloudwatchMetricAlarm).map((c) => c.node.id) ?? [];
    expect([...made].sort()).toEqual(Object.values(handed).sort());
  });

  it("puts one dashboard together in reading order, referring only to what it was given", () => {
    const dashboard = resourceList(json, "aws_cloudwatch_dashboard")[0];
    const body = JSON.parse(dashboard?.dashboard_body);
    expect(body.widgets.map((w: Json) => w.properties.title)).toEqual([
      "Requests",
      "Latency (target response time)",
      "Errors",
      "Healthy hosts",
      "Group size and scaling",
      "Timed jobs",
      "Database",
      "Cache",
      "File system",
    ]);
    const dimensionValues = new Set<string>();
    for (const widget of body.widgets) {
      for (const line of widget.properties.metrics as (string | Json)[][]) {
        const parts = line.filter((p): p is string => typeof p === "string").slice(2);
        for (let i = 1; i < parts.length; i += 2) dimensionValues.add(parts[i] as string);
      }
    }
    expect([...dimensionValues].sort()).toEqual(
      [
        "app/webapp-test/abc",
        "targetgroup/webapp-test/def",
        "webapp-test-app",
        "webapp-test",
        "webapp-test-001",
        "webapp-test-002",
        "fs-123",
      ].sort(),
    );
    expect(Object.keys(resources(json, "aws_cloudwatch_dashboard"))).toHaveLength(1);
  });
});

describe("checkMonitoringSettings", () => {
  const problemsOf = (settings: Parameters<typeof checkMonitoringSettings>[0]) => {
    const problems = Problems.create("monitoring");
    checkMonitoringSettings(settings, problems);
    return problems.list.map((p) => formatProblem("dev", p));
  };

  it.each<[Parameters<typeof checkMonitoringSettings>[0], RegExp]>([
    [
      { topic: true, thresholds: { groupCpuPercent: 120 } },
      /^dev: monitoring.thresholds.groupCpuPercent = 120: a percentage must be between 0 and 100/,
    ],
    [
      { topic: true, thresholds: { cacheMemoryPercent: -1 } },
      /^dev: monitoring.thresholds.cacheMemoryPercent = -1: a percentage must be between 0 and 100/,
    ],
    [
      { topic: true, thresholds: { databaseConnections: -5 } },
      /^dev: monitoring.thresholds.databaseConnections = -5: a count must be a whole number, 0 or more/,
    ],
    [{ topic: true, thresholds: { rejectedConnections: 1.5 } }, /rejectedConnections = 1.5: a count must be a whole number/],
    [{ topic: true, thresholds: { spotInterruptionsPerHour: 0.5 } }, /spotInterruptionsPerHour = 0.5: a count must be a whole number/],
    [{ topic: true, thresholds: { targetResponseP95Seconds: 0 } }, /targetResponseP95Seconds = 0: must be greater than 0/],
    [{ topic: true, thresholds: { nonsense: 1 } as never }, /thresholds.nonsense = 1: unknown threshold/],
    [{ topic: true, alarmEmails: ["not-an-email"] }, /^dev: monitoring.alarmEmails\[0\] = "not-an-email": not an email address/],
    [
      { topic: false, alarmEmails: ["oncall@example.com"] },
      /^dev: monitoring.alarmEmails = \["oncall@example.com"\]: subscriptions need a topic/,
    ],
    [
      { topic: true, alarmEmails: ["ops@example.com", "dev@example.com", "Ops@Example.com"] },
      /^dev: monitoring.alarmEmails\[2\] = "Ops@Example.com": repeats alarmEmails\[0\]$/,
    ],
    [{ topic: true, periodSeconds: 90 }, /periodSeconds = 90: CloudWatch alarms take 60 seconds or a multiple of 60/],
    [{ topic: true, evaluationPeriods: 0 }, /evaluationPeriods = 0: must be a whole number of periods/],
  ])("rejects %j", (settings, message) => {
    expect(problemsOf(settings)).toContainEqual(expect.stringMatching(message));
  });

  it("accepts the defaults", () => {
    expect(problemsOf({ topic: true })).toEqual([]);
  });

  it("rejects bad settings at construct time", () => {
    expect(() => build({ thresholds: { groupCpuPercent: 101 } })).toThrow(/test\/monitoring: thresholds.groupCpuPercent = 101/);
  });
});

describe.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("monitoring in the %s stack", (_name, config) => {
  const { json } = synthEnvironment(config);

  it("has a dashboard that refers only to resources this stack creates", () => {
    const dashboard = resourceList(json, "aws_cloudwatch_dashboard")[0];
    const body = String(dashboard?.dashboard_body);
    const references = [...body.matchAll(/\$\{([a-z0-9_]+)\.([^.}]+)\.[a-z_]+\}/g)].map((m) => [m[1] ?? "", m[2] ?? ""] as const);
    expect(references.length).toBeGreaterThan(0);
    for (const [type, logical] of references) {
      expect({ type, logical, created: logical in resources(json, type) }).toEqual({ type, logical, created: true });
    }
    // A literal dimension value must be the name of something this stack creates (for example the group's name).
    const names = new Set(
      Object.values(json.resource as Record<string, Record<string, Json>>).flatMap((byName) => Object.values(byName).map((r) => r.name)),
    );
    for (const widget of JSON.parse(body).widgets as Json[]) {
      for (const line of widget.properties.metrics as (string | Json)[][]) {
        const values = line
          .filter((p): p is string => typeof p === "string")
          .slice(2)
          .filter((_, i) => i % 2 === 1);
        for (const value of values) {
          const ok = /^\$\{/.test(value) || names.has(value);
          expect({ value, ok }).toEqual({ value, ok: true });
        }
      }
    }
  });

  it("sends every alarm to the environment's topic, on ALARM and OK", () => {
    const topics = Object.keys(resources(json, "aws_sns_topic"));
    expect(topics).toHaveLength(1);
    for (const alarm of resourceList(json, "aws_cloudwatch_metric_alarm")) {
      expect(alarm.alarm_actions).toEqual([`\${aws_sns_topic.${topics[0]}.arn}`]);
      expect(alarm.ok_actions).toEqual(alarm.alarm_actions);
    }
  });

  it("subscribes the environment's alarm emails", () => {
    expect(resourceList(json, "aws_sns_topic_subscription").map((s) => s.endpoint)).toEqual(config.monitoring.alarmEmails ?? []);
  });

  it("watches WAF exactly where WAF is on", () => {
    const waf = resourceList(json, "aws_cloudwatch_metric_alarm").filter((a) => a.namespace === "AWS/WAFV2");
    expect(waf).toHaveLength(config.edge.waf.enabled ? 1 : 0);
  });
});
