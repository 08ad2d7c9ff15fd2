// The edge's defaults are written once (resolveLoadBalancerSettings, resolveWafSettings): their values, and an
// environment that leaves every optional edge setting out, whose load balancer, app tier, web ACL and
// validator must all carry the same resolved value.
import { gunzipSync } from "node:zlib";
import { dev } from "../environments/dev";
import { validateEnvironments } from "../environments/schema/validate";
import type { EnvironmentConfig } from "../environments/schema/types";
import { checkLoadBalancerSettings, LoadBalancerSettings, resolveLoadBalancerSettings } from "../modules/load-balancer";
import { Problems } from "../modules/primitives/validation";
import { resolveWafSettings } from "../modules/waf";
import { Json, resourceList, synthEnvironment } from "./support/synth";

const required: LoadBalancerSettings = { healthCheck: {}, deletionProtection: false, accessLogRetentionDays: 30 };

describe("resolveLoadBalancerSettings", () => {
  test("fills in the documented defaults, and keeps what is set", () => {
    expect(resolveLoadBalancerSettings(required)).toEqual({
      ...required,
      healthCheck: { matcher: "200", intervalSeconds: 15, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
      deregistrationDelaySeconds: 30,
      slowStartSeconds: 0,
      idleTimeoutSeconds: 60,
      tlsPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      hstsMaxAgeSeconds: 31536000,
      targetHealthySeconds: 15 * 2 + 5,
    });
    const set = resolveLoadBalancerSettings({
      ...required,
      deregistrationDelaySeconds: 0,
      hstsMaxAgeSeconds: 0,
      healthCheck: { intervalSeconds: 10 },
    });
    expect(set).toMatchObject({ deregistrationDelaySeconds: 0, hstsMaxAgeSeconds: 0, targetHealthySeconds: 10 * 2 + 5 });
    expect(set.stickinessDurationSeconds).toBeUndefined();
  });

  test("the check reads the resolved value where a message names a default", () => {
    const problems = Problems.create();
    checkLoadBalancerSettings({ ...required, healthCheck: { timeoutSeconds: 20 } }, problems);
    expect(problems.list).toEqual([
      { path: "healthCheck.timeoutSeconds", value: 20, message: "must be less than healthCheck.intervalSeconds (15)" },
    ]);
  });

  test("the web ACL's defaults", () => {
    expect(resolveWafSettings({ enabled: true })).toEqual({
      enabled: true,
      rateLimitPer5Minutes: 2000,
      commonRuleSetCountOnly: ["SizeRestrictions_BODY"],
    });
  });
});

describe("an environment that leaves every optional edge setting out", () => {
  // dev's edge without its optional load balancer settings, with a web ACL left at its defaults.
  const optional = [
    "deregistrationDelaySeconds",
    "slowStartSeconds",
    "stickinessDurationSeconds",
    "idleTimeoutSeconds",
    "tlsPolicy",
    "hstsMaxAgeSeconds",
  ] as const satisfies readonly (keyof LoadBalancerSettings)[];
  const edge: Record<string, unknown> = { ...dev.edge, healthCheck: {}, waf: { enabled: true } };
  for (const key of optional) delete edge[key];
  const config: EnvironmentConfig = { ...dev, edge: edge as unknown as EnvironmentConfig["edge"] };
  const resolved = resolveLoadBalancerSettings(config.edge);
  const json = synthEnvironment(config).json;
  const one = (type: string, match: (r: Json) => boolean = () => true): Json => {
    const found = resourceList(json, type).filter(match);
    expect(found).toHaveLength(1);
    return found[0]!;
  };

  test("passes the validator, whose Spot drain check reads the resolved deregistration delay", () => {
    expect(validateEnvironments([config], [config])).toEqual([]);
  });

  test("the load balancer is built with the resolved values", () => {
    expect(one("aws_lb").idle_timeout).toBe(resolved.idleTimeoutSeconds);
    const group = one("aws_lb_target_group");
    expect(group.deregistration_delay).toBe(String(resolved.deregistrationDelaySeconds));
    expect(group.slow_start).toBe(resolved.slowStartSeconds);
    expect(group.health_check).toMatchObject({
      matcher: resolved.healthCheck.matcher,
      interval: resolved.healthCheck.intervalSeconds,
      timeout: resolved.healthCheck.timeoutSeconds,
      healthy_threshold: resolved.healthCheck.healthyThreshold,
      unhealthy_threshold: resolved.healthCheck.unhealthyThreshold,
    });
    const https = one("aws_lb_listener", (l) => l.protocol === "HTTPS");
    expect(https.ssl_policy).toBe(resolved.tlsPolicy);
    expect(https.routing_http_response_strict_transport_security_header_value).toBe(
      `max-age=${resolved.hstsMaxAgeSeconds}; includeSubDomains`,
    );
  });

  test("the app tier's boot settings carry the same resolved values", () => {
    const bundle = one("aws_s3_object", (o) => typeof o.content_base64 === "string" && o.key?.startsWith("boot/"));
    const script = gunzipSync(Buffer.from(bundle.content_base64, "base64")).toString("utf8");
    expect(script).toContain(`DEREGISTRATION_DELAY_SECONDS='${resolved.deregistrationDelaySeconds}'`);
    expect(script).toContain(`LB_IDLE_TIMEOUT_SECONDS='${resolved.idleTimeoutSeconds}'`);
    expect(script).toContain(`TARGET_HEALTHY_SECONDS='${resolved.targetHealthySeconds}'`);
  });

  test("the web ACL is built with its resolved values", () => {
    const waf = resolveWafSettings(config.edge.waf);
    const acl = one("aws_wafv2_web_acl");
    const rule = (name: string) => acl.rule.find((r: Json) => r.name === name);
    expect(rule("RateLimitPerIp").statement.rate_based_statement.limit).toBe(waf.rateLimitPer5Minutes);
    const overrides = rule("AWSManagedRulesCommonRuleSet").statement.managed_rule_group_statement.rule_action_override;
    expect(overrides.map((o: Json) => o.name)).toEqual(waf.commonRuleSetCountOnly);
  });
});
