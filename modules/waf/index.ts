// An AWS WAFv2 web ACL (REGIONAL) in front of the load balancer: a per-IP rate limit and AWS managed rule
// groups (IP reputation, anonymous IPs, common rule set, known bad inputs), with metrics and sampled requests
// on, and its log to an encrypted CloudWatch log group. Whether an environment has one is the composing
// stack's call.
import { Construct } from "constructs";
import { Wafv2WebAcl, Wafv2WebAclRule } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { Wafv2WebAclLoggingConfiguration } from "@cdktf/provider-aws/lib/wafv2-web-acl-logging-configuration";
import { CloudwatchLogResourcePolicy } from "@cdktf/provider-aws/lib/cloudwatch-log-resource-policy";
import { formatArn } from "../primitives/arn";
import { EncryptedLogGroup } from "../primitives/log-group";
import { checkLogRetention } from "../primitives/logs";
import { policyDocument } from "../primitives/policy";
import { assertValid, Problems } from "../primitives/validation";

/** The web application firewall settings an environment chooses. */
export interface WafSettings {
  /** Put a web ACL in front of the load balancer. */
  readonly enabled: boolean;
  /** Requests one client IP may send in any 5 minutes before it is blocked, 10-2000000000. @default 2000 */
  readonly rateLimitPer5Minutes?: number;
  /**
   * Rules of AWSManagedRulesCommonRuleSet that only count instead of blocking. The default lets request
   * bodies over 8 KB (file uploads) through.
   * @default ["SizeRestrictions_BODY"]
   */
  readonly commonRuleSetCountOnly?: readonly string[];
}

export interface WafProps extends WafSettings {
  /** Prefix of resource names, for example `webapp-prod`. */
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
  /** The load balancer the web ACL protects. */
  readonly loadBalancerArn: string;
  /** KMS key that encrypts the WAF log group; its policy must allow CloudWatch Logs. */
  readonly logsKeyArn: string;
  /** Retention of the WAF log group, in days (a value CloudWatch Logs accepts). */
  readonly logRetentionDays: number;
}

export const MIN_RATE_LIMIT = 10;
export const MAX_RATE_LIMIT = 2_000_000_000;
/** Requests one client IP may send in any 5 minutes. @default 2000 */
export const DEFAULT_RATE_LIMIT = 2000;
/** Common rule set rules that only count: request bodies over 8 KB (file uploads) get through. @default ["SizeRestrictions_BODY"] */
export const DEFAULT_COMMON_RULE_SET_COUNT_ONLY: readonly string[] = ["SizeRestrictions_BODY"];
const RULE_NAME = /^[A-Za-z0-9_-]{1,128}$/;

/** AWS managed rule groups every web ACL carries, in evaluation order (after the rate limit). */
export const MANAGED_RULE_GROUPS = [
  "AWSManagedRulesAmazonIpReputationList",
  "AWSManagedRulesAnonymousIpList",
  "AWSManagedRulesCommonRuleSet",
  "AWSManagedRulesKnownBadInputsRuleSet",
] as const;

/** The web ACL settings with every default filled in. */
export interface ResolvedWafSettings extends WafSettings {
  readonly rateLimitPer5Minutes: number;
  readonly commonRuleSetCountOnly: readonly string[];
}

/** The settings' defaults, written once: the check and the construct both read what this returns. */
export function resolveWafSettings<S extends WafSettings>(settings: S): S & ResolvedWafSettings {
  return {
    ...settings,
    rateLimitPer5Minutes: settings.rateLimitPer5Minutes ?? DEFAULT_RATE_LIMIT,
    commonRuleSetCountOnly: settings.commonRuleSetCountOnly ?? DEFAULT_COMMON_RULE_SET_COUNT_ONLY,
  };
}

/** One line per problem of the web ACL settings, checked with their defaults resolved. */
export function checkWafSettings(settings: WafSettings & { readonly logRetentionDays?: number }, problems: Problems): void {
  const props = resolveWafSettings(settings);
  const limit = props.rateLimitPer5Minutes;
  problems.check(
    Number.isInteger(limit) && limit >= MIN_RATE_LIMIT && limit <= MAX_RATE_LIMIT,
    "rateLimitPer5Minutes",
    limit,
    `WAF accepts ${MIN_RATE_LIMIT} to ${MAX_RATE_LIMIT} requests per 5 minutes`,
  );
  const countOnly = props.commonRuleSetCountOnly;
  countOnly.forEach((rule, i) => {
    const field = `commonRuleSetCountOnly[${i}]`;
    problems.check(RULE_NAME.test(rule), field, rule, "not a rule name (1-128 of A-Z, a-z, 0-9, _ and -)");
    problems.check(countOnly.indexOf(rule) === i, field, rule, "listed twice");
  });
  if (props.logRetentionDays !== undefined) checkLogRetention(problems, "logRetentionDays", props.logRetentionDays);
}

/** CloudWatch metric name: letters, digits, - and _ only. */
function metricName(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, "-");
}

export class Waf extends Construct {
  readonly webAcl: Wafv2WebAcl;
  readonly logGroup: EncryptedLogGroup;
  /** The web ACL's ARN and name, for alarms on its metrics. */
  readonly arn: string;
  readonly metricName: string;

  constructor(scope: Construct, id: string, wafProps: WafProps) {
    super(scope, id);
    assertValid(this, wafProps, checkWafSettings);
    const props = resolveWafSettings(wafProps);
    const prefix = metricName(props.namePrefix);
    const visibility = (name: string) => ({
      cloudwatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName: `${prefix}-${name}`,
    });
    const countOnly = props.commonRuleSetCountOnly;

    // `statement` is free-form in the bindings, so it is written in Terraform's snake_case.
    const managed = (name: (typeof MANAGED_RULE_GROUPS)[number], priority: number, overrides: readonly string[] = []): Wafv2WebAclRule => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: {
        managed_rule_group_statement: {
          name,
          vendor_name: "AWS",
          ...(overrides.length > 0
            ? { rule_action_override: overrides.map((rule) => ({ name: rule, action_to_use: { count: {} } })) }
            : {}),
        },
      },
      visibilityConfig: visibility(name),
    });

    this.metricName = `${prefix}-web-acl`;
    this.webAcl = new Wafv2WebAcl(this, "web-acl", {
      name: `${props.namePrefix}-web-acl`,
      description: `${props.namePrefix}: managed rules and a per-IP rate limit in front of the load balancer`,
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      rule: [
        {
          name: "RateLimitPerIp",
          priority: 0,
          action: { block: {} },
          statement: {
            rate_based_statement: {
              limit: props.rateLimitPer5Minutes,
              aggregate_key_type: "IP",
              evaluation_window_sec: 300,
            },
          },
          visibilityConfig: visibility("RateLimitPerIp"),
        },
        managed("AWSManagedRulesAmazonIpReputationList", 10),
        // Tor exits and anonymising proxies are blocked; cloud-hosted clients (monitors, integrations) only counted.
        managed("AWSManagedRulesAnonymousIpList", 20, ["HostingProviderIPList"]),
        managed("AWSManagedRulesCommonRuleSet", 30, countOnly),
        managed("AWSManagedRulesKnownBadInputsRuleSet", 40),
      ],
      visibilityConfig: visibility("web-acl"),
      tags: { Name: `${props.namePrefix}-web-acl` },
    });
    this.arn = this.webAcl.arn;

    new Wafv2WebAclAssociation(this, "association", {
      resourceArn: props.loadBalancerArn,
      webAclArn: this.webAcl.arn,
    });

    // WAF delivers logs only to log groups whose names start with `aws-waf-logs-`.
    this.logGroup = new EncryptedLogGroup(this, "log-group", {
      name: `aws-waf-logs-${props.namePrefix}`,
      retentionDays: props.logRetentionDays,
      kmsKeyArn: props.logsKeyArn,
    });
    const policy = new CloudwatchLogResourcePolicy(this, "log-delivery-policy", {
      policyName: `${props.namePrefix}-waf-log-delivery`,
      policyDocument: policyDocument({
        Sid: "WafLogDelivery",
        Effect: "Allow",
        Principal: { Service: "delivery.logs.amazonaws.com" },
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: `${this.logGroup.arn}:*`,
        Condition: {
          ArnLike: { "aws:SourceArn": formatArn({ service: "logs", region: props.region, account: props.accountId, resource: "*" }) },
          StringEquals: { "aws:SourceAccount": props.accountId },
        },
      }),
    });
    new Wafv2WebAclLoggingConfiguration(this, "logging", {
      resourceArn: this.webAcl.arn,
      logDestinationConfigs: [this.logGroup.arn],
      redactedFields: [{ singleHeader: { name: "authorization" } }, { singleHeader: { name: "cookie" } }],
      dependsOn: [policy],
    });
  }
}
