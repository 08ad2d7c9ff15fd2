// The configuration's shape as a zod schema, checked at run time (synth transpiles without type-checking, so
// unknown keys, values outside a union and wrong types would otherwise go unseen). The documented types stay in
// types.ts and the modules' settings; the assertions at the end fail the type check when the two disagree.
// Keys are listed in the types' order: a shape problem's lines follow it (environments/schema/shape.ts).
import { z } from "zod";
import type { CiSettings } from "../../modules/bootstrap/ci-roles";
import type { StateAuditSettings } from "../../modules/bootstrap/state-backend";
import type { CacheSettings } from "../../modules/cache";
import type { ComputeSettings } from "../../modules/compute";
import type { DatabaseSettings } from "../../modules/database";
import type { FileSystemSettings } from "../../modules/file-system";
import type { MonitoringSettings } from "../../modules/monitoring";
import type { NetworkSettings } from "../../modules/networking";
import type { SecretsSettings } from "../../modules/secrets";
import type { WafSettings } from "../../modules/waf";
import type { BootstrapConfig, EdgeSettings, EnvironmentConfig, StateConfig } from "./types";

// A synth checks each config once: compiling zod's fast path for it would cost more than it saves.
z.config({ jitless: true });

const string = z.string();
const number = z.number();
const boolean = z.boolean();
const strings = z.array(string);
const stringMap = z.record(z.string(), string);

const state = z.strictObject({
  bucket: string,
  lockTable: string,
  region: string,
  accountId: string.optional(),
  keyPrefix: string.optional(),
});

const network = z.strictObject({
  vpcCidr: string,
  availabilityZones: strings,
  natGateways: z.enum(["none", "single", "per-az"]),
  subnetSizes: z
    .strictObject({ publicPrefixLength: number.optional(), appPrefixLength: number.optional(), dataPrefixLength: number.optional() })
    .optional(),
  subnetCidrs: z.strictObject({ public: strings.optional(), app: strings.optional(), data: strings.optional() }).optional(),
  interfaceEndpoints: z.array(z.enum(["secretsmanager", "ssm", "ssmmessages", "ec2messages", "logs", "kms", "sts"])).optional(),
  flowLogRetentionDays: number,
  flowLogTrafficType: z.enum(["ACCEPT", "REJECT", "ALL"]).optional(),
});

const secrets = z.strictObject({
  recoveryWindowDays: number,
  keyDeletionWindowDays: number.optional(),
});

const database = z.strictObject({
  engine: z.enum(["mysql", "postgres"]),
  engineVersion: string,
  instanceClass: string,
  allocatedStorageGib: number,
  maxAllocatedStorageGib: number,
  multiAz: boolean,
  backupRetentionDays: number,
  backupWindow: string,
  maintenanceWindow: string,
  deletionProtection: boolean,
  finalSnapshot: boolean,
  autoMinorVersionUpgrade: boolean.optional(),
  databaseName: string.optional(),
  masterUsername: string.optional(),
  appUsername: string.optional(),
  monitoringIntervalSeconds: number.optional(),
  performanceInsightsRetentionDays: number.optional(),
  applyImmediately: boolean.optional(),
});

const fileSystem = z.strictObject({
  throughputMode: z.enum(["bursting", "elastic", "provisioned"]),
  provisionedThroughputMibps: number.optional(),
  transitionToIaDays: number.optional(),
  accessPointPath: string.optional(),
  posixUid: number.optional(),
  posixGid: number.optional(),
  rootDirectoryPermissions: string.optional(),
  automaticBackups: boolean.optional(),
});

const cache = z.strictObject({
  engine: z.enum(["valkey", "redis"]),
  engineVersion: string,
  nodeType: string,
  nodeCount: number,
  multiAz: boolean,
  automaticFailover: boolean,
  snapshotRetentionDays: number,
  snapshotWindow: string,
  maintenanceWindow: string,
  applyImmediately: boolean.optional(),
  parameters: stringMap.optional(),
});

const waf = z.strictObject({
  enabled: boolean,
  rateLimitPer5Minutes: number.optional(),
  commonRuleSetCountOnly: strings.optional(),
});

const edge = z.strictObject({
  waf,
  routeTraffic: boolean,
  // CertificateSettings
  domainName: string,
  alternativeNames: strings.optional(),
  hostedZone: z.strictObject({ id: string, name: string }).optional(),
  // LoadBalancerSettings
  healthCheck: z.strictObject({
    matcher: string.optional(),
    intervalSeconds: number.optional(),
    timeoutSeconds: number.optional(),
    healthyThreshold: number.optional(),
    unhealthyThreshold: number.optional(),
  }),
  deregistrationDelaySeconds: number.optional(),
  slowStartSeconds: number.optional(),
  stickinessDurationSeconds: number.optional(),
  idleTimeoutSeconds: number.optional(),
  deletionProtection: boolean,
  tlsPolicy: string.optional(),
  hstsMaxAgeSeconds: number.optional(),
  accessLogRetentionDays: number,
});

const cronSettings = {
  leaseSeconds: number.optional(),
  maxRunSeconds: number.optional(),
  retries: number.optional(),
  retryBackoffSeconds: number.optional(),
  backfillWindowSeconds: number.optional(),
};

const range = z.strictObject({ min: number, max: number });

const compute = z.strictObject({
  instanceType: string,
  amiId: string.optional(),
  minCapacity: number,
  maxCapacity: number,
  healthCheckGraceSeconds: number.optional(),
  defaultInstanceWarmupSeconds: number.optional(),
  appPort: number,
  appUser: string.optional(),
  repository: z.strictObject({
    url: string,
    ref: string,
    directory: string.optional(),
    allowBranchRef: boolean.optional(),
    credentialType: z.enum(["none", "ssh-key", "https-token"]),
    httpsUsername: string.optional(),
    sshKnownHosts: strings.optional(),
  }),
  runtime: z.strictObject({ preset: z.enum(["nodejs20", "nodejs22", "nodejs24"]).optional(), packages: strings.optional() }).optional(),
  buildCommands: strings,
  startCommand: string,
  healthCheckPath: string,
  uploadsPath: string.optional(),
  cronJobs: z.array(z.strictObject({ name: string, schedule: string, command: string, ...cronSettings })).optional(),
  cronDefaults: z.strictObject(cronSettings).optional(),
  jobTable: z.strictObject({ deletionProtection: boolean.optional(), recordRetentionDays: number.optional() }).optional(),
  scaling: z.strictObject({ targetCpuPercent: number, requestsPerTarget: number.optional() }),
  scheduledActions: z
    .array(
      z.strictObject({
        name: string,
        recurrence: string,
        minCapacity: number,
        maxCapacity: number,
        desiredCapacity: number.optional(),
        timeZone: string.optional(),
      }),
    )
    .optional(),
  warmPool: z
    .strictObject({
      minSize: number.optional(),
      maxPreparedCapacity: number.optional(),
      poolState: z.enum(["Stopped", "Hibernated", "Running"]).optional(),
    })
    .optional(),
  purchaseMix: z
    .strictObject({
      instanceTypes: strings.optional(),
      instanceRequirements: z
        .strictObject({
          vcpuCount: range,
          memoryMiB: range,
          architecture: z.enum(["arm64", "x86_64"]).optional(),
          burstablePerformance: z.enum(["included", "excluded", "required"]).optional(),
        })
        .optional(),
      onDemandBaseCapacity: number.optional(),
      onDemandPercentageAboveBaseCapacity: number.optional(),
      spotAllocationStrategy: z
        .enum(["price-capacity-optimized", "capacity-optimized", "capacity-optimized-prioritized", "lowest-price"])
        .optional(),
      onDemandAllocationStrategy: z.enum(["lowest-price", "prioritized"]).optional(),
    })
    .optional(),
  instanceRefreshMinHealthyPercent: number.optional(),
  rootVolumeGiB: number.optional(),
  bootTimeoutSeconds: number.optional(),
  bootStepTimeoutSeconds: number.optional(),
  healthCheckWaitSeconds: number.optional(),
});

const monitoring = z.strictObject({
  topic: boolean,
  alarmEmails: strings.optional(),
  periodSeconds: number.optional(),
  evaluationPeriods: number.optional(),
  thresholds: z
    .strictObject({
      loadBalancer5xxPercent: number.optional(),
      target5xxPercent: number.optional(),
      targetResponseP95Seconds: number.optional(),
      rejectedConnections: number.optional(),
      wafBlockedRequests: number.optional(),
      certificateExpiryDays: number.optional(),
      groupCpuPercent: number.optional(),
      databaseCpuPercent: number.optional(),
      databaseFreeStorageGiB: number.optional(),
      databaseFreeableMemoryMiB: number.optional(),
      databaseConnections: number.optional(),
      cacheMemoryPercent: number.optional(),
      cacheEvictions: number.optional(),
      cacheCpuPercent: number.optional(),
      cacheReplicationLagSeconds: number.optional(),
      fileSystemIoLimitPercent: number.optional(),
      fileSystemBurstCreditGiB: number.optional(),
      spotInterruptionsPerHour: number.optional(),
    })
    .optional(),
});

const waivers = z.strictObject({
  deletionProtection: string.optional(),
  multiAz: string.optional(),
  backupRetention: string.optional(),
  pinnedRef: string.optional(),
  alwaysOn: string.optional(),
  onDemandBase: string.optional(),
});

/** The shape of EnvironmentConfig (environments/schema/types.ts). */
export const environmentSchema = z.strictObject({
  name: string,
  project: string,
  region: string,
  accountId: string,
  assumeRoleArn: string.optional(),
  repository: string,
  tags: stringMap.optional(),
  production: boolean,
  waivers: waivers.optional(),
  acknowledgements: stringMap.optional(),
  logRetentionDays: number,
  state,
  network,
  secrets,
  database,
  fileSystem,
  cache,
  edge,
  compute,
  monitoring,
});

const stateAudit = z.strictObject({ enabled: boolean.optional(), retentionDays: number.optional() });

const ci = z.strictObject({
  githubRepository: string,
  createOidcProvider: boolean.optional(),
  planWorkflow: string.optional(),
  applyWorkflow: string.optional(),
  environments: z.array(z.strictObject({ name: string, githubEnvironment: string.optional(), planGithubEnvironment: string.optional() })),
});

/** The shape of BootstrapConfig (environments/schema/types.ts). */
export const bootstrapSchema = z.strictObject({
  name: string.optional(),
  project: string,
  region: string,
  accountId: string,
  repository: string,
  state,
  remoteState: boolean,
  noncurrentVersionRetentionDays: number.optional(),
  stateAudit: stateAudit.optional(),
  ci: ci.optional(),
});

// The schema and the types agree, part by part (so a type error names the part that drifted): the same keys,
// the same optional ones, the same value types. Readonly-ness and how a type is composed (interfaces, extends,
// Partial<Record<...>>) do not count.
type Plain<T> = T extends string | number | boolean | null | undefined
  ? T
  : T extends readonly (infer E)[]
    ? Plain<E>[]
    : { -readonly [K in keyof T]: Plain<T[K]> };
/** True when `A` and `B` are the same type (not merely assignable one to the other). */
export type Same<A, B> = (<T>() => T extends Plain<A> ? 1 : 2) extends <T>() => T extends Plain<B> ? 1 : 2 ? true : false;
/** Compiles only when `T` is true. */
export type Agrees<T extends true> = T;
type Input<S extends z.ZodType> = z.input<S>;

export type SchemaAgreesWithTypes = [
  Agrees<Same<Input<typeof state>, StateConfig>>,
  Agrees<Same<Input<typeof network>, NetworkSettings>>,
  Agrees<Same<Input<typeof secrets>, SecretsSettings>>,
  Agrees<Same<Input<typeof database>, DatabaseSettings>>,
  Agrees<Same<Input<typeof fileSystem>, FileSystemSettings>>,
  Agrees<Same<Input<typeof cache>, CacheSettings>>,
  Agrees<Same<Input<typeof waf>, WafSettings>>,
  Agrees<Same<Input<typeof edge>, EdgeSettings>>,
  Agrees<Same<Input<typeof compute>, ComputeSettings>>,
  Agrees<Same<Input<typeof monitoring>, MonitoringSettings>>,
  Agrees<Same<Input<typeof environmentSchema>, EnvironmentConfig>>,
  Agrees<Same<Input<typeof stateAudit>, StateAuditSettings>>,
  Agrees<Same<Input<typeof ci>, CiSettings>>,
  Agrees<Same<Input<typeof bootstrapSchema>, BootstrapConfig>>,
];
