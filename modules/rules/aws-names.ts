// The names and tag values an environment's stacks hand to AWS that are made from its settings (project,
// environment name, domain, ports, zones, tags), each checked against the rule of the service that receives
// it: the length and pattern rules of the AWS API member and CloudFormation property
// (modules/rules/aws-rules.generated.ts), and, where no machine-readable source states a rule, the documented rule
// written here with its AWS documentation link. Pure: runs before any construct exists. The list follows the
// constructs' naming; __tests__/aws-names.test.ts synthesizes the stacks and fails on a name made from the
// settings that is missing here.
import type { EnvironmentConfig } from "../../environments/schema/types";
import { ciRoleName, planKeyAlias } from "../bootstrap/ci-roles";
import { workloadBoundaryName } from "../bootstrap/permissions-boundary";
import { namePrefix, standardTags } from "../primitives/naming";
import { MANAGED_RULE_GROUPS } from "../waf";
import { resolveDatabaseSettings } from "../database";
import { NAME_RULES, TAG_RULES } from "./aws-rules.generated";
import { valueRuleProblem, type ValueRule } from "./aws-rules";
import type { Problems } from "../primitives/validation";

/** One value an environment's stacks send to AWS that is made from its settings. */
export interface DerivedName {
  /** Where it is synthesized: `<resource type>.<attribute path>`, lists as `[]` (for example `aws_subnet.tags.Name`). */
  readonly attribute: string;
  /** The value as synthesized. */
  readonly value: string;
  /** The setting it is made from, which a problem is reported against. */
  readonly field: string;
  /** What receives it, for messages: `the load balancer's name`. */
  readonly what: string;
  /** What AWS receives where it differs from `value` (a name prefix completed by Terraform, a timestamp filled in). */
  readonly received?: string;
  /** The rules that apply, where not those of `attribute` (the rules of the full name for a name prefix). */
  readonly rulesOf?: string;
}

/** Each attribute's AWS service, for the service's tag rules. */
const SERVICE: Readonly<Record<string, string>> = {
  aws_acm_certificate: "acm",
  aws_autoscaling_group: "autoscaling",
  aws_cloudwatch_metric_alarm: "cloudwatch",
  aws_cloudwatch_event_rule: "events",
  aws_cloudwatch_log_group: "logs",
  aws_db_instance: "rds",
  aws_db_parameter_group: "rds",
  aws_db_subnet_group: "rds",
  aws_default_security_group: "ec2",
  aws_efs_access_point: "efs",
  aws_dynamodb_table: "dynamodb",
  aws_efs_file_system: "efs",
  aws_eip: "ec2",
  aws_elasticache_parameter_group: "elasticache",
  aws_elasticache_replication_group: "elasticache",
  aws_elasticache_subnet_group: "elasticache",
  aws_flow_log: "ec2",
  aws_iam_role: "iam",
  aws_iam_policy: "iam",
  aws_internet_gateway: "ec2",
  aws_kms_key: "kms",
  aws_launch_template: "ec2",
  aws_lb: "elbv2",
  aws_lb_listener: "elbv2",
  aws_lb_target_group: "elbv2",
  aws_nat_gateway: "ec2",
  aws_route_table: "ec2",
  aws_s3_bucket: "s3",
  aws_secretsmanager_secret: "secretsmanager",
  aws_security_group: "ec2",
  aws_sns_topic: "sns",
  aws_subnet: "ec2",
  aws_vpc: "ec2",
  aws_vpc_endpoint: "ec2",
  aws_wafv2_web_acl: "wafv2",
};

/** The services an environment stack tags resources of (the provider's default tags reach every one). */
export function taggedServices(config: EnvironmentConfig): string[] {
  const services = new Set(Object.values(SERVICE));
  if (!config.edge.waf.enabled) services.delete("wafv2");
  return [...services].sort();
}

/** A documented rule no machine-readable source states: what is wrong with `value`, or undefined. */
type HandRule = (value: string) => string | undefined;

const LETTERS_DIGITS_HYPHENS =
  (max: number, what: string): HandRule =>
  (v) =>
    v.length < 1 || v.length > max
      ? `${what} are 1-${max} characters (this one has ${v.length})`
      : !/^[A-Za-z0-9-]+$/.test(v)
        ? `${what} hold only letters, digits and hyphens`
        : undefined;

/** `--` anywhere, or a hyphen at the end: refused by RDS and ElastiCache identifiers. */
const NO_DOUBLE_OR_TRAILING_HYPHEN: HandRule = (v) =>
  v.includes("--")
    ? "contains two consecutive hyphens, which AWS refuses here"
    : v.endsWith("-")
      ? "ends with a hyphen, which AWS refuses here"
      : undefined;

const STARTS_WITH_LETTER: HandRule = (v) => (/^[A-Za-z]/.test(v) ? undefined : "must start with a letter");

/**
 * Documented rules per attribute, where the service models and schemas state none (or a looser one).
 * Each links the page that states it.
 */
const HAND_RULES: Readonly<Record<string, readonly HandRule[]>> = {
  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html (Name)
  "aws_lb.name": [
    LETTERS_DIGITS_HYPHENS(32, "load balancer names"),
    (v) => (v.startsWith("-") || v.endsWith("-") ? "a load balancer name may not begin or end with a hyphen" : undefined),
    (v) => (v.startsWith("internal-") ? 'a load balancer name may not begin with "internal-"' : undefined),
  ],
  // https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs/resources/lb_target_group (name_prefix:
  // at most 6 characters); the full name follows https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
  "aws_lb_target_group.name_prefix": [
    (v) => (v.length > 6 ? `the provider takes a target group name prefix of at most 6 characters (this one has ${v.length})` : undefined),
    (v) =>
      /^[A-Za-z0-9][A-Za-z0-9-]*$/.test(v)
        ? undefined
        : "a target group name holds letters, digits and hyphens and may not begin with a hyphen",
  ],
  // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html (FinalDBSnapshotIdentifier)
  "aws_db_instance.final_snapshot_identifier": [
    LETTERS_DIGITS_HYPHENS(255, "snapshot identifiers"),
    STARTS_WITH_LETTER,
    NO_DOUBLE_OR_TRAILING_HYPHEN,
  ],
  // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html (DBInstanceIdentifier)
  "aws_db_instance.identifier": [NO_DOUBLE_OR_TRAILING_HYPHEN],
  // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBParameterGroup.html (DBParameterGroupName)
  "aws_db_parameter_group.name": [LETTERS_DIGITS_HYPHENS(255, "parameter group names"), STARTS_WITH_LETTER, NO_DOUBLE_OR_TRAILING_HYPHEN],
  // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSubnetGroup.html (DBSubnetGroupName)
  "aws_db_subnet_group.name": [
    (v) =>
      v.length <= 255 && /^[a-z0-9._ -]+$/.test(v)
        ? undefined
        : "a DB subnet group name is 1-255 of lowercase letters, digits, periods, underscores, spaces and hyphens",
    (v) => (v === "default" ? 'a DB subnet group may not be named "default"' : undefined),
  ],
  // https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html (ReplicationGroupId)
  "aws_elasticache_replication_group.replication_group_id": [
    LETTERS_DIGITS_HYPHENS(40, "replication group ids"),
    STARTS_WITH_LETTER,
    NO_DOUBLE_OR_TRAILING_HYPHEN,
  ],
  // https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateCacheSubnetGroup.html (CacheSubnetGroupName)
  "aws_elasticache_subnet_group.name": [LETTERS_DIGITS_HYPHENS(255, "cache subnet group names")],
  // https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ParameterGroups.Creating.html (a name starts with a letter; letters, digits, hyphens)
  "aws_elasticache_parameter_group.name": [
    LETTERS_DIGITS_HYPHENS(255, "cache parameter group names"),
    STARTS_WITH_LETTER,
    NO_DOUBLE_OR_TRAILING_HYPHEN,
  ],
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
  "aws_s3_bucket.bucket": [
    (v) => (v.length < 3 ? "bucket names are 3-63 characters" : undefined),
    (v) => (v.includes("..") ? "a bucket name may not hold two adjacent periods" : undefined),
    (v) => (/^\d+\.\d+\.\d+\.\d+$/.test(v) ? "a bucket name may not look like an IP address" : undefined),
    (v) => {
      const prefix = ["xn--", "sthree-", "amzn-s3-demo-"].find((p) => v.startsWith(p));
      return prefix ? `a bucket name may not begin with ${prefix}` : undefined;
    },
    (v) => {
      const suffix = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"].find((s) => v.endsWith(s));
      return suffix ? `a bucket name may not end with ${suffix}` : undefined;
    },
  ],
  // https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html (AliasName)
  "aws_kms_alias.name": [(v) => (v.startsWith("alias/aws/") ? "alias/aws/ is reserved for AWS managed keys" : undefined)],
  // https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html (Name)
  "aws_secretsmanager_secret.name": [
    (v) => (/^[A-Za-z0-9/_+=.@-]+$/.test(v) ? undefined : "a secret name holds only letters, digits and /_+=.@-"),
    (v) =>
      /-[A-Za-z0-9]{6}$/.test(v) ? "a secret name may not end with a hyphen and six characters (Secrets Manager's own suffix)" : undefined,
  ],
  // https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html (DomainName: the first
  // name becomes the certificate's subject and may not exceed 64 octets)
  "aws_acm_certificate.domain_name": [
    (v) =>
      v.length > 64
        ? `ACM's first domain name is at most 64 characters (this one has ${v.length}); make a shorter name the domainName and put this one in alternativeNames`
        : undefined,
  ],
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html (GroupName)
  "aws_security_group.name": [
    (v) =>
      v.length <= 255 && /^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]+$/.test(v)
        ? undefined
        : "a security group name is 1-255 of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*",
    (v) => (v.toLowerCase().startsWith("sg-") ? 'a security group name may not begin with "sg-"' : undefined),
  ],
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplate.html (LaunchTemplateName)
  "aws_launch_template.name": [
    (v) =>
      v.length >= 3 && v.length <= 128 && /^[a-zA-Z0-9().\-/_]+$/.test(v)
        ? undefined
        : "a launch template name is 3-128 of letters, digits and ().-/_",
  ],
  // https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html (Name)
  "aws_sns_topic.name": [
    (v) => (/^[A-Za-z0-9_-]{1,256}$/.test(v) ? undefined : "a topic name is 1-256 of letters, digits, hyphens and underscores"),
  ],
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html (DashboardName)
  "aws_cloudwatch_dashboard.dashboard_name": [
    (v) => (/^[A-Za-z0-9_-]{1,255}$/.test(v) ? undefined : "a dashboard name is 1-255 of letters, digits, - and _"),
  ],
};

/** The attributes a stack synthesizes from its settings that no rule constrains (the test's list of known ones). */
export const UNCONSTRAINED_ATTRIBUTES: readonly string[] = ["aws_cloudwatch_log_resource_policy.policy_name"];

/**
 * The tag rule of a Name tag's or tag value's service, where `attribute` is one: the service model's, or where
 * it states none (EC2, RDS, ElastiCache, S3), the limit every service has: 256 characters
 * (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html).
 */
function tagRule(attribute: string): ValueRule | undefined {
  const tag = /^([a-z0-9_]+)\..*tags?\.(\[\]\.)?(Name|value)$/.exec(attribute);
  const service = tag ? SERVICE[tag[1] ?? ""] : undefined;
  if (service === undefined) return undefined;
  return TAG_RULES[service]?.value ?? { source: `AWS tagging rules, ${service}`, max: 256 };
}

/** Whether some rule (generated, documented, or a tag rule) constrains `attribute`. */
export function hasRule(attribute: string): boolean {
  return attribute in NAME_RULES || attribute in HAND_RULES || tagRule(attribute) !== undefined;
}

/** What AWS refuses about `name` (the first rule it breaks), or undefined. */
export function derivedNameProblem(name: DerivedName): string | undefined {
  const key = name.rulesOf ?? name.attribute;
  const value = name.received ?? name.value;
  const tag = tagRule(name.attribute);
  const generated = valueRuleProblem(value, [...(NAME_RULES[key] ?? []), ...(tag ? [tag] : [])]);
  if (generated) return generated;
  for (const rule of HAND_RULES[key] ?? []) {
    const problem = rule(value);
    if (problem) return problem;
  }
  return undefined;
}

/** Every name and Name tag an environment's stack (and the bootstrap stack, for this environment) makes from its settings. */
export function derivedNames(config: EnvironmentConfig): DerivedName[] {
  const P = namePrefix(config.project, config.name);
  const names: DerivedName[] = [];
  const add = (attribute: string, value: string, what: string, extra: Partial<DerivedName> = {}) =>
    names.push({ attribute, value, what, field: "name", ...extra });
  const tag = (type: string, value: string, what: string, extra: Partial<DerivedName> = {}) =>
    add(`${type}.tags.Name`, value, `${what}'s Name tag`, extra);
  const zones = config.network.availabilityZones;

  // Network (modules/networking/index.ts).
  tag("aws_vpc", `${P}-vpc`, "the VPC");
  tag("aws_default_security_group", `${P}-default-closed`, "the default security group");
  for (const tier of ["public", "app", "data"]) for (const zone of zones) tag("aws_subnet", `${P}-${tier}-${zone}`, "a subnet");
  tag("aws_internet_gateway", `${P}-igw`, "the internet gateway");
  tag("aws_route_table", `${P}-public`, "the public route table");
  tag("aws_route_table", `${P}-data`, "the data route table");
  for (const zone of zones) tag("aws_route_table", `${P}-app-${zone}`, "an app route table");
  const natZones = config.network.natGateways === "per-az" ? zones : config.network.natGateways === "single" ? zones.slice(0, 1) : [];
  for (const zone of natZones) {
    tag("aws_eip", `${P}-nat-${zone}`, "a NAT gateway's address");
    tag("aws_nat_gateway", `${P}-nat-${zone}`, "a NAT gateway");
  }
  tag("aws_vpc_endpoint", `${P}-s3`, "the S3 endpoint");
  tag("aws_vpc_endpoint", `${P}-dynamodb`, "the DynamoDB endpoint");
  const endpoints = config.network.interfaceEndpoints ?? [];
  for (const service of endpoints) tag("aws_vpc_endpoint", `${P}-${service}`, "an interface endpoint");
  if (endpoints.length > 0) securityGroup("endpoints");
  add("aws_cloudwatch_log_group.name", `/vpc/${P}/flow-logs`, "the flow-log group");
  add("aws_iam_role.name", `${P}-vpc-flow-logs`, "the flow-log role");
  tag("aws_flow_log", `${P}-flow-log`, "the flow log");

  // KMS keys (modules/primitives/encryption-key.ts), one per capability.
  for (const alias of [
    "logs",
    "secrets",
    "database",
    "cache",
    "uploads",
    "app-volumes",
    "boot",
    "jobs",
    ...(config.monitoring.topic ? ["alarms"] : []),
  ]) {
    add("aws_kms_alias.name", `alias/${P}-${alias}`, `the ${alias} key's alias`);
    tag("aws_kms_key", `${P}-${alias}`, `the ${alias} key`);
  }

  // Secrets (modules/secrets/index.ts, database.ts, cache.ts).
  for (const id of ["app-env", "repository-credential", "database-app-user", "redis-auth-token"]) {
    add("aws_secretsmanager_secret.name", `${P}/${id}`, `the ${id} secret's name`);
    tag("aws_secretsmanager_secret", `${P}/${id}`, `the ${id} secret`);
  }

  // Database (modules/database/index.ts).
  const db = `${P}-db`;
  add("aws_db_instance.identifier", db, "the database's identifier");
  tag("aws_db_instance", db, "the database");
  add(
    "aws_db_instance.final_snapshot_identifier",
    `${db}-final-\${formatdate("YYYYMMDDhhmmss", timestamp())}`,
    "the database's final snapshot",
    {
      received: `${db}-final-20260101000000`,
    },
  );
  securityGroup("database");
  add("aws_db_subnet_group.name", `${P}-database`, "the database subnet group's name");
  tag("aws_db_subnet_group", `${P}-database`, "the database subnet group");
  const family = config.database.engine === "mysql" ? "mysql8-0" : "postgres16";
  // Terraform completes a name prefix with a 26-character unique id.
  add("aws_db_parameter_group.name_prefix", `${P}-${family}-`, "the database parameter group's name", {
    received: `${P}-${family}-20260101000000000000000001`,
    rulesOf: "aws_db_parameter_group.name",
  });
  tag("aws_db_parameter_group", `${P}-database`, "the database parameter group");
  const logs = config.database.engine === "mysql" ? ["error", "slowquery"] : ["postgresql", "upgrade"];
  for (const log of logs) add("aws_cloudwatch_log_group.name", `/aws/rds/instance/${db}/${log}`, `the database's ${log} log group`);
  if (resolveDatabaseSettings(config.database).monitoringIntervalSeconds > 0)
    add("aws_iam_role.name", `${P}-rds-monitoring`, "the enhanced-monitoring role");

  // File system (modules/file-system/index.ts).
  add("aws_efs_file_system.creation_token", `${P}-uploads`, "the file system's creation token");
  tag("aws_efs_file_system", `${P}-uploads`, "the file system");
  tag("aws_efs_access_point", `${P}-uploads`, "the access point");
  securityGroup("efs");

  // Cache (modules/cache/index.ts).
  add("aws_elasticache_replication_group.replication_group_id", `${P}-cache`, "the cache's replication group id");
  tag("aws_elasticache_replication_group", `${P}-cache`, "the cache");
  add("aws_elasticache_subnet_group.name", `${P}-cache`, "the cache subnet group's name");
  add("aws_elasticache_parameter_group.name", `${P}-cache`, "the cache parameter group's name");
  tag("aws_elasticache_parameter_group", `${P}-cache`, "the cache parameter group");
  tag("aws_elasticache_subnet_group", `${P}-cache`, "the cache subnet group");
  add("aws_cloudwatch_log_group.name", `/elasticache/${P}/slow-log`, "the cache's slow-log group");
  securityGroup("cache");

  // Edge (modules/certificate/index.ts, load-balancer.ts, waf.ts).
  const edge = config.edge;
  add("aws_acm_certificate.domain_name", edge.domainName, "the certificate's first name", { field: "edge.domainName" });
  (edge.alternativeNames ?? []).forEach((name, i) =>
    add("aws_acm_certificate.subject_alternative_names.[]", name, "a name on the certificate", {
      field: `edge.alternativeNames[${i}]`,
      rulesOf: "aws_acm_certificate.subject_alternative_names",
    }),
  );
  tag("aws_acm_certificate", `${P}-${edge.domainName}`, "the certificate", { field: "edge.domainName" });
  add("aws_lb.name", `${P}-alb`, "the load balancer's name");
  tag("aws_lb", `${P}-alb`, "the load balancer");
  securityGroup("alb");
  add("aws_lb_target_group.name_prefix", `${config.compute.appPort}-`, "the target group's name prefix", { field: "compute.appPort" });
  tag("aws_lb_target_group", `${P}-${config.compute.appPort}`, "the target group");
  tag("aws_lb_listener", `${P}-https`, "the HTTPS listener");
  tag("aws_lb_listener", `${P}-http-redirect`, "the HTTP listener");
  add("aws_s3_bucket.bucket", `${P}-alb-logs-${config.accountId}`, "the access-log bucket's name");
  tag("aws_s3_bucket", `${P}-alb-logs`, "the access-log bucket");
  if (edge.waf.enabled) {
    add("aws_wafv2_web_acl.name", `${P}-web-acl`, "the web ACL's name");
    tag("aws_wafv2_web_acl", `${P}-web-acl`, "the web ACL");
    const metric = P.replace(/[^A-Za-z0-9_-]/g, "-");
    add("aws_wafv2_web_acl.visibility_config.metric_name", `${metric}-web-acl`, "the web ACL's metric");
    for (const rule of [...MANAGED_RULE_GROUPS, "RateLimitPerIp"]) {
      add("aws_wafv2_web_acl.rule.[].visibility_config.metric_name", `${metric}-${rule}`, `the ${rule} rule's metric`, {
        rulesOf: "aws_wafv2_web_acl.visibility_config.metric_name",
      });
    }
    add("aws_cloudwatch_log_group.name", `aws-waf-logs-${P}`, "the WAF log group");
    add("aws_cloudwatch_log_resource_policy.policy_name", `${P}-waf-log-delivery`, "the WAF log delivery policy");
  }

  // App tier (modules/compute).
  const app = `${P}-app`;
  securityGroup("app");
  add("aws_cloudwatch_log_group.name", `/${P}/app`, "the app's log group");
  add("aws_iam_role.name", app, "the instance role");
  add("aws_iam_instance_profile.name", app, "the instance profile");
  add("aws_launch_template.name", app, "the launch template's name");
  tag("aws_launch_template", app, "the launch template");
  add("aws_launch_template.tag_specifications.[].tags.Name", app, "the instances' Name tag");
  add("aws_autoscaling_group.name", app, "the Auto Scaling group's name");
  add("aws_autoscaling_group.tag.[].value", app, "the Auto Scaling group's Name tag");
  add("aws_autoscaling_policy.name", `${app}-cpu`, "the CPU scaling policy");
  add("aws_s3_bucket.bucket", `${P}-boot-${config.accountId}`, "the boot bundle bucket's name");
  tag("aws_s3_bucket", `${P}-boot-${config.accountId}`, "the boot bundle bucket");
  add("aws_dynamodb_table.name", `${P}-jobs`, "the timed jobs' table");
  tag("aws_dynamodb_table", `${P}-jobs`, "the timed jobs' table");
  if (config.compute.scaling.requestsPerTarget !== undefined)
    add("aws_autoscaling_policy.name", `${app}-requests`, "the request-count scaling policy");
  (config.compute.scheduledActions ?? []).forEach((action, i) =>
    add("aws_autoscaling_schedule.scheduled_action_name", action.name, "a scheduled action's name", {
      field: `compute.scheduledActions[${i}].name`,
    }),
  );

  // Monitoring (modules/monitoring, each capability's alarms.ts): every alarm a configuration can have; the longest decide.
  if (config.monitoring.topic) add("aws_sns_topic.name", `${P}-alarms`, "the alarm topic");
  add("aws_cloudwatch_dashboard.dashboard_name", `${P}-overview`, "the dashboard");
  add("aws_cloudwatch_event_rule.name", `${P}-launch-unsuccessful`, "the launch-failure rule");
  add("aws_cloudwatch_event_rule.name", `${P}-spot-interruptions`, "the Spot interruption rule");
  for (const filter of ["boot-failures", "lock-failures"])
    add("aws_cloudwatch_log_metric_filter.name", `${P}-${filter}`, `the ${filter} metric filter`);
  add("aws_cloudwatch_log_metric_filter.metric_transformation.namespace", `${P}/app`, "the app's metric namespace");
  add("aws_cloudwatch_metric_alarm.namespace", `${P}/app`, "the app's metric namespace");
  for (const alarm of ALARMS(config.cache.nodeCount)) add("aws_cloudwatch_metric_alarm.alarm_name", `${P}-${alarm}`, `the ${alarm} alarm`);

  // Made for this environment by the bootstrap stack (modules/bootstrap/permissions-boundary.ts, ci-roles.ts).
  add("aws_iam_policy.name", workloadBoundaryName(config.project, config.name), "the environment's permissions boundary (bootstrap stack)");
  for (const kind of ["plan", "apply"] as const)
    add("aws_iam_role.name", ciRoleName(config.project, config.name, kind), `the CI ${kind} role (bootstrap stack)`);
  add("aws_kms_alias.name", `alias/${planKeyAlias(config.project, config.name)}`, "the CI plan key's alias (bootstrap stack)");
  return names;

  function securityGroup(id: string): void {
    add("aws_security_group.name", `${P}-${id}`, `the ${id} security group's name`);
    tag("aws_security_group", `${P}-${id}`, `the ${id} security group`);
  }
}

/** The alarms a cache of `nodes` nodes can give an environment, and the fleet's, database's and edge's (each capability's alarms.ts). */
function ALARMS(nodes: number): string[] {
  const cache = Array.from({ length: Math.max(1, Math.min(nodes, 6)) }, (_, i) =>
    ["memory", "evictions", "cpu", "replication-lag"].map((m) => `cache-${i + 1}-${m}`),
  ).flat();
  return [
    "alb-5xx-rate",
    "target-5xx-rate",
    "target-p95-latency",
    "unhealthy-hosts",
    "no-healthy-hosts",
    "rejected-connections",
    "waf-blocked-spike",
    "certificate-expiry",
    "in-service-below-minimum",
    "replacement-shortfall",
    "spot-interruptions",
    "boot-failures",
    "launch-abandoned",
    "group-cpu-high",
    "lock-failures",
    "job-failures",
    "jobs-missed",
    "job-leases-lost",
    "database-cpu",
    "database-free-storage",
    "database-freeable-memory",
    "database-connections",
    "efs-io-limit",
    "efs-burst-credits",
    ...cache,
  ];
}

/** The names AWS would refuse, one problem each, against the setting they are made from. */
export function checkDerivedNames(config: EnvironmentConfig, problems: Problems): void {
  const seen = new Set<string>();
  const names = derivedNames(config);
  // For a name made from the project and the environment name: the same names with either one swapped for a
  // plain value (the list's order does not depend on them), to tell which of the two AWS refuses.
  let alone: { project: DerivedName[]; name: DerivedName[] } | undefined;
  names.forEach((name, i) => {
    const key = `${name.rulesOf ?? name.attribute}=${name.received ?? name.value}`;
    if (seen.has(key)) return;
    seen.add(key);
    const problem = derivedNameProblem(name);
    if (!problem) return;
    let field = name.field;
    let source = "";
    if (name.field === "name") {
      alone ??= { project: derivedNames({ ...config, name: "env" }), name: derivedNames({ ...config, project: "app" }) };
      const project = alone.project[i];
      const own = alone.name[i];
      if (project && derivedNameProblem(project) && !(own && derivedNameProblem(own))) field = "project";
      else if (!(own && derivedNameProblem(own)) || (project && derivedNameProblem(project)))
        source = ` from project ${JSON.stringify(config.project)} and name`;
    }
    const value = field === "name" ? config.name : field === "project" ? config.project : fieldValue(config, field);
    problems.add(
      field,
      value,
      `makes ${name.what} ${JSON.stringify(name.received ?? name.value)} (${name.rulesOf ?? name.attribute}${source}), which AWS refuses: ${problem}`,
    );
  });
  checkTagValues(config, problems);
}

function fieldValue(config: EnvironmentConfig, field: string): unknown {
  return field
    .split(/\.|\[(\d+)\]/)
    .filter((part) => part !== undefined && part !== "")
    .reduce<unknown>((value, part) => (value as Record<string, unknown> | undefined)?.[part], config);
}

/**
 * Tags reach every resource of the stack through the provider's default tags: each key and value must pass
 * the tag rules of every service the stack tags (some allow only letters, digits, spaces and `_.:/=+-@`).
 */
function checkTagValues(config: EnvironmentConfig, problems: Problems): void {
  const services = taggedServices(config);
  const standard = standardTags({
    project: config.project,
    environment: config.name,
    repository: config.repository,
    extraTags: config.tags,
  });
  for (const [key, value] of Object.entries(standard)) {
    const field = key in (config.tags ?? {}) ? `tags.${key}` : key === "Repository" ? "repository" : undefined;
    if (field === undefined) continue; // Project, Environment, ManagedBy: checked by the name rules
    // Reserved aws: keys and lengths are the validator's own tag checks; here, the services' character sets.
    if (/^aws:/i.test(key)) continue;
    for (const part of ["key", "value"] as const) {
      const text = part === "key" ? key : value;
      const refusing = services.flatMap((service) => {
        const pattern = TAG_RULES[service]?.[part]?.pattern;
        const problem = pattern
          ? valueRuleProblem(text, [{ source: `botocore ${service} Tag.${part === "key" ? "Key" : "Value"}`, pattern }])
          : undefined;
        return problem ? [{ service, problem }] : [];
      });
      const first = refusing[0];
      if (first === undefined) continue;
      problems.add(
        field,
        value,
        `the tag ${part} ${JSON.stringify(text)} goes on every resource, and ${refusing.map((r) => r.service).join(", ")} refuse it: ${first.problem}`,
      );
    }
  }
}
