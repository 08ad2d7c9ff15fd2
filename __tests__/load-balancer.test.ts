import { Construct } from "constructs";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Connections } from "../modules/primitives/connections";
import {
  ACCESS_LOG_PREFIX,
  DEFAULT_HSTS_MAX_AGE_SECONDS,
  DEFAULT_TLS_POLICY,
  ELB_LOG_DELIVERY_SERVICE,
  elbLogDeliveryPrincipal,
  isValidMatcher,
  LoadBalancer,
  LoadBalancerProps,
  targetHealthySeconds,
} from "../modules/load-balancer";
import { validateEnvironments } from "../environments/schema/validate";
import { ENVIRONMENTS } from "../environments";
import { prod } from "../environments/prod";
import type { EnvironmentConfig } from "../environments/schema/types";
import { environment } from "./support/fixtures";
import { Json, policy, resourceList, resourceNamed, resources, synthConstruct, synthEnvironment } from "./support/synth";

const props: LoadBalancerProps = {
  namePrefix: "webapp-test",
  region: "eu-west-2",
  accountId: "111111111111",
  vpcId: "vpc-0123",
  publicSubnetIds: ["subnet-a", "subnet-b"],
  certificateArn: "arn:aws:acm:eu-west-2:111111111111:certificate/test",
  appPort: 8080,
  healthCheckPath: "/health",
  healthCheck: {},
  deletionProtection: false,
  accessLogRetentionDays: 30,
};

const build = (overrides: Partial<LoadBalancerProps> = {}, extra?: (scope: Construct, lb: LoadBalancer) => void) =>
  synthConstruct((scope) => {
    const lb = new LoadBalancer(scope, "edge", { ...props, ...overrides });
    extra?.(scope, lb);
  });

const envs: Record<string, { config: EnvironmentConfig; json: Json; text: string }> = Object.fromEntries(
  ENVIRONMENTS.map((config) => {
    const { json, text } = synthEnvironment(config);
    return [config.name, { config, json, text }];
  }),
);

const only = (json: Json, type: string): Json => {
  // The load balancer's own (a whole environment also has the boot bundle's bucket).
  const list = resourceList(json, type).filter((r) => !r["//"] || /\/load-balancer\//.test(r["//"].metadata.path));
  expect(list).toHaveLength(1);
  return list[0] as Json;
};

describe("load balancer", () => {
  const { text, json } = build();

  it("is a public ALB in the public subnets with its own security group", () => {
    expect(text).toHaveResourceWithProperties(Lb, {
      name: "webapp-test-alb",
      internal: false,
      load_balancer_type: "application",
      ip_address_type: "ipv4",
      subnets: ["subnet-a", "subnet-b"],
      security_groups: [expect.stringMatching(/^\$\{aws_security_group\.\S+\.id\}$/)],
      drop_invalid_header_fields: true,
      desync_mitigation_mode: "strictest",
      idle_timeout: 60,
      enable_deletion_protection: false,
    });
    expect(text).toHaveResourceWithProperties(SecurityGroup, { name: "webapp-test-alb", vpc_id: "vpc-0123" });
    expect(only(json, "aws_security_group").egress).toBeUndefined();
  });

  it("allows 443 and 80 in from anywhere over IPv4 and nothing else", () => {
    const rules = resourceList(json, "aws_vpc_security_group_ingress_rule");
    expect(rules.map((r) => [r.from_port, r.to_port, r.ip_protocol, r.cidr_ipv4, r.cidr_ipv6]).sort()).toEqual([
      [443, 443, "tcp", "0.0.0.0/0", undefined],
      [80, 80, "tcp", "0.0.0.0/0", undefined],
    ]);
    expect(resourceList(json, "aws_vpc_security_group_egress_rule")).toHaveLength(0);
  });

  it("serves HTTPS with the certificate and the TLS 1.3/1.2 policy, forwarding to the app", () => {
    expect(text).toHaveResourceWithProperties(LbListener, {
      port: 443,
      protocol: "HTTPS",
      ssl_policy: DEFAULT_TLS_POLICY,
      certificate_arn: props.certificateArn,
      default_action: [{ type: "forward", target_group_arn: expect.stringMatching(/^\$\{aws_lb_target_group\.\S+\.arn\}$/) }],
    });
  });

  it("adds HSTS for a year, nosniff and no Server header to every HTTPS response", () => {
    expect(text).toHaveResourceWithProperties(LbListener, {
      protocol: "HTTPS",
      routing_http_response_strict_transport_security_header_value: "max-age=31536000; includeSubDomains",
      routing_http_response_x_content_type_options_header_value: "nosniff",
      routing_http_response_server_enabled: false,
    });
    const noHsts = resourceList(build({ hstsMaxAgeSeconds: 0 }).json, "aws_lb_listener").find((l) => l.protocol === "HTTPS");
    expect(noHsts?.routing_http_response_x_content_type_options_header_value).toBe("nosniff");
    expect(noHsts?.routing_http_response_strict_transport_security_header_value).toBeUndefined();
  });

  it("answers plain HTTP only with a 301 to HTTPS", () => {
    expect(text).toHaveResourceWithProperties(LbListener, {
      port: 80,
      protocol: "HTTP",
      default_action: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", status_code: "HTTP_301" } }],
    });
    const http = resourceList(json, "aws_lb_listener").filter((l) => l.protocol === "HTTP");
    expect(http).toHaveLength(1);
    expect(JSON.stringify(http[0]?.default_action)).not.toContain("forward");
  });

  it("lets the provider name the target group, so create_before_destroy can replace it for any reason", () => {
    const group = resourceList(json, "aws_lb_target_group")[0]!;
    expect(group.name).toBeUndefined();
    expect(group.name_prefix).toBe("8080-");
    expect(String(group.name_prefix).length).toBeLessThanOrEqual(6);
    expect(group.lifecycle).toEqual({ create_before_destroy: true });
    expect(group.tags).toEqual({ Name: "webapp-test-8080" });
  });

  it("has a target group on the app port with the health check, draining and stickiness off", () => {
    expect(text).toHaveResourceWithProperties(LbTargetGroup, {
      name_prefix: "8080-",
      port: 8080,
      protocol: "HTTP",
      target_type: "instance",
      vpc_id: "vpc-0123",
      deregistration_delay: "30",
      slow_start: 0,
      health_check: {
        enabled: true,
        protocol: "HTTP",
        port: "traffic-port",
        path: "/health",
        matcher: "200",
        interval: 15,
        timeout: 5,
        healthy_threshold: 2,
        unhealthy_threshold: 3,
      },
      stickiness: { enabled: false, type: "lb_cookie" },
      lifecycle: { create_before_destroy: true },
    });
  });

  it("sends access logs to its own bucket, after the bucket policy exists", () => {
    const lb = only(json, "aws_lb");
    expect(lb.access_logs).toEqual({
      bucket: expect.stringMatching(/^\$\{aws_s3_bucket\.\S+\.bucket\}$/),
      prefix: ACCESS_LOG_PREFIX,
      enabled: true,
    });
    expect(lb.depends_on).toEqual([expect.stringMatching(/^aws_s3_bucket_policy\./)]);
  });

  it("makes the log bucket private, SSE-S3 encrypted, owner-enforced, versioned and expiring", () => {
    expect(text).toHaveResourceWithProperties(S3Bucket, { bucket: "webapp-test-alb-logs-111111111111", force_destroy: true });
    expect(text).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }],
    });
    expect(text).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(text).toHaveResourceWithProperties(S3BucketOwnershipControls, { rule: { object_ownership: "BucketOwnerEnforced" } });
    expect(text).toHaveResourceWithProperties(S3BucketVersioningA, { versioning_configuration: { status: "Enabled" } });
    expect(text).toHaveResourceWithProperties(S3BucketLifecycleConfiguration, {
      rule: [
        expect.objectContaining({
          status: "Enabled",
          expiration: [{ days: 30 }],
          abort_incomplete_multipart_upload: [{ days_after_initiation: 1 }],
        }),
      ],
    });
    const bucketPolicy = only(json, "aws_s3_bucket_policy");
    expect(bucketPolicy.depends_on).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^aws_s3_bucket_public_access_block\./),
        expect.stringMatching(/^aws_s3_bucket_ownership_controls\./),
      ]),
    );
  });

  it("lets the regional ELB account write only under the log prefix, and denies plain HTTP", () => {
    const document = policy(only(json, "aws_s3_bucket_policy").policy as string);
    const delivery = document.Statement.find((s: Json) => s.Sid === "ElbAccessLogDelivery");
    expect(delivery).toEqual({
      Sid: "ElbAccessLogDelivery",
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::652711504416:root" },
      Action: "s3:PutObject",
      Resource: expect.stringMatching(/^\$\{aws_s3_bucket\.\S+\.arn\}\/alb\/AWSLogs\/111111111111\/\*$/),
    });
    const deny = document.Statement.find((s: Json) => s.Sid === "DenyInsecureTransport");
    expect(deny).toMatchObject({ Effect: "Deny", Principal: "*", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } });
  });

  it("uses the log-delivery service principal in regions opened since August 2022", () => {
    const { json: newer } = build({ region: "eu-central-2" });
    const document = policy(only(newer, "aws_s3_bucket_policy").policy as string);
    expect(document.Statement[0].Principal).toEqual({ Service: ELB_LOG_DELIVERY_SERVICE });
  });

  it("exposes typed refs and connections with 443 as the default port", () => {
    let lb: LoadBalancer | undefined;
    build({}, (_scope, created) => (lb = created));
    expect(lb?.connections).toBeInstanceOf(Connections);
    expect(lb?.connections.defaultPort).toBe(443);
    expect(lb?.targetGroup.port).toBe(8080);
    for (const value of [
      lb?.targetGroup.arn,
      lb?.targetGroup.arnSuffix,
      lb?.loadBalancer.arn,
      lb?.loadBalancer.arnSuffix,
      lb?.loadBalancer.dnsName,
      lb?.loadBalancer.zoneId,
    ]) {
      expect(typeof value).toBe("string");
    }
  });

  it("writes the ALB to app rule pair when the app's connections allow it", () => {
    const { json: wired } = build({}, (scope, lb) => {
      const app = { connections: new Connections(scope, "app", "sg-app", 8080) };
      app.connections.allowFrom(lb, lb.targetGroup.port);
    });
    const egress = only(wired, "aws_vpc_security_group_egress_rule");
    expect(egress).toMatchObject({ referenced_security_group_id: "sg-app", from_port: 8080, to_port: 8080, ip_protocol: "tcp" });
    expect(egress.security_group_id).toMatch(/^\$\{aws_security_group\.\S+\.id\}$/);
    expect(resourceList(wired, "aws_vpc_security_group_ingress_rule").filter((r) => r.security_group_id === "sg-app")).toHaveLength(1);
  });

  it("honours slow start, stickiness, idle timeout, TLS policy and deletion protection", () => {
    const { text: custom, json: customJson } = build({
      slowStartSeconds: 60,
      stickinessDurationSeconds: 3600,
      idleTimeoutSeconds: 120,
      tlsPolicy: "ELBSecurityPolicy-TLS13-1-3-2021-06",
      deletionProtection: true,
      deregistrationDelaySeconds: 0,
    });
    expect(custom).toHaveResourceWithProperties(LbTargetGroup, {
      slow_start: 60,
      deregistration_delay: "0",
      stickiness: { enabled: true, type: "lb_cookie", cookie_duration: 3600 },
    });
    expect(custom).toHaveResourceWithProperties(Lb, { idle_timeout: 120, enable_deletion_protection: true });
    expect(custom).toHaveResourceWithProperties(LbListener, { protocol: "HTTPS", ssl_policy: "ELBSecurityPolicy-TLS13-1-3-2021-06" });
    expect(only(customJson, "aws_s3_bucket").force_destroy).toBe(false);
  });
});

describe("load balancer per environment", () => {
  it.each(ENVIRONMENTS.map((e) => [e.name, `max-age=${e.edge.hstsMaxAgeSeconds ?? DEFAULT_HSTS_MAX_AGE_SECONDS}; includeSubDomains`]))(
    "%s sends Strict-Transport-Security %s",
    (name, value) => {
      expect(envs[name]!.text).toHaveResourceWithProperties(LbListener, {
        protocol: "HTTPS",
        routing_http_response_strict_transport_security_header_value: value,
      });
    },
  );

  it.each(
    ENVIRONMENTS.map(
      (e) => [e.name, e.edge.deletionProtection, String(e.edge.deregistrationDelaySeconds), e.edge.accessLogRetentionDays] as const,
    ),
  )("%s: deletion protection %s, draining %ss, logs kept %i days", (name, protection, delay, days) => {
    const { json, text, config } = envs[name]!;
    expect(text).toHaveResourceWithProperties(Lb, {
      enable_deletion_protection: protection,
      drop_invalid_header_fields: true,
      desync_mitigation_mode: "strictest",
      idle_timeout: config.edge.idleTimeoutSeconds,
      subnets: expect.arrayContaining([expect.stringMatching(/^\$\{aws_subnet\.network_public-/)]),
    });
    expect(text).toHaveResourceWithProperties(LbTargetGroup, {
      port: config.compute.appPort,
      deregistration_delay: delay,
      health_check: expect.objectContaining({ path: config.compute.healthCheckPath }),
    });
    expect(text).toHaveResourceWithProperties(LbListener, { protocol: "HTTPS", ssl_policy: config.edge.tlsPolicy ?? DEFAULT_TLS_POLICY });
    expect(text).toHaveResourceWithProperties(LbListener, {
      protocol: "HTTP",
      default_action: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", status_code: "HTTP_301" } }],
    });
    expect(only(json, "aws_s3_bucket_lifecycle_configuration").rule[0].expiration).toEqual([{ days }]);
    expect(only(json, "aws_s3_bucket").force_destroy).toBe(!protection);
    const document = policy(only(json, "aws_s3_bucket_policy").policy as string);
    expect(document.Statement[0]).toMatchObject({
      Principal: elbLogDeliveryPrincipal(config.region),
      Resource: expect.stringMatching(new RegExp(`/alb/AWSLogs/${config.accountId}/\\*$`)),
    });
    const group = Object.keys(resources(json, "aws_security_group")).find((k) => k.startsWith("load-balancer"));
    expect(resourceNamed(json, "aws_lb", "").security_groups).toEqual([`\${aws_security_group.${group}.id}`]);
  });

  it("prod ramps new instances up slowly and checks health every 10 s", () => {
    expect(envs.prod!.text).toHaveResourceWithProperties(LbTargetGroup, {
      slow_start: 60,
      health_check: expect.objectContaining({ interval: 10 }),
    });
  });
});

describe("load balancer settings rejections", () => {
  const lines = (edge: NonNullable<Parameters<typeof environment>[0]>["edge"]) => validateEnvironments([environment({ edge })]);

  it.each([
    [{ healthCheck: { matcher: "600" } }, /edge\.healthCheck\.matcher = "600": must be HTTP codes 200-499/],
    [{ healthCheck: { matcher: "200-" } }, /edge\.healthCheck\.matcher = "200-"/],
    [{ healthCheck: { intervalSeconds: 301 } }, /edge\.healthCheck\.intervalSeconds = 301: ALB accepts 5-300 seconds/],
    [{ healthCheck: { timeoutSeconds: 1 } }, /edge\.healthCheck\.timeoutSeconds = 1: ALB accepts 2-120 seconds/],
    [
      { healthCheck: { intervalSeconds: 10, timeoutSeconds: 10 } },
      /edge\.healthCheck\.timeoutSeconds = 10: must be less than healthCheck\.intervalSeconds \(10\)/,
    ],
    [{ healthCheck: { healthyThreshold: 1 } }, /edge\.healthCheck\.healthyThreshold = 1: ALB accepts 2-10 checks/],
    [{ healthCheck: { unhealthyThreshold: 11 } }, /edge\.healthCheck\.unhealthyThreshold = 11: ALB accepts 2-10 checks/],
    [{ deregistrationDelaySeconds: 3601 }, /edge\.deregistrationDelaySeconds = 3601: ALB accepts 0-3600 seconds/],
    [{ deregistrationDelaySeconds: -1 }, /edge\.deregistrationDelaySeconds = -1: ALB accepts 0-3600 seconds/],
    [{ hstsMaxAgeSeconds: -1 }, /edge\.hstsMaxAgeSeconds = -1: must be a whole number of seconds, 0 \(no header\) to 63072000/],
    [{ idleTimeoutSeconds: 0 }, /edge\.idleTimeoutSeconds = 0: ALB accepts 1-4000 seconds/],
    [{ idleTimeoutSeconds: 4001 }, /edge\.idleTimeoutSeconds = 4001: ALB accepts 1-4000 seconds/],
    [{ slowStartSeconds: 10 }, /edge\.slowStartSeconds = 10: ALB accepts 30-900 seconds, or 0/],
    [{ stickinessDurationSeconds: 0 }, /edge\.stickinessDurationSeconds = 0: ALB accepts 1-604800 seconds/],
    [
      { tlsPolicy: "ELBSecurityPolicy-2016-08" },
      /edge\.tlsPolicy = "ELBSecurityPolicy-2016-08": must be an ELB security policy that allows only TLS 1\.2 or later/,
    ],
    [{ accessLogRetentionDays: 0 }, /edge\.accessLogRetentionDays = 0: must be a whole number of days, at least 1/],
  ])("rejects %j", (edge, message) => {
    expect(lines(edge)).toContainEqual(expect.stringMatching(message));
  });

  it("accepts the TLS 1.2+ policy families", () => {
    for (const tlsPolicy of [
      "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
      "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
      "ELBSecurityPolicy-FS-1-2-Res-2020-10",
    ]) {
      expect(lines({ tlsPolicy })).toEqual([]);
    }
  });

  it("knows ALB matchers", () => {
    expect(["200", "200-299", "200,302", "200-399,404"].every(isValidMatcher)).toBe(true);
    expect(["199", "500", "abc", "300-200", ""].some(isValidMatcher)).toBe(false);
  });

  it("picks the log-delivery principal per region and partition", () => {
    expect(elbLogDeliveryPrincipal("us-east-1")).toEqual({ AWS: "arn:aws:iam::127311923021:root" });
    expect(elbLogDeliveryPrincipal("us-gov-west-1")).toEqual({ AWS: "arn:aws-us-gov:iam::048591011584:root" });
    expect(elbLogDeliveryPrincipal("cn-north-1")).toEqual({ AWS: "arn:aws-cn:iam::638102146993:root" });
    expect(elbLogDeliveryPrincipal("ap-southeast-5")).toEqual({ Service: ELB_LOG_DELIVERY_SERVICE });
  });

  it("the construct throws on bad settings and on a name prefix too long for ELB names", () => {
    expect(() => build({ deregistrationDelaySeconds: 4000 })).toThrow(
      /test\/edge: deregistrationDelaySeconds = 4000: ALB accepts 0-3600 seconds/,
    );
    expect(() => build({ healthCheckPath: "health" })).toThrow(/test\/edge: healthCheckPath = "health": must start with \//);
    expect(() => build({ appPort: 70000 })).toThrow(/test\/edge: appPort = 70000: must be a TCP port/);
    expect(() => build({ namePrefix: "a-very-long-project-name-prod" })).toThrow(/namePrefix = "a-very-long-project-name-prod": too long/);
  });

  it("takes the app's port and health path from the app's settings: the edge has neither", () => {
    // One port and one path: the target group follows whatever the app sets, so a second statement cannot disagree.
    const moved = synthEnvironment(environment({ compute: { appPort: 9090, healthCheckPath: "/ready" } })).text;
    expect(moved).toHaveResourceWithProperties(LbTargetGroup, { port: 9090, health_check: expect.objectContaining({ path: "/ready" }) });
    const stated = environment({ edge: { appPort: 8080, healthCheck: { path: "/health" } } as never });
    expect(validateEnvironments([stated])).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^dev: edge\.appPort = 8080: unknown setting/),
        expect.stringMatching(/^dev: edge\.healthCheck\.path = "\/health": unknown setting/),
      ]),
    );
  });

  it("a production environment without ALB deletion protection needs a waiver", () => {
    const off = environment({ edge: { deletionProtection: false } }, prod);
    expect(validateEnvironments([off])).toContainEqual(
      expect.stringMatching(
        /^prod: edge\.deletionProtection = false: a production environment needs deletionProtection; fix it or add waivers\.deletionProtection/,
      ),
    );
    const waived = environment(
      { edge: { deletionProtection: false }, waivers: { deletionProtection: "load test environment, recreated daily" } },
      prod,
    );
    expect(validateEnvironments([waived]).filter((l) => l.includes("edge.deletionProtection"))).toEqual([]);
    expect(validateEnvironments([environment({ edge: { deletionProtection: false } })])).toEqual([]);
  });
});

describe("targetHealthySeconds", () => {
  test("is the healthy threshold's checks at the interval, the last one taking up to the timeout", () => {
    expect(targetHealthySeconds({})).toBe(15 * 2 + 5);
    expect(targetHealthySeconds({ intervalSeconds: 10, healthyThreshold: 3, timeoutSeconds: 4 })).toBe(34);
  });
});
