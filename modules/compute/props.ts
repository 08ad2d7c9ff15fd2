// What the composing stack passes the app tier: an environment's compute settings plus the other tiers' refs
// (subnets, target group, data stores, secrets, grants); their defaults resolved once and their check.
import { DEFAULT_HEALTH_CHECK, DEFAULT_IDLE_TIMEOUT_SECONDS, targetHealthySeconds } from "../load-balancer";
import { checkLogRetention } from "../primitives/logs";
import type { Statement } from "../primitives/policy";
import type { Problems } from "../primitives/validation";
import { checkInterruptionDrain } from "./purchase-mix";
import { checkComputeSettings, ComputeSettings, ResolvedComputeSettings, resolveComputeSettings } from "./settings";

/** The app's target group, as the compute layer consumes it. */
export interface ComputeTargetGroup {
  readonly arn: string;
  readonly arnSuffix: string;
}

/** The load balancer, for the request-count policy's resource label. */
export interface ComputeLoadBalancer {
  readonly arnSuffix: string;
}

export interface ComputeDatabase {
  readonly address: string;
  readonly port: number;
  readonly databaseName: string;
  readonly engine: string;
  /** Secret holding the app's own database user's `username` and `password` (never the master's). */
  readonly appUserSecretArn: string;
}

export interface ComputeCache {
  readonly primaryEndpointAddress: string;
  readonly port: number;
  readonly tls: boolean;
  readonly authTokenSecretArn: string;
}

export interface ComputeFileSystem {
  readonly fileSystemId: string;
  readonly fileSystemArn: string;
  readonly accessPointId: string;
  readonly accessPointArn: string;
}

export interface ComputeSecrets {
  readonly appEnvSecretArn: string;
  readonly repositoryCredentialSecretArn: string;
}

export interface ComputeProps extends ComputeSettings {
  /** Prefix of every resource name, for example `webapp-dev`. */
  readonly namePrefix: string;
  /** Written to the app's environment as APP_ENV. */
  readonly environmentName: string;
  readonly region: string;
  readonly accountId: string;
  readonly vpcId: string;
  /** Private app subnets. */
  readonly subnetIds: readonly string[];
  /** KMS key of the instances' log group (its policy allows CloudWatch Logs). */
  readonly logsKeyArn: string;
  readonly logRetentionDays: number;
  readonly targetGroup: ComputeTargetGroup;
  readonly loadBalancer: ComputeLoadBalancer;
  /** The target group's deregistration delay: the terminate hook waits at least this long. */
  readonly deregistrationDelaySeconds: number;
  /** The load balancer's idle timeout, written into the app's environment (its keep-alive must outlast it). @default 60 */
  readonly loadBalancerIdleTimeoutSeconds?: number;
  /**
   * The longest the target group takes to find a registered instance healthy (health-check interval x healthy
   * threshold + timeout): an instance that restarts its app for new secrets waits this long after rejoining
   * before the next one may leave. @default 35 (the ALB defaults: 15 s x 2 + 5 s)
   */
  readonly targetHealthySeconds?: number;
  readonly database: ComputeDatabase;
  readonly cache: ComputeCache;
  readonly fileSystem: ComputeFileSystem;
  readonly secrets: ComputeSecrets;
  /**
   * Statements the data modules' grant helpers return (read the secrets, decrypt them, mount the file
   * system through its access point). Each must name its resources: a `*` resource is rejected.
   */
  readonly grants: readonly Statement[];
  /** Tags for the group itself (not propagated) and for the instances, volumes and interfaces it launches: provider default tags reach neither. @default {} */
  readonly instanceTags?: Readonly<Record<string, string>>;
}

/** The props with every default filled in: what the construct and its parts read. */
export type ResolvedComputeProps = ComputeProps &
  ResolvedComputeSettings & {
    readonly loadBalancerIdleTimeoutSeconds: number;
    readonly targetHealthySeconds: number;
    readonly instanceTags: Readonly<Record<string, string>>;
  };

/** The props' defaults, written once (the settings' through resolveComputeSettings). */
export function resolveComputeProps(props: ComputeProps): ResolvedComputeProps {
  return {
    ...resolveComputeSettings(props),
    loadBalancerIdleTimeoutSeconds: props.loadBalancerIdleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS,
    targetHealthySeconds: props.targetHealthySeconds ?? targetHealthySeconds(DEFAULT_HEALTH_CHECK),
    instanceTags: props.instanceTags ?? {},
  };
}

/** One line per problem of the props: the settings' check, then what only the composing stack passes. */
export function checkComputeProps(props: ComputeProps, problems: Problems): void {
  checkComputeSettings(props, problems);
  checkLogRetention(problems, "logRetentionDays", props.logRetentionDays);
  checkInterruptionDrain(props, props.deregistrationDelaySeconds, "deregistrationDelaySeconds", problems);
  problems.check(props.subnetIds.length > 0, "subnetIds", props.subnetIds, "needs at least one private app subnet");
  props.grants.forEach((grant, i) => {
    const resources = grant.Resource === undefined ? [] : typeof grant.Resource === "string" ? [grant.Resource] : grant.Resource;
    problems.check(
      grant.Effect === "Allow" && resources.length > 0 && !resources.includes("*"),
      `grants[${i}]`,
      grant.Sid ?? grant.Action,
      "a grant must allow named resources (no * resource)",
    );
  });
}
