// The public Application Load Balancer: its own security group (80 and 443 from the Internet, IPv4),
// an HTTPS listener with the certificate, an HTTP listener that only redirects, the app's target group,
// and an access-log bucket made for the regional ELB log delivery. It writes no rule toward the app tier:
// the composing stack calls `app.connections.allowFrom(loadBalancer, appPort)`.
import { Construct } from "constructs";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { formatArn, partitionOf } from "../primitives/arn";
import { Connectable, Connections } from "../primitives/connections";
import { PrivateBucket } from "../primitives/private-bucket";
import { ALB_TLS_POLICIES } from "../rules/aws-catalogue.generated";
import { assertValid, catalogueMessage, Problems } from "../primitives/validation";

/** How the load balancer decides an instance may receive traffic (on the app's own health path). */
export interface HealthCheckSettings {
  /** HTTP codes that count as healthy: `200`, `200-299`, `200,302` (each 200-499). @default "200" */
  readonly matcher?: string;
  /** Seconds between checks, 5-300. @default 15 */
  readonly intervalSeconds?: number;
  /** Seconds without an answer that fail a check, 2-120 and less than the interval. @default 5 */
  readonly timeoutSeconds?: number;
  /** Consecutive successes before an instance receives traffic, 2-10. @default 2 */
  readonly healthyThreshold?: number;
  /** Consecutive failures before an instance stops receiving traffic, 2-10. @default 3 */
  readonly unhealthyThreshold?: number;
}

/** The load balancer settings an environment chooses. */
export interface LoadBalancerSettings {
  readonly healthCheck: HealthCheckSettings;
  /**
   * Seconds an instance being retired keeps serving its in-flight requests (connection draining), 0-3600.
   * @default 30
   */
  readonly deregistrationDelaySeconds?: number;
  /** Seconds a new instance's share of traffic ramps up, 30-900, or 0 for none. @default 0 */
  readonly slowStartSeconds?: number;
  /**
   * Pin a client to one instance for this many seconds with a load-balancer cookie, 1-604800.
   * The app is stateless (sessions live in Redis), so this is normally left off.
   * @default off
   */
  readonly stickinessDurationSeconds?: number;
  /** Seconds an idle client connection stays open, 1-4000. @default 60 */
  readonly idleTimeoutSeconds?: number;
  /** Refuse to delete the load balancer (and keep its log bucket when the stack is destroyed). */
  readonly deletionProtection: boolean;
  /** SSL policy of the HTTPS listener; TLS 1.2 or later only. @default "ELBSecurityPolicy-TLS13-1-2-2021-06" */
  readonly tlsPolicy?: string;
  /**
   * `max-age` of the Strict-Transport-Security header the HTTPS listener adds to every response, in seconds,
   * 0 to 63072000; 0 sends no header. Browsers remember it, so start small on a new domain. @default 31536000
   */
  readonly hstsMaxAgeSeconds?: number;
  /** Days access-log objects are kept before they expire. */
  readonly accessLogRetentionDays: number;
}

export interface LoadBalancerProps extends LoadBalancerSettings {
  /** TCP port the app listens on (the app's own setting, `compute.appPort`); the target group and health check use it. */
  readonly appPort: number;
  /** Path the health check requests on the app port (the app's own setting, `compute.healthCheckPath`); starts with `/`. */
  readonly healthCheckPath: string;
  /** Prefix of resource names, for example `webapp-dev`; ALB and target group names are 32 characters at most. */
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
  readonly vpcId: string;
  /** Public subnets, one per availability zone (at least two). */
  readonly publicSubnetIds: readonly string[];
  /** ARN of an issued ACM certificate for the HTTPS listener. */
  readonly certificateArn: string;
}

/** The HTTPS listener's SSL policy: TLS 1.3, and TLS 1.2 with forward-secret ciphers only. @default "ELBSecurityPolicy-TLS13-1-2-2021-06" */
export const DEFAULT_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
/** Seconds a retiring instance keeps serving in-flight requests. @default 30 */
export const DEFAULT_DEREGISTRATION_DELAY_SECONDS = 30;
/** No slow start: a new instance gets its full share of traffic once healthy. @default 0 */
export const DEFAULT_SLOW_START_SECONDS = 0;
/** Seconds an idle client connection stays open (ALB's own default). @default 60 */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 60;
/** The health check's timing and healthy codes. @default matcher "200", every 15 s, timeout 5 s, healthy after 2, unhealthy after 3 */
export const DEFAULT_HEALTH_CHECK: Readonly<Required<HealthCheckSettings>> = {
  matcher: "200",
  intervalSeconds: 15,
  timeoutSeconds: 5,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
};
/** Key prefix of access-log objects inside the bucket; ELB appends `AWSLogs/<account>/...`. */
export const ACCESS_LOG_PREFIX = "alb";
/** ELB limits load balancer and target group names to 32 characters. */
const MAX_ELB_NAME = 32;
/** Policies that negotiate TLS 1.2 or later only (the TLS13-1-2/1-3, TLS-1-2 and FS-1-2 families). */
const TLS12_POLICY = /^ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)(-[A-Za-z0-9]+)*$/;
const MATCHER = /^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/;

/**
 * Elastic Load Balancing's log-delivery account per region, for regions opened before August 2022.
 * Newer regions grant the `logdelivery.elasticloadbalancing.amazonaws.com` service principal instead.
 */
export const ELB_LOG_DELIVERY_ACCOUNTS: Readonly<Record<string, string>> = {
  "us-east-1": "127311923021",
  "us-east-2": "033677994240",
  "us-west-1": "027434742980",
  "us-west-2": "797873946194",
  "af-south-1": "098369216593",
  "ap-east-1": "754344448648",
  "ap-northeast-1": "582318560864",
  "ap-northeast-2": "600734575887",
  "ap-northeast-3": "383597477331",
  "ap-south-1": "718504428378",
  "ap-southeast-1": "114774131450",
  "ap-southeast-2": "783225319266",
  "ap-southeast-3": "589379963580",
  "ca-central-1": "985666609251",
  "eu-central-1": "054676820928",
  "eu-north-1": "897822967062",
  "eu-south-1": "635631232127",
  "eu-west-1": "156460612806",
  "eu-west-2": "652711504416",
  "eu-west-3": "009996457667",
  "me-south-1": "076674570225",
  "sa-east-1": "507241528517",
  "us-gov-east-1": "190560391635",
  "us-gov-west-1": "048591011584",
  "cn-north-1": "638102146993",
  "cn-northwest-1": "037604701340",
};

export const ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com";

/** The principal that writes ALB access logs in `region`: the regional ELB account, or the service principal. */
export function elbLogDeliveryPrincipal(region: string): Readonly<Record<string, string>> {
  const account = ELB_LOG_DELIVERY_ACCOUNTS[region];
  if (!account) return { Service: ELB_LOG_DELIVERY_SERVICE };
  return { AWS: formatArn({ partition: partitionOf(region), service: "iam", account, resource: "root" }) };
}

/** Whether `matcher` is a valid ALB HTTP matcher: codes and ranges in 200-499. */
export function isValidMatcher(matcher: string): boolean {
  if (!MATCHER.test(matcher)) return false;
  return matcher.split(",").every((part) => {
    const [low, high = low] = part.split("-").map(Number);
    return low !== undefined && high !== undefined && low >= 200 && high <= 499 && low <= high;
  });
}

function loadBalancerName(namePrefix: string): string {
  return `${namePrefix}-alb`;
}

/** The target group's Name tag (its AWS name is generated, see `name_prefix` below). */
function targetGroupName(namePrefix: string, appPort: number): string {
  return `${namePrefix}-${appPort}`;
}

function isIntegerBetween(value: number, low: number, high: number): boolean {
  return Number.isInteger(value) && value >= low && value <= high;
}

/** The health check with its defaults filled in. */
export function healthCheckValues(settings: HealthCheckSettings): Required<HealthCheckSettings> {
  return {
    matcher: settings.matcher ?? DEFAULT_HEALTH_CHECK.matcher,
    intervalSeconds: settings.intervalSeconds ?? DEFAULT_HEALTH_CHECK.intervalSeconds,
    timeoutSeconds: settings.timeoutSeconds ?? DEFAULT_HEALTH_CHECK.timeoutSeconds,
    healthyThreshold: settings.healthyThreshold ?? DEFAULT_HEALTH_CHECK.healthyThreshold,
    unhealthyThreshold: settings.unhealthyThreshold ?? DEFAULT_HEALTH_CHECK.unhealthyThreshold,
  };
}

/**
 * The longest the target group takes to find a newly registered target healthy: `healthyThreshold` passing
 * checks, `intervalSeconds` apart, the last one taking up to `timeoutSeconds`.
 */
export function targetHealthySeconds(settings: HealthCheckSettings): number {
  const health = healthCheckValues(settings);
  return health.intervalSeconds * health.healthyThreshold + health.timeoutSeconds;
}

/** One year: long enough for browsers to keep using HTTPS, the usual HSTS preload minimum. @default 31536000 */
export const DEFAULT_HSTS_MAX_AGE_SECONDS = 31536000;

/** The load balancer settings with every default filled in (stickiness stays unset when off), and the figures derived from them. */
export interface ResolvedLoadBalancerSettings extends LoadBalancerSettings {
  readonly healthCheck: Required<HealthCheckSettings>;
  readonly deregistrationDelaySeconds: number;
  readonly slowStartSeconds: number;
  readonly idleTimeoutSeconds: number;
  readonly tlsPolicy: string;
  readonly hstsMaxAgeSeconds: number;
  /** The longest a newly registered target takes to turn healthy (targetHealthySeconds). */
  readonly targetHealthySeconds: number;
}

/**
 * The settings' defaults, written once: the check, the construct, the composing stack and the environment
 * validator all read what this returns.
 */
export function resolveLoadBalancerSettings<S extends LoadBalancerSettings>(settings: S): S & ResolvedLoadBalancerSettings {
  const healthCheck = healthCheckValues(settings.healthCheck);
  return {
    ...settings,
    healthCheck,
    deregistrationDelaySeconds: settings.deregistrationDelaySeconds ?? DEFAULT_DEREGISTRATION_DELAY_SECONDS,
    slowStartSeconds: settings.slowStartSeconds ?? DEFAULT_SLOW_START_SECONDS,
    idleTimeoutSeconds: settings.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS,
    tlsPolicy: settings.tlsPolicy ?? DEFAULT_TLS_POLICY,
    hstsMaxAgeSeconds: settings.hstsMaxAgeSeconds ?? DEFAULT_HSTS_MAX_AGE_SECONDS,
    targetHealthySeconds: targetHealthySeconds(healthCheck),
  };
}

/** The health check's path, as the target group takes it: the app's `healthCheckPath`, checked where it is set. */
export function checkHealthCheckPath(path: string, field: string, problems: Problems): void {
  problems.check(
    path.startsWith("/") && path.length <= 1024 && !/\s/.test(path),
    field,
    path,
    "must start with / and be at most 1024 characters without spaces",
  );
}

/** The construct's own check: the settings, and the app's port and health path it is given. */
export function checkLoadBalancerProps(props: LoadBalancerProps, problems: Problems): void {
  problems.check(isIntegerBetween(props.appPort, 1, 65535), "appPort", props.appPort, "must be a TCP port, 1-65535");
  checkHealthCheckPath(props.healthCheckPath, "healthCheckPath", problems);
  checkLoadBalancerSettings(props, problems);
}

/** One line per problem of the load balancer settings, checked with their defaults resolved. */
export function checkLoadBalancerSettings(settings: LoadBalancerSettings & { readonly namePrefix?: string }, problems: Problems): void {
  const props = resolveLoadBalancerSettings(settings);
  const hsts = props.hstsMaxAgeSeconds;
  problems.check(
    isIntegerBetween(hsts, 0, 63072000),
    "hstsMaxAgeSeconds",
    hsts,
    "must be a whole number of seconds, 0 (no header) to 63072000 (two years)",
  );

  const health = props.healthCheck;
  problems.check(
    isValidMatcher(health.matcher),
    "healthCheck.matcher",
    health.matcher,
    "must be HTTP codes 200-499: a code, a range (200-299) or a comma-separated list",
  );
  problems.check(
    isIntegerBetween(health.intervalSeconds, 5, 300),
    "healthCheck.intervalSeconds",
    health.intervalSeconds,
    "ALB accepts 5-300 seconds",
  );
  if (
    problems.check(
      isIntegerBetween(health.timeoutSeconds, 2, 120),
      "healthCheck.timeoutSeconds",
      health.timeoutSeconds,
      "ALB accepts 2-120 seconds",
    )
  ) {
    problems.check(
      health.timeoutSeconds < health.intervalSeconds,
      "healthCheck.timeoutSeconds",
      health.timeoutSeconds,
      `must be less than healthCheck.intervalSeconds (${health.intervalSeconds})`,
    );
  }
  problems.check(
    isIntegerBetween(health.healthyThreshold, 2, 10),
    "healthCheck.healthyThreshold",
    health.healthyThreshold,
    "ALB accepts 2-10 checks",
  );
  problems.check(
    isIntegerBetween(health.unhealthyThreshold, 2, 10),
    "healthCheck.unhealthyThreshold",
    health.unhealthyThreshold,
    "ALB accepts 2-10 checks",
  );

  const delay = props.deregistrationDelaySeconds;
  problems.check(isIntegerBetween(delay, 0, 3600), "deregistrationDelaySeconds", delay, "ALB accepts 0-3600 seconds");
  const slowStart = props.slowStartSeconds;
  problems.check(
    slowStart === 0 || isIntegerBetween(slowStart, 30, 900),
    "slowStartSeconds",
    slowStart,
    "ALB accepts 30-900 seconds, or 0 for no slow start",
  );
  if (props.stickinessDurationSeconds !== undefined) {
    problems.check(
      isIntegerBetween(props.stickinessDurationSeconds, 1, 604800),
      "stickinessDurationSeconds",
      props.stickinessDurationSeconds,
      "ALB accepts 1-604800 seconds (7 days)",
    );
  }
  const idle = props.idleTimeoutSeconds;
  problems.check(isIntegerBetween(idle, 1, 4000), "idleTimeoutSeconds", idle, "ALB accepts 1-4000 seconds");
  const tlsPolicy = props.tlsPolicy;
  const tls12 = problems.check(
    TLS12_POLICY.test(tlsPolicy),
    "tlsPolicy",
    tlsPolicy,
    `must be an ELB security policy that allows only TLS 1.2 or later (for example ${DEFAULT_TLS_POLICY})`,
  );
  if (tls12 && !ALB_TLS_POLICIES.includes(tlsPolicy)) {
    problems.add(
      "tlsPolicy",
      tlsPolicy,
      catalogueMessage(tlsPolicy, ALB_TLS_POLICIES, "no such ALB security policy (modules/rules/aws-catalogue.generated.ts)"),
    );
  }
  problems.check(
    Number.isInteger(props.accessLogRetentionDays) && props.accessLogRetentionDays >= 1,
    "accessLogRetentionDays",
    props.accessLogRetentionDays,
    "must be a whole number of days, at least 1",
  );
  if (props.namePrefix !== undefined) {
    const length = loadBalancerName(props.namePrefix).length;
    problems.check(
      length <= MAX_ELB_NAME,
      "namePrefix",
      props.namePrefix,
      `too long: load balancer names are at most ${MAX_ELB_NAME} characters`,
    );
  }
}

/** The load balancer as other modules consume it (alarms use the ARN suffixes as CloudWatch dimensions). */
export interface LoadBalancerRefs {
  readonly arn: string;
  readonly arnSuffix: string;
  readonly dnsName: string;
  /** Canonical hosted zone of the load balancer, for alias records. */
  readonly zoneId: string;
}

/** The app's target group as the compute layer consumes it. */
export interface TargetGroupRefs {
  readonly arn: string;
  readonly arnSuffix: string;
  readonly port: number;
}

export class LoadBalancer extends Construct implements Connectable {
  /** The load balancer's own security group; peers written by the composing stack. Default port 443. */
  readonly connections: Connections;
  readonly loadBalancer: LoadBalancerRefs;
  readonly targetGroup: TargetGroupRefs;
  readonly lb: Lb;
  readonly httpsListener: LbListener;
  readonly httpListener: LbListener;
  readonly logBucket: S3Bucket;
  /** The settings it was built with, defaults filled in: what the app tier pairs its own timing with. */
  readonly settings: ResolvedLoadBalancerSettings;

  constructor(scope: Construct, id: string, loadBalancerProps: LoadBalancerProps) {
    super(scope, id);
    assertValid(this, loadBalancerProps, checkLoadBalancerProps);
    const props = resolveLoadBalancerSettings(loadBalancerProps);
    this.settings = props;
    const name = (suffix: string) => `${props.namePrefix}-${suffix}`;
    const health = props.healthCheck;

    const group = new SecurityGroup(this, "security-group", {
      name: name("alb"),
      description: "Public load balancer: HTTP and HTTPS from the Internet; egress only to the app tier",
      vpcId: props.vpcId,
      tags: { Name: name("alb") },
    });
    for (const port of [443, 80]) {
      new VpcSecurityGroupIngressRule(this, `ingress-${port}-ipv4`, {
        securityGroupId: group.id,
        cidrIpv4: "0.0.0.0/0",
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        description: port === 443 ? "HTTPS from the Internet" : "HTTP from the Internet (redirected to HTTPS)",
      });
    }
    this.connections = new Connections(this, "alb", group.id, 443);

    const logs = this.accessLogBucket(props);
    this.logBucket = logs.bucket;

    this.lb = new Lb(this, "alb", {
      name: loadBalancerName(props.namePrefix),
      internal: false,
      loadBalancerType: "application",
      ipAddressType: "ipv4",
      securityGroups: [group.id],
      subnets: [...props.publicSubnetIds],
      dropInvalidHeaderFields: true,
      desyncMitigationMode: "strictest",
      idleTimeout: props.idleTimeoutSeconds,
      enableDeletionProtection: props.deletionProtection,
      enableHttp2: true,
      accessLogs: { bucket: this.logBucket.bucket, prefix: ACCESS_LOG_PREFIX, enabled: true },
      tags: { Name: name("alb") },
      // why: ELB writes a test object when access logs are enabled; it fails unless the policy exists.
      dependsOn: [logs.policy],
    });
    this.loadBalancer = { arn: this.lb.arn, arnSuffix: this.lb.arnSuffix, dnsName: this.lb.dnsName, zoneId: this.lb.zoneId };

    const stickiness = props.stickinessDurationSeconds;
    const targetGroup = new LbTargetGroup(this, "target-group", {
      // A fixed name collides with itself under create_before_destroy on any replacement (a new port, VPC or
      // protocol); the provider appends a unique suffix to this prefix (6 characters at most, so the port
      // rather than the environment: the Name tag says which environment). Alarms and the dashboard follow
      // the ARN suffix, so they move to the new group with it.
      namePrefix: `${props.appPort}-`,
      port: props.appPort,
      protocol: "HTTP",
      protocolVersion: "HTTP1",
      targetType: "instance",
      vpcId: props.vpcId,
      deregistrationDelay: String(props.deregistrationDelaySeconds),
      slowStart: props.slowStartSeconds,
      healthCheck: {
        enabled: true,
        protocol: "HTTP",
        port: "traffic-port",
        path: props.healthCheckPath,
        matcher: health.matcher,
        interval: health.intervalSeconds,
        timeout: health.timeoutSeconds,
        healthyThreshold: health.healthyThreshold,
        unhealthyThreshold: health.unhealthyThreshold,
      },
      stickiness:
        stickiness === undefined ? { enabled: false, type: "lb_cookie" } : { enabled: true, type: "lb_cookie", cookieDuration: stickiness },
      tags: { Name: targetGroupName(props.namePrefix, props.appPort) },
      lifecycle: { createBeforeDestroy: true },
    });
    this.targetGroup = { arn: targetGroup.arn, arnSuffix: targetGroup.arnSuffix, port: props.appPort };

    const hsts = props.hstsMaxAgeSeconds;
    this.httpsListener = new LbListener(this, "https", {
      loadBalancerArn: this.lb.arn,
      port: 443,
      protocol: "HTTPS",
      sslPolicy: props.tlsPolicy,
      certificateArn: props.certificateArn,
      defaultAction: [{ type: "forward", targetGroupArn: targetGroup.arn }],
      // Security headers on every response, whatever the app sends; the Server header is dropped.
      routingHttpResponseStrictTransportSecurityHeaderValue: hsts > 0 ? `max-age=${hsts}; includeSubDomains` : undefined,
      routingHttpResponseXContentTypeOptionsHeaderValue: "nosniff",
      routingHttpResponseServerEnabled: false,
      tags: { Name: name("https") },
    });
    this.httpListener = new LbListener(this, "http", {
      loadBalancerArn: this.lb.arn,
      port: 80,
      protocol: "HTTP",
      defaultAction: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
      tags: { Name: name("http-redirect") },
    });
  }

  /** The access-log bucket: SSE-S3 (the only encryption ALB log delivery supports), private, expiring. */
  private accessLogBucket(props: LoadBalancerProps): { bucket: S3Bucket; policy: S3BucketPolicy } {
    const scope = new Construct(this, "access-logs");
    const { bucket, policy } = new PrivateBucket(scope, "bucket", {
      bucketName: `${props.namePrefix}-alb-logs-${props.accountId}`,
      // Without deletion protection the environment is torn down freely, logs included.
      forceDestroy: !props.deletionProtection,
      tags: { Name: `${props.namePrefix}-alb-logs` },
      encryption: "S3_MANAGED",
      leadingStatements: (logs) => [
        {
          Sid: "ElbAccessLogDelivery",
          Effect: "Allow",
          Principal: elbLogDeliveryPrincipal(props.region),
          Action: "s3:PutObject",
          Resource: `${logs.arn}/${ACCESS_LOG_PREFIX}/AWSLogs/${props.accountId}/*`,
        },
      ],
      lifecycleRules: [
        {
          id: "expire-access-logs",
          status: "Enabled",
          filter: [{ prefix: "" }],
          expiration: [{ days: props.accessLogRetentionDays }],
          noncurrentVersionExpiration: [{ noncurrentDays: 7 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
    });
    return { bucket, policy };
  }
}
