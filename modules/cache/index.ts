// Redis-compatible cache for locks and sessions: an ElastiCache replication group (Valkey or Redis OSS) in the
// private data subnets, its own security group (6379), TLS required, encrypted at rest with its own KMS key,
// an AUTH token kept in Secrets Manager, its own parameter group (maxmemory-policy noeviction: nothing it
// holds may be evicted), and slow-log delivery to a KMS-encrypted log group. Opens no port by itself. AWS
// provider 6.25.0 has no write-only auth token argument, so the token is in Terraform state.
import { Construct } from "constructs";
import { DataAwsSecretsmanagerRandomPassword } from "@cdktf/provider-aws/lib/data-aws-secretsmanager-random-password";
import { ElasticacheParameterGroup } from "@cdktf/provider-aws/lib/elasticache-parameter-group";
import { ElasticacheReplicationGroup } from "@cdktf/provider-aws/lib/elasticache-replication-group";
import { ElasticacheSubnetGroup } from "@cdktf/provider-aws/lib/elasticache-subnet-group";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Connectable, Connections, ownSecurityGroup } from "../primitives/connections";
import { EncryptionKey } from "../primitives/encryption-key";
import { EncryptedLogGroup } from "../primitives/log-group";
import { secretReadStatements, Statement } from "../primitives/policy";
import { checkWindows } from "../primitives/time-windows";
import { ELASTICACHE_NODE_TYPES } from "../rules/aws-catalogue.generated";
import { assertValid, catalogueMessage, Problems } from "../primitives/validation";

export const CACHE_PORT = 6379;

export type CacheEngine = "valkey" | "redis";

/** Engine versions the project knows (ElastiCache takes `major.minor` for these). */
export const CACHE_ENGINE_VERSIONS: Readonly<Record<CacheEngine, readonly string[]>> = {
  valkey: ["7.2", "8.0", "8.1"],
  redis: ["6.2", "7.0", "7.1"],
};

/** Nodes per replication group without cluster mode: a primary and up to five replicas. */
export const MAX_CACHE_NODES = 6;

/**
 * The only eviction policy the cache may have: it holds the timed jobs' locks and the sessions, all written
 * with a TTL, which every other policy may evict (`volatile-*` picks among keys with a TTL, `allkeys-*` among
 * all). When memory is full, writes fail instead (the memory alarm warns first).
 */
export const CACHE_EVICTION_POLICY = "noeviction";

/** The parameter group family of an engine version ElastiCache takes. */
export function cacheParameterFamily(engine: CacheEngine, version: string): string {
  const major = version.split(".")[0] ?? "";
  return engine === "redis" && major === "6" ? "redis6.x" : `${engine}${major}`;
}

/** The cache settings an environment chooses. */
export interface CacheSettings {
  readonly engine: CacheEngine;
  /** A version in `CACHE_ENGINE_VERSIONS[engine]`, for example `8.0`. */
  readonly engineVersion: string;
  /** Node type, for example `cache.t4g.micro`. */
  readonly nodeType: string;
  /** Nodes: one primary plus replicas, 1 to 6. */
  readonly nodeCount: number;
  /** Spread nodes across zones and fail over to another zone; needs `automaticFailover` and two or more nodes. */
  readonly multiAz: boolean;
  /** Promote a replica when the primary fails; needs `multiAz` and two or more nodes. */
  readonly automaticFailover: boolean;
  /** Days daily snapshots are kept, 0 (none) to 35. */
  readonly snapshotRetentionDays: number;
  /** Daily snapshot window, `hh24:mi-hh24:mi` UTC, at least 60 minutes. */
  readonly snapshotWindow: string;
  /** Weekly maintenance window, `ddd:hh24:mi-ddd:hh24:mi` UTC, at least 60 minutes, not overlapping the snapshot window. */
  readonly maintenanceWindow: string;
  /** Apply changes at once instead of in the next maintenance window. @default false */
  readonly applyImmediately?: boolean;
  /**
   * More engine parameters for the cache's own parameter group (family from the engine and version), for
   * example `{ timeout: "300" }`. `maxmemory-policy` may only be `noeviction`. @default {}
   */
  readonly parameters?: Readonly<Record<string, string>>;
}

export interface CacheProps extends CacheSettings {
  /** Prefix of every resource name, for example `webapp-dev`. */
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
  readonly vpcId: string;
  /** Private data subnets, one per zone. */
  readonly subnetIds: readonly string[];
  /** KMS key of the app's secrets; encrypts the AUTH token secret. */
  readonly secretsKeyArn: string;
  /** Recovery window of the AUTH token secret, days (the environment's secrets setting). */
  readonly secretRecoveryWindowDays: number;
  /** KMS key that encrypts the slow-log group (its policy allows CloudWatch Logs). */
  readonly logsKeyArn: string;
  /** Retention of the slow-log group, days (the environment's log retention). */
  readonly logRetentionDays: number;
}

export const DEFAULT_CACHE_APPLY_IMMEDIATELY = false;

/** The cache settings with every default filled in. */
export interface ResolvedCacheSettings extends CacheSettings {
  readonly applyImmediately: boolean;
  readonly parameters: Readonly<Record<string, string>>;
}

/** The settings' defaults, written once: the check and the construct both read what this returns. */
export function resolveCacheSettings<S extends CacheSettings>(settings: S): S & ResolvedCacheSettings {
  return {
    ...settings,
    applyImmediately: settings.applyImmediately ?? DEFAULT_CACHE_APPLY_IMMEDIATELY,
    parameters: settings.parameters ?? {},
  };
}

/** One line per problem of an environment's cache settings, checked with their defaults resolved. */
export function checkCacheSettings(settings: CacheSettings, problems: Problems): void {
  const props = resolveCacheSettings(settings);
  const versions = CACHE_ENGINE_VERSIONS[props.engine];
  if (
    problems.check(
      versions !== undefined,
      "engine",
      props.engine,
      `unknown engine; known: ${Object.keys(CACHE_ENGINE_VERSIONS).join(", ")}`,
    )
  ) {
    problems.check(
      versions.includes(props.engineVersion),
      "engineVersion",
      props.engineVersion,
      `not a ${props.engine} version the project knows; known: ${versions.join(", ")}`,
    );
  }
  if (
    problems.check(
      /^cache\.[a-z0-9-]+\.[a-z0-9]+$/.test(props.nodeType),
      "nodeType",
      props.nodeType,
      "not an ElastiCache node type (for example cache.t4g.micro)",
    )
  ) {
    const known = ELASTICACHE_NODE_TYPES.includes(props.nodeType);
    if (!known)
      problems.add(
        "nodeType",
        props.nodeType,
        catalogueMessage(
          props.nodeType,
          ELASTICACHE_NODE_TYPES,
          "no such ElastiCache node type (modules/rules/aws-catalogue.generated.ts)",
        ),
      );
  }
  const nodes = props.nodeCount;
  problems.check(Number.isInteger(nodes) && nodes >= 1 && nodes <= MAX_CACHE_NODES, "nodeCount", nodes, `must be 1 to ${MAX_CACHE_NODES}`);
  problems.check(
    !props.multiAz || nodes >= 2,
    "multiAz",
    props.multiAz,
    `needs at least two nodes (a replica in another zone); nodeCount is ${nodes}`,
  );
  problems.check(
    !props.automaticFailover || nodes >= 2,
    "automaticFailover",
    props.automaticFailover,
    `needs at least two nodes (a replica to promote); nodeCount is ${nodes}`,
  );
  problems.check(
    !props.multiAz || props.automaticFailover,
    "automaticFailover",
    props.automaticFailover,
    "AWS requires automatic failover with multiAz",
  );
  problems.check(
    !props.automaticFailover || props.multiAz,
    "multiAz",
    props.multiAz,
    "automatic failover without multiAz may promote a replica in the failed primary's zone; turn on multiAz",
  );
  const days = props.snapshotRetentionDays;
  problems.check(
    Number.isInteger(days) && days >= 0 && days <= 35,
    "snapshotRetentionDays",
    days,
    "ElastiCache keeps snapshots 0 to 35 days",
  );
  checkWindows(
    problems,
    { field: "snapshotWindow", value: props.snapshotWindow },
    { field: "maintenanceWindow", value: props.maintenanceWindow },
    60,
  );
  for (const [name, value] of Object.entries(props.parameters)) {
    const field = `parameters.${name}`;
    if (
      !problems.check(/^[a-z][a-z0-9-]{0,99}$/.test(name), field, value, "not an engine parameter name (lowercase letters, digits and -)")
    )
      continue;
    problems.check(typeof value === "string" && value.length > 0, field, value, "must be a non-empty string");
    if (name === "maxmemory-policy") {
      problems.check(
        value === CACHE_EVICTION_POLICY,
        field,
        value,
        `must be ${CACHE_EVICTION_POLICY}: the cache holds the timed jobs' locks and the sessions, written with a TTL, which this policy may evict`,
      );
    }
  }
}

/** The cache as the composing stack and the compute layer consume it. */
export interface CacheRefs {
  /** Address clients connect to; it follows the primary on failover. */
  readonly primaryEndpointAddress: string;
  readonly port: number;
  /** Clients must use TLS (always true: transit encryption is required). */
  readonly tls: boolean;
  /** Secret whose value is the AUTH token (a plain string). */
  readonly authTokenSecretArn: string;
}

/** Name of the secret holding an environment's cache AUTH token (CI plan roles may refresh exactly it). */
export function authTokenSecretName(namePrefix: string): string {
  return `${namePrefix}/redis-auth-token`;
}

export class Cache extends Construct implements Connectable, CacheRefs {
  readonly connections: Connections;
  readonly replicationGroup: ElasticacheReplicationGroup;
  readonly key: EncryptionKey;
  readonly securityGroup: SecurityGroup;
  readonly authTokenSecret: SecretsmanagerSecret;
  readonly primaryEndpointAddress: string;
  readonly port = CACHE_PORT;
  readonly tls = true;
  readonly authTokenSecretArn: string;
  private readonly props: CacheProps;

  constructor(scope: Construct, id: string, settings: CacheProps) {
    super(scope, id);
    assertValid(this, settings, checkCacheSettings);
    const props = resolveCacheSettings(settings);
    this.props = props;
    const name = (suffix: string) => `${props.namePrefix}-${suffix}`;

    this.key = new EncryptionKey(this, "key", {
      description: `${props.namePrefix}: cache at rest`,
      alias: name("cache"),
      accountId: props.accountId,
    });

    ({ securityGroup: this.securityGroup, connections: this.connections } = ownSecurityGroup(this, {
      name: "cache",
      groupName: name("cache"),
      description: `Redis protocol (TLS) on ${CACHE_PORT}: only from the groups allowed in`,
      vpcId: props.vpcId,
      defaultPort: CACHE_PORT,
      revokeRulesOnDelete: true,
    }));

    const subnetGroup = new ElasticacheSubnetGroup(this, "subnets", {
      name: name("cache"),
      description: "Private data subnets",
      subnetIds: [...props.subnetIds],
      tags: { Name: name("cache") },
    });

    // The token is generated by Secrets Manager at plan time and written once to both the secret and the
    // replication group; later plans read a new random value, which ignore_changes keeps out of both.
    // ElastiCache tokens are 16-128 printable characters without @, " or /: letters and digits only here.
    const token = new DataAwsSecretsmanagerRandomPassword(this, "token", {
      passwordLength: 64,
      excludePunctuation: true,
      includeSpace: false,
    });
    this.authTokenSecret = new SecretsmanagerSecret(this, "auth-token", {
      name: authTokenSecretName(props.namePrefix),
      description: "AUTH token of the cache (a plain string); written once by Terraform, rotated by operators",
      kmsKeyId: props.secretsKeyArn,
      recoveryWindowInDays: props.secretRecoveryWindowDays,
      tags: { Name: authTokenSecretName(props.namePrefix) },
    });
    this.authTokenSecretArn = this.authTokenSecret.arn;

    // Its own group, so the eviction policy is ours: the engine's default group (volatile-lru) evicts keys
    // with a TTL, which is every lock.
    const parameters = new ElasticacheParameterGroup(this, "parameters", {
      name: name("cache"),
      family: cacheParameterFamily(props.engine, props.engineVersion),
      description: `${props.namePrefix}: locks and sessions, never evicted`,
      parameter: Object.entries({ ...props.parameters, "maxmemory-policy": CACHE_EVICTION_POLICY })
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([parameter, value]) => ({ name: parameter, value })),
      tags: { Name: name("cache") },
    });

    const slowLog = new EncryptedLogGroup(this, "slow-log", {
      name: `/elasticache/${props.namePrefix}/slow-log`,
      retentionDays: props.logRetentionDays,
      kmsKeyArn: props.logsKeyArn,
    });

    this.replicationGroup = new ElasticacheReplicationGroup(this, "group", {
      replicationGroupId: name("cache"),
      description: `${props.namePrefix}: locks and sessions`,
      engine: props.engine,
      engineVersion: props.engineVersion,
      nodeType: props.nodeType,
      numCacheClusters: props.nodeCount,
      port: CACHE_PORT,
      parameterGroupName: parameters.name,
      subnetGroupName: subnetGroup.name,
      securityGroupIds: [this.securityGroup.id],
      multiAzEnabled: props.multiAz,
      automaticFailoverEnabled: props.automaticFailover,
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      atRestEncryptionEnabled: "true",
      kmsKeyId: this.key.arn,
      authToken: token.randomPassword,
      autoMinorVersionUpgrade: "true",
      snapshotRetentionLimit: props.snapshotRetentionDays,
      snapshotWindow: props.snapshotWindow,
      maintenanceWindow: props.maintenanceWindow,
      applyImmediately: props.applyImmediately,
      logDeliveryConfiguration: [{ destination: slowLog.name, destinationType: "cloudwatch-logs", logFormat: "json", logType: "slow-log" }],
      lifecycle: { ignoreChanges: ["auth_token"] },
      tags: { Name: name("cache") },
    });
    this.primaryEndpointAddress = this.replicationGroup.primaryEndpointAddress;

    // The value is in state here as in the group: the write-only secret_string_wo would save this one copy
    // of a value the group keeps in state anyway, and the plan reads it all the same. Rewritten when the
    // group is replaced (its id unknown in the plan), so a new group and the secret get the same new token.
    new SecretsmanagerSecretVersion(this, "auth-token-value", {
      secretId: this.authTokenSecret.id,
      secretString: token.randomPassword,
      lifecycle: {
        ignoreChanges: ["secret_string"],
        // why: an attribute reference (not the resource) so in-place updates of the group do not rewrite the secret.
        replaceTriggeredBy: [`${this.replicationGroup.terraformResourceType}.${this.replicationGroup.friendlyUniqueId}.id`],
      },
    });
  }

  /** Identity-policy statements to read the AUTH token secret (and decrypt it with the secrets key). */
  grantReadAuthToken(): Statement[] {
    return secretReadStatements("CacheAuthToken", [this.authTokenSecretArn], this.props.secretsKeyArn, this.props.region);
  }
}
