import { Wafv2WebAcl } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { Wafv2WebAclLoggingConfiguration } from "@cdktf/provider-aws/lib/wafv2-web-acl-logging-configuration";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DEFAULT_RATE_LIMIT, MANAGED_RULE_GROUPS, Waf, WafProps } from "../modules/waf";
import { validateEnvironments } from "../environments/schema/validate";
import { ENVIRONMENTS } from "../environments";
import { environment } from "./support/fixtures";
import { Json, policy, resourceList, synthConstruct, synthEnvironment } from "./support/synth";

const props: WafProps = {
  enabled: true,
  namePrefix: "webapp-test",
  region: "eu-west-2",
  accountId: "111111111111",
  loadBalancerArn: "arn:aws:elasticloadbalancing:eu-west-2:111111111111:loadbalancer/app/webapp-test-alb/abc",
  logsKeyArn: "arn:aws:kms:eu-west-2:111111111111:key/test",
  logRetentionDays: 30,
};

const build = (overrides: Partial<WafProps> = {}) => synthConstruct((scope) => new Waf(scope, "waf", { ...props, ...overrides }));

const only = (json: Json, type: string): Json => {
  const list = resourceList(json, type);
  expect(list).toHaveLength(1);
  return list[0] as Json;
};

describe("web ACL", () => {
  const { text, json } = build({ rateLimitPer5Minutes: 500 });
  const acl = only(json, "aws_wafv2_web_acl");
  const rule = (name: string): Json => acl.rule.find((r: Json) => r.name === name);

  it("is REGIONAL, allows by default, and records metrics and sampled requests", () => {
    expect(text).toHaveResourceWithProperties(Wafv2WebAcl, {
      name: "webapp-test-web-acl",
      scope: "REGIONAL",
      default_action: { allow: {} },
      visibility_config: { cloudwatch_metrics_enabled: true, sampled_requests_enabled: true, metric_name: "webapp-test-web-acl" },
    });
    for (const r of acl.rule) {
      expect(r.visibility_config).toEqual({
        cloudwatch_metrics_enabled: true,
        sampled_requests_enabled: true,
        metric_name: `webapp-test-${r.name}`,
      });
    }
  });

  it("blocks an IP above the configured rate first", () => {
    expect(rule("RateLimitPerIp")).toEqual(
      expect.objectContaining({
        priority: 0,
        action: { block: {} },
        statement: { rate_based_statement: { limit: 500, aggregate_key_type: "IP", evaluation_window_sec: 300 } },
      }),
    );
  });

  it("applies the four AWS managed rule groups with their own actions", () => {
    for (const name of MANAGED_RULE_GROUPS) {
      expect(rule(name)).toMatchObject({
        override_action: { none: {} },
        statement: { managed_rule_group_statement: { name, vendor_name: "AWS" } },
      });
    }
    const priorities = acl.rule.map((r: Json) => r.priority);
    expect(new Set(priorities).size).toBe(priorities.length);
  });

  it("only counts large bodies in the common rule set by default (uploads), blocking everything else", () => {
    expect(rule("AWSManagedRulesCommonRuleSet").statement.managed_rule_group_statement.rule_action_override).toEqual([
      { name: "SizeRestrictions_BODY", action_to_use: { count: {} } },
    ]);
    expect(rule("AWSManagedRulesKnownBadInputsRuleSet").statement.managed_rule_group_statement.rule_action_override).toBeUndefined();
    expect(rule("AWSManagedRulesAnonymousIpList").statement.managed_rule_group_statement.rule_action_override).toEqual([
      { name: "HostingProviderIPList", action_to_use: { count: {} } },
    ]);
    const strict = only(build({ commonRuleSetCountOnly: [] }).json, "aws_wafv2_web_acl");
    const common = strict.rule.find((r: Json) => r.name === "AWSManagedRulesCommonRuleSet");
    expect(common.statement.managed_rule_group_statement.rule_action_override).toBeUndefined();
  });

  it("is associated with the load balancer", () => {
    expect(text).toHaveResourceWithProperties(Wafv2WebAclAssociation, {
      resource_arn: props.loadBalancerArn,
      web_acl_arn: expect.stringMatching(/^\$\{aws_wafv2_web_acl\.\S+\.arn\}$/),
    });
  });

  it("logs to an encrypted aws-waf-logs-* group, redacting credentials, once delivery may write there", () => {
    expect(text).toHaveResourceWithProperties(CloudwatchLogGroup, {
      name: "aws-waf-logs-webapp-test",
      retention_in_days: 30,
      kms_key_id: props.logsKeyArn,
    });
    expect(text).toHaveResourceWithProperties(Wafv2WebAclLoggingConfiguration, {
      log_destination_configs: [expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.\S+\.arn\}$/)],
      redacted_fields: [{ single_header: { name: "authorization" } }, { single_header: { name: "cookie" } }],
    });
    expect(only(json, "aws_wafv2_web_acl_logging_configuration").depends_on).toEqual([
      expect.stringMatching(/^aws_cloudwatch_log_resource_policy\./),
    ]);
    const document = policy(only(json, "aws_cloudwatch_log_resource_policy").policy_document as string);
    expect(document.Statement).toEqual([
      {
        Sid: "WafLogDelivery",
        Effect: "Allow",
        Principal: { Service: "delivery.logs.amazonaws.com" },
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.\S+\.arn\}:\*$/),
        Condition: {
          ArnLike: { "aws:SourceArn": "arn:aws:logs:eu-west-2:111111111111:*" },
          StringEquals: { "aws:SourceAccount": "111111111111" },
        },
      },
    ]);
  });
});

describe("WAF per environment", () => {
  const synthesized = ENVIRONMENTS.map((e) => [e.name, e, synthEnvironment(e)] as const);

  it.each(synthesized.filter(([, e]) => !e.edge.waf.enabled))(
    "%s has no web ACL, association or WAF log group",
    (_name, _config, { json }) => {
      expect(resourceList(json, "aws_wafv2_web_acl")).toHaveLength(0);
      expect(resourceList(json, "aws_wafv2_web_acl_association")).toHaveLength(0);
      expect(resourceList(json, "aws_cloudwatch_log_group").filter((g) => String(g.name).startsWith("aws-waf-logs-"))).toHaveLength(0);
    },
  );

  it.each(synthesized.filter(([, e]) => e.edge.waf.enabled))(
    "%s has exactly one web ACL associated with its load balancer",
    (name, config, { json, text }) => {
      const association = only(json, "aws_wafv2_web_acl_association");
      expect(association.resource_arn).toMatch(/^\$\{aws_lb\.load-balancer_alb_\S+\.arn\}$/);
      const limit = config.edge.waf.rateLimitPer5Minutes ?? DEFAULT_RATE_LIMIT;
      expect(text).toHaveResourceWithProperties(Wafv2WebAcl, {
        name: `${config.project}-${name}-web-acl`,
        scope: "REGIONAL",
        rule: expect.arrayContaining([
          expect.objectContaining({ statement: { rate_based_statement: expect.objectContaining({ limit }) } }),
        ]),
      });
      expect(text).toHaveResourceWithProperties(CloudwatchLogGroup, {
        name: `aws-waf-logs-${config.project}-${name}`,
        retention_in_days: config.logRetentionDays,
      });
    },
  );
});

describe("WAF settings rejections", () => {
  it.each([
    [9, /^dev: edge\.waf\.rateLimitPer5Minutes = 9: WAF accepts 10 to 2000000000 requests per 5 minutes$/],
    [2_000_000_001, /edge\.waf\.rateLimitPer5Minutes = 2000000001: WAF accepts 10/],
    [100.5, /edge\.waf\.rateLimitPer5Minutes = 100\.5: WAF accepts 10/],
  ])("rejects a rate limit of %d", (limit, message) => {
    expect(validateEnvironments([environment({ edge: { waf: { enabled: true, rateLimitPer5Minutes: limit } } })])).toContainEqual(
      expect.stringMatching(message),
    );
  });

  it("accepts the limits at both ends", () => {
    for (const limit of [10, 2_000_000_000]) {
      expect(validateEnvironments([environment({ edge: { waf: { enabled: true, rateLimitPer5Minutes: limit } } })])).toEqual([]);
    }
  });

  it("rejects bad or repeated count-only rule names", () => {
    const lines = validateEnvironments([
      environment({ edge: { waf: { enabled: true, commonRuleSetCountOnly: ["NoUserAgent_HEADER", "bad name", "NoUserAgent_HEADER"] } } }),
    ]);
    expect(lines).toContainEqual(expect.stringMatching(/edge\.waf\.commonRuleSetCountOnly\[1\] = "bad name": not a rule name/));
    expect(lines).toContainEqual(expect.stringMatching(/edge\.waf\.commonRuleSetCountOnly\[2\] = "NoUserAgent_HEADER": listed twice/));
  });

  it("the construct rejects a bad limit and a log retention CloudWatch does not accept", () => {
    expect(() => build({ rateLimitPer5Minutes: 5 })).toThrow(/test\/waf: rateLimitPer5Minutes = 5: WAF accepts 10/);
    expect(() => build({ logRetentionDays: 10 })).toThrow(/logRetentionDays = 10: CloudWatch Logs accepts only/);
  });
});
