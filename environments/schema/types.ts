// The typed shape of one environment. Every difference between dev, staging and prod is a value here;
// modules receive these values as props and never learn which environment they are building.
// Each module defines the settings it accepts (with their defaults); this file composes them.
import type { CiSettings } from "../../modules/bootstrap/ci-roles";
import type { StateAuditSettings } from "../../modules/bootstrap/state-backend";
import type { MonitoringSettings } from "../../modules/monitoring";
import type { NetworkSettings } from "../../modules/networking";
import type { SecretsSettings } from "../../modules/secrets";
import type { DatabaseSettings } from "../../modules/database";
import type { FileSystemSettings } from "../../modules/file-system";
import type { CacheSettings } from "../../modules/cache";
import type { ComputeSettings } from "../../modules/compute";
import type { CertificateSettings } from "../../modules/certificate";
import type { LoadBalancerSettings } from "../../modules/load-balancer";
import type { WafSettings } from "../../modules/waf";

/** Where Terraform keeps this environment's state (created once per account by the bootstrap stack). */
export interface StateConfig {
  /** S3 bucket holding every stack's state object. */
  readonly bucket: string;
  /** DynamoDB table used for state locking (key `LockID`). */
  readonly lockTable: string;
  /** Region of the state bucket and lock table. */
  readonly region: string;
  /**
   * Account that owns the state bucket, the lock table and the state key (the account of the bootstrap
   * stack that creates them). @default the environment's own `accountId`
   */
  readonly accountId?: string;
  /**
   * Prefix of this environment's state object; the key is `<keyPrefix>/<environment>/terraform.tfstate`.
   * @default "environments"
   */
  readonly keyPrefix?: string;
}

/** The public edge: the app's names and certificate, the load balancer, and the optional WAF. */
export interface EdgeSettings extends CertificateSettings, LoadBalancerSettings {
  /** Web application firewall in front of the load balancer. */
  readonly waf: WafSettings;
  /**
   * Point the app's names at the load balancer with alias records in `hostedZone`. Off while migrating an app
   * that still serves from elsewhere (the names keep their records until the cut-over); no effect without a
   * hosted zone, where DNS is external.
   */
  readonly routeTraffic: boolean;
}

/** Settings that may be waived in a production environment, each waiver needing a written reason. */
export type ProductionSafeguard = "deletionProtection" | "multiAz" | "backupRetention" | "pinnedRef" | "alwaysOn" | "onDemandBase";

export interface EnvironmentConfig {
  /** Environment name; also the stack name and the last part of every resource name prefix. Lowercase, `[a-z][a-z0-9-]*`. */
  readonly name: string;
  /** Short project name used in resource names and tags, for example `webapp`. */
  readonly project: string;
  /** AWS region, for example `eu-west-2`. */
  readonly region: string;
  /** The 12-digit AWS account this environment lives in; the provider refuses to run against any other. */
  readonly accountId: string;
  /** Role the provider assumes to reach the environment's account. @default none (use the caller's credentials) */
  readonly assumeRoleArn?: string;
  /** Repository URL of this infrastructure code, written to the `Repository` tag. */
  readonly repository: string;
  /** Extra tags added to every resource through the provider's default tags. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
  /** Whether this environment serves real users: production safeguards are enforced unless waived. */
  readonly production: boolean;
  /** Written reasons for turning off a production safeguard. @default {} */
  readonly waivers?: Readonly<Partial<Record<ProductionSafeguard, string>>>;
  /**
   * Warnings this environment accepts on purpose, each with a written reason, keyed by the setting that
   * warns (`network.natGateways`: the construct, then the warning's id, modules/primitives/warnings.ts). Synth then counts
   * them instead of printing them, and says when one matches no warning. @default {}
   */
  readonly acknowledgements?: Readonly<Record<string, string>>;
  /** Retention of the environment's CloudWatch log groups, in days (a value CloudWatch Logs accepts). */
  readonly logRetentionDays: number;
  /** Remote state location. */
  readonly state: StateConfig;
  /** VPC, subnet tiers, NAT, endpoints and flow logs. */
  readonly network: NetworkSettings;
  /** The app's secrets (containers only) and their KMS key. */
  readonly secrets: SecretsSettings;
  /** The RDS instance. */
  readonly database: DatabaseSettings;
  /** The EFS file system for uploads. */
  readonly fileSystem: FileSystemSettings;
  /** The ElastiCache replication group for locks and sessions. */
  readonly cache: CacheSettings;
  /** Certificate, DNS, load balancer, access logs and WAF. */
  readonly edge: EdgeSettings;
  /** App instances: the code they run, how they boot, scale and roll. */
  readonly compute: ComputeSettings;
  /** Alarm topic and subscriptions, alarm thresholds, the dashboard. */
  readonly monitoring: MonitoringSettings;
}

/**
 * A bootstrap stack: the state bucket, lock table and state key of one account, the permissions boundaries
 * of the environments in that account, and their CI roles. One per account (docs/ci-and-state.md: "Prod in its own account").
 */
export interface BootstrapConfig {
  /** Stack (and output folder) name: `bootstrap`, or `bootstrap-<suffix>` for a further account. @default "bootstrap" */
  readonly name?: string;
  readonly project: string;
  readonly region: string;
  readonly accountId: string;
  readonly repository: string;
  readonly state: StateConfig;
  /**
   * Keep the bootstrap stack's own state in the bucket it creates. Set to true after the first apply
   * (with local state), then run `terraform init -migrate-state` in its output folder.
   */
  readonly remoteState: boolean;
  /** Days a noncurrent state version is kept before it expires. @default 90 */
  readonly noncurrentVersionRetentionDays?: number;
  /** CloudTrail trail of every read and write of a state object. @default enabled, logs kept 365 days */
  readonly stateAudit?: StateAuditSettings;
  /** GitHub Actions plan and apply roles (OIDC, no long-lived keys). @default none */
  readonly ci?: CiSettings;
}
