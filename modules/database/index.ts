// The relational database: one RDS instance (MySQL 8.0 or PostgreSQL 16) in the private data subnets, its own
// security group, storage and Performance Insights encrypted with its own KMS key, TLS forced by a parameter
// group, enhanced monitoring, log exports to KMS-encrypted log groups, IAM authentication, a master
// password managed by RDS in Secrets Manager (never in code, JSON or state), and the secret container of the
// app's own database user (created and set by an operator, not here). Opens no port by itself.
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { formatArn } from "../primitives/arn";
import { Connectable, Connections, ownSecurityGroup } from "../primitives/connections";
import { EncryptionKey } from "../primitives/encryption-key";
import { EncryptedLogGroup } from "../primitives/log-group";
import { secretReadStatements, serviceTrustPolicy, Statement } from "../primitives/policy";
import { checkWindows } from "../primitives/time-windows";
import { EC2_INSTANCE_TYPES, RDS_NAMED_CLASSES } from "../rules/aws-catalogue.generated";
import { assertValid, catalogueMessage, Problems } from "../primitives/validation";

export type DatabaseEngine = "mysql" | "postgres";

/**
 * Engine versions the project knows, per engine. A major version (`8.0`, `16`) lets RDS pick and upgrade the
 * minor version (use it with `autoMinorVersionUpgrade`); a full version pins one.
 */
export const DATABASE_ENGINE_VERSIONS: Readonly<Record<DatabaseEngine, readonly string[]>> = {
  mysql: ["8.0", "8.0.36", "8.0.37", "8.0.39", "8.0.40", "8.0.41", "8.0.42", "8.0.43"],
  postgres: ["16", "16.3", "16.4", "16.6", "16.8", "16.9", "16.10"],
};

interface EngineFacts {
  readonly port: number;
  readonly family: string;
  /** Parameters the project always sets: TLS only, and slow statements logged. */
  readonly parameters: readonly { name: string; value: string; applyMethod?: string }[];
  readonly logExports: readonly string[];
}

const ENGINES: Readonly<Record<DatabaseEngine, EngineFacts>> = {
  mysql: {
    port: 3306,
    family: "mysql8.0",
    parameters: [
      { name: "require_secure_transport", value: "ON" },
      { name: "slow_query_log", value: "1" },
      { name: "long_query_time", value: "2" },
      { name: "log_output", value: "FILE" },
    ],
    logExports: ["error", "slowquery"],
  },
  postgres: {
    port: 5432,
    family: "postgres16",
    parameters: [
      { name: "rds.force_ssl", value: "1" },
      { name: "log_min_duration_statement", value: "2000" },
    ],
    logExports: ["postgresql", "upgrade"],
  },
};

/** Enhanced-monitoring intervals RDS accepts, in seconds (0 turns it off). */
export const MONITORING_INTERVALS: readonly number[] = [0, 1, 5, 10, 15, 30, 60];

/** The database settings an environment chooses. */
export interface DatabaseSettings {
  readonly engine: DatabaseEngine;
  /** A version in `DATABASE_ENGINE_VERSIONS[engine]`, for example `16` or `8.0.42`. */
  readonly engineVersion: string;
  /** Instance class, for example `db.t4g.small` or `db.m7g.large`. */
  readonly instanceClass: string;
  /** Initial gp3 storage, GiB (20 to 65536). */
  readonly allocatedStorageGib: number;
  /** Ceiling for storage autoscaling, GiB; must exceed `allocatedStorageGib`. */
  readonly maxAllocatedStorageGib: number;
  /** A standby in another zone with automatic failover. */
  readonly multiAz: boolean;
  /** Days automated backups are kept, 1 to 35 (production safeguard: at least 14). */
  readonly backupRetentionDays: number;
  /** Daily backup window, `hh24:mi-hh24:mi` UTC, at least 30 minutes. */
  readonly backupWindow: string;
  /** Weekly maintenance window, `ddd:hh24:mi-ddd:hh24:mi` UTC, at least 30 minutes, not overlapping the backup window. */
  readonly maintenanceWindow: string;
  /** Refuse deletion until this is turned off. */
  readonly deletionProtection: boolean;
  /** Take a final snapshot when the instance is deleted. */
  readonly finalSnapshot: boolean;
  /** Let RDS apply minor engine upgrades in the maintenance window. @default true */
  readonly autoMinorVersionUpgrade?: boolean;
  /** Name of the database created with the instance. @default "app" */
  readonly databaseName?: string;
  /** Master user name; its password is generated and kept by RDS in Secrets Manager. @default "dbadmin" */
  readonly masterUsername?: string;
  /**
   * The app's own database user (no superuser, privileges on `databaseName` only), created by an operator
   * with `scripts/db/create-app-role.sql`; its credentials live in the `<prefix>/database-app-user` secret.
   * @default "app_user"
   */
  readonly appUsername?: string;
  /** Enhanced-monitoring interval, seconds (one of `MONITORING_INTERVALS`; 0 turns it off). @default 60 */
  readonly monitoringIntervalSeconds?: number;
  /** Performance Insights retention, days: 7 (free) or a multiple of 31 up to 731. @default 7 */
  readonly performanceInsightsRetentionDays?: number;
  /** Apply changes at once instead of in the next maintenance window. @default false */
  readonly applyImmediately?: boolean;
}

export interface DatabaseProps extends DatabaseSettings {
  /** Prefix of every resource name, for example `webapp-dev`. */
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
  readonly vpcId: string;
  /** Private data subnets, one per zone (at least two). */
  readonly subnetIds: readonly string[];
  /** KMS key of the app's secrets; encrypts the RDS-managed master secret. */
  readonly secretsKeyArn: string;
  /** KMS key that encrypts the exported log groups (its policy allows CloudWatch Logs). */
  readonly logsKeyArn: string;
  /** Retention of the exported database logs, days (the environment's log retention). */
  readonly logRetentionDays: number;
  /** Recovery window of the app user's secret, days (the environment's secrets setting). @default 30 */
  readonly secretRecoveryWindowDays?: number;
}

export const DEFAULT_AUTO_MINOR_VERSION_UPGRADE = true;
export const DEFAULT_DATABASE_NAME = "app";
export const DEFAULT_MASTER_USERNAME = "dbadmin";
export const DEFAULT_APP_USERNAME = "app_user";
export const DEFAULT_MONITORING_INTERVAL_SECONDS = 60;
export const DEFAULT_PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7;
export const DEFAULT_APPLY_IMMEDIATELY = false;
export const DEFAULT_SECRET_RECOVERY_WINDOW_DAYS = 30;

/** The database settings with every default filled in. */
export interface ResolvedDatabaseSettings extends DatabaseSettings {
  readonly autoMinorVersionUpgrade: boolean;
  readonly databaseName: string;
  readonly masterUsername: string;
  readonly appUsername: string;
  readonly monitoringIntervalSeconds: number;
  readonly performanceInsightsRetentionDays: number;
  readonly applyImmediately: boolean;
}

/** The settings' defaults, written once: the check, the construct and the name rules all read what this returns. */
export function resolveDatabaseSettings<S extends DatabaseSettings>(settings: S): S & ResolvedDatabaseSettings {
  return {
    ...settings,
    autoMinorVersionUpgrade: settings.autoMinorVersionUpgrade ?? DEFAULT_AUTO_MINOR_VERSION_UPGRADE,
    databaseName: settings.databaseName ?? DEFAULT_DATABASE_NAME,
    masterUsername: settings.masterUsername ?? DEFAULT_MASTER_USERNAME,
    appUsername: settings.appUsername ?? DEFAULT_APP_USERNAME,
    monitoringIntervalSeconds: settings.monitoringIntervalSeconds ?? DEFAULT_MONITORING_INTERVAL_SECONDS,
    performanceInsightsRetentionDays: settings.performanceInsightsRetentionDays ?? DEFAULT_PERFORMANCE_INSIGHTS_RETENTION_DAYS,
    applyImmediately: settings.applyImmediately ?? DEFAULT_APPLY_IMMEDIATELY,
  };
}

/** The construct's props with every default filled in, the app user's secret's recovery window included. */
export function resolveDatabaseProps(
  props: DatabaseProps,
): ResolvedDatabaseSettings & DatabaseProps & { readonly secretRecoveryWindowDays: number } {
  return {
    ...resolveDatabaseSettings(props),
    secretRecoveryWindowDays: props.secretRecoveryWindowDays ?? DEFAULT_SECRET_RECOVERY_WINDOW_DAYS,
  };
}

const IDENTIFIER = /^[a-zA-Z][a-zA-Z0-9_]{0,62}$/;

/** One line per problem of an environment's database settings, checked with their defaults resolved. */
export function checkDatabaseSettings(settings: DatabaseSettings, problems: Problems): void {
  const props = resolveDatabaseSettings(settings);
  const versions = DATABASE_ENGINE_VERSIONS[props.engine];
  if (
    problems.check(
      versions !== undefined,
      "engine",
      props.engine,
      `unknown engine; known: ${Object.keys(DATABASE_ENGINE_VERSIONS).join(", ")}`,
    )
  ) {
    problems.check(
      versions.includes(props.engineVersion),
      "engineVersion",
      props.engineVersion,
      `not a ${props.engine} version the project knows; known: ${versions.join(", ")}`,
    );
    const pinned = props.engineVersion.split(".").length > (props.engine === "mysql" ? 2 : 1);
    problems.check(
      !(pinned && props.autoMinorVersionUpgrade),
      "engineVersion",
      props.engineVersion,
      `pins a minor version while autoMinorVersionUpgrade is on: after RDS upgrades it Terraform would try to go back; give the major version (${versions[0]}) or turn autoMinorVersionUpgrade off`,
    );
  }
  if (
    problems.check(
      /^db\.[a-z0-9-]+\.[a-z0-9]+$/.test(props.instanceClass),
      "instanceClass",
      props.instanceClass,
      "not an RDS instance class (for example db.t4g.small)",
    )
  ) {
    // Which engine version offers the class only the account knows: the plan checks that (isOrderable).
    const known = EC2_INSTANCE_TYPES.includes(props.instanceClass.slice(3)) || RDS_NAMED_CLASSES.includes(props.instanceClass);
    const classes = () => [...EC2_INSTANCE_TYPES.map((t) => `db.${t}`), ...RDS_NAMED_CLASSES];
    if (!known)
      problems.add(
        "instanceClass",
        props.instanceClass,
        catalogueMessage(props.instanceClass, classes(), "no such RDS instance class (modules/rules/aws-catalogue.generated.ts)"),
      );
  }
  const storage = props.allocatedStorageGib;
  problems.check(
    Number.isInteger(storage) && storage >= 20 && storage <= 65536,
    "allocatedStorageGib",
    storage,
    "gp3 storage is 20 to 65536 GiB",
  );
  // RDS takes a storage ceiling at least 10 % above the allocated storage ("Invalid max storage size"):
  // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html
  problems.check(
    Number.isInteger(props.maxAllocatedStorageGib) &&
      props.maxAllocatedStorageGib * 10 >= storage * 11 &&
      props.maxAllocatedStorageGib <= 65536,
    "maxAllocatedStorageGib",
    props.maxAllocatedStorageGib,
    `must be at least 10 % above allocatedStorageGib (${storage}), so at least ${Math.ceil((storage * 11) / 10)}, and at most 65536 for storage autoscaling`,
  );
  const days = props.backupRetentionDays;
  problems.check(
    Number.isInteger(days) && days >= 1 && days <= 35,
    "backupRetentionDays",
    days,
    "must be 1 to 35 days (AWS takes 0 to 35; 0 turns off backups and point-in-time recovery)",
  );
  checkWindows(
    problems,
    { field: "backupWindow", value: props.backupWindow },
    { field: "maintenanceWindow", value: props.maintenanceWindow },
    30,
  );
  const interval = props.monitoringIntervalSeconds;
  problems.check(
    MONITORING_INTERVALS.includes(interval),
    "monitoringIntervalSeconds",
    interval,
    `RDS accepts ${MONITORING_INTERVALS.join(", ")} seconds`,
  );
  const pi = props.performanceInsightsRetentionDays;
  problems.check(
    pi === 7 || (Number.isInteger(pi) && pi % 31 === 0 && pi >= 31 && pi <= 731) || pi === 731,
    "performanceInsightsRetentionDays",
    pi,
    "Performance Insights keeps 7 days, a multiple of 31 days, or 731 days",
  );
  const dbName = props.databaseName;
  problems.check(
    IDENTIFIER.test(dbName),
    "databaseName",
    dbName,
    "must start with a letter and hold only letters, digits and _ (at most 63)",
  );
  const user = props.masterUsername;
  problems.check(
    IDENTIFIER.test(user) &&
      user.length <= (props.engine === "mysql" ? 32 : 63) &&
      !["admin", "rdsadmin", "postgres", "root"].includes(user.toLowerCase()),
    "masterUsername",
    user,
    "must start with a letter, hold only letters, digits and _, and not be a reserved name (admin, rdsadmin, postgres, root)",
  );
  const appUser = props.appUsername;
  problems.check(
    IDENTIFIER.test(appUser) &&
      !appUser.toLowerCase().startsWith("rds") &&
      !["admin", "postgres", "root", user.toLowerCase()].includes(appUser.toLowerCase()),
    "appUsername",
    appUser,
    "must start with a letter, hold only letters, digits and _, differ from masterUsername and not be reserved (admin, postgres, root, rds*)",
  );
}

/** The database as the composing stack and the compute layer consume it. */
export interface DatabaseRefs {
  readonly engine: DatabaseEngine;
  /** `address:port`. */
  readonly endpoint: string;
  readonly address: string;
  readonly port: number;
  /** Name of the database created with the instance. */
  readonly databaseName: string;
  /** Secret (JSON `username`, `password`) that RDS creates and rotates for the master user. */
  readonly masterUserSecretArn: string;
  /** Secret (JSON `username`, `password`) of the app's own database user, set by an operator. */
  readonly appUserSecretArn: string;
}

export class Database extends Construct implements Connectable, DatabaseRefs {
  readonly connections: Connections;
  readonly instance: DbInstance;
  readonly key: EncryptionKey;
  readonly securityGroup: SecurityGroup;
  readonly engine: DatabaseEngine;
  readonly endpoint: string;
  readonly address: string;
  readonly port: number;
  readonly databaseName: string;
  readonly masterUserSecretArn: string;
  readonly appUserSecretArn: string;
  /** Name of the app's own database user. */
  readonly appUsername: string;
  private readonly props: DatabaseProps;

  constructor(scope: Construct, id: string, settings: DatabaseProps) {
    super(scope, id);
    assertValid(this, settings, checkDatabaseSettings);
    const props = resolveDatabaseProps(settings);
    this.props = props;
    const facts = ENGINES[props.engine];
    const name = (suffix: string) => `${props.namePrefix}-${suffix}`;
    const identifier = name("db");

    this.key = new EncryptionKey(this, "key", {
      description: `${props.namePrefix}: database storage and Performance Insights`,
      alias: name("database"),
      accountId: props.accountId,
    });

    ({ securityGroup: this.securityGroup, connections: this.connections } = ownSecurityGroup(this, {
      name: "database",
      groupName: name("database"),
      description: `${props.engine} on ${facts.port}: only from the groups allowed in`,
      vpcId: props.vpcId,
      defaultPort: facts.port,
      revokeRulesOnDelete: true,
    }));

    const subnetGroup = new DbSubnetGroup(this, "subnets", {
      name: name("database"),
      description: "Private data subnets",
      subnetIds: [...props.subnetIds],
      tags: { Name: name("database") },
    });

    const parameters = new DbParameterGroup(this, "parameters", {
      namePrefix: name(`${facts.family.replace(/\./g, "-")}-`),
      family: facts.family,
      description: "TLS only; slow statements logged",
      parameter: facts.parameters.map((p) => ({ name: p.name, value: p.value, applyMethod: p.applyMethod ?? "immediate" })),
      lifecycle: { createBeforeDestroy: true },
      tags: { Name: name("database") },
    });

    // RDS would create these groups itself, unencrypted and kept forever; created here first, they get
    // the environment's retention and KMS key.
    const logGroups = facts.logExports.map(
      (log) =>
        new EncryptedLogGroup(this, `log-${log}`, {
          name: `/aws/rds/instance/${identifier}/${log}`,
          retentionDays: props.logRetentionDays,
          kmsKeyArn: props.logsKeyArn,
        }),
    );

    const interval = props.monitoringIntervalSeconds;
    let monitoringRoleArn: string | undefined;
    if (interval > 0) {
      const role = new IamRole(this, "monitoring-role", {
        name: name("rds-monitoring"),
        assumeRolePolicy: serviceTrustPolicy("monitoring.rds.amazonaws.com", props.accountId),
      });
      new IamRolePolicyAttachment(this, "monitoring-policy", {
        role: role.name,
        policyArn: formatArn({ service: "iam", account: "aws", resource: "policy/service-role/AmazonRDSEnhancedMonitoringRole" }),
      });
      monitoringRoleArn = role.arn;
    }

    this.instance = new DbInstance(this, "instance", {
      identifier,
      engine: props.engine,
      engineVersion: props.engineVersion,
      instanceClass: props.instanceClass,
      dbName: props.databaseName,
      username: props.masterUsername,
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: props.secretsKeyArn,
      port: facts.port,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [this.securityGroup.id],
      publiclyAccessible: false,
      parameterGroupName: parameters.name,
      storageType: "gp3",
      allocatedStorage: props.allocatedStorageGib,
      maxAllocatedStorage: props.maxAllocatedStorageGib,
      storageEncrypted: true,
      kmsKeyId: this.key.arn,
      multiAz: props.multiAz,
      backupRetentionPeriod: props.backupRetentionDays,
      backupWindow: props.backupWindow,
      maintenanceWindow: props.maintenanceWindow,
      copyTagsToSnapshot: true,
      deleteAutomatedBackups: !props.deletionProtection,
      deletionProtection: props.deletionProtection,
      skipFinalSnapshot: !props.finalSnapshot,
      // A fixed name fails the second replace or destroy (DBSnapshotAlreadyExists). The creation time makes
      // it unique per instance; ignore_changes keeps that first value, so re-plans show no diff and each
      // replacement's new instance records its own. Set even when skipped, so turning finalSnapshot on later
      // finds a name already recorded.
      finalSnapshotIdentifier: `${identifier}-final-${Fn.formatdate("YYYYMMDDhhmmss", Fn.timestamp())}`,
      autoMinorVersionUpgrade: props.autoMinorVersionUpgrade,
      allowMajorVersionUpgrade: false,
      applyImmediately: props.applyImmediately,
      iamDatabaseAuthenticationEnabled: true,
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: this.key.arn,
      performanceInsightsRetentionPeriod: props.performanceInsightsRetentionDays,
      monitoringInterval: interval,
      monitoringRoleArn,
      enabledCloudwatchLogsExports: [...facts.logExports],
      caCertIdentifier: "rds-ca-rsa2048-g1",
      tags: { Name: identifier },
      dependsOn: logGroups,
      lifecycle: { ignoreChanges: ["final_snapshot_identifier"] },
    });

    this.engine = props.engine;
    this.endpoint = this.instance.endpoint;
    this.address = this.instance.address;
    this.port = facts.port;
    this.databaseName = props.databaseName;
    this.masterUserSecretArn = this.instance.masterUserSecret.get(0).secretArn;

    // The app connects as its own user, never as the master: a container for its credentials, whose value
    // (JSON `username`, `password`) an operator sets when creating the role (docs/runbooks.md, section 2).
    this.appUsername = props.appUsername;
    const appUser = new SecretsmanagerSecret(this, "app-user", {
      name: `${props.namePrefix}/database-app-user`,
      description: `The app's database user ${this.appUsername} (JSON username, password); set by operators with scripts/db/create-app-role.sql`,
      kmsKeyId: props.secretsKeyArn,
      recoveryWindowInDays: props.secretRecoveryWindowDays,
      tags: { Name: `${props.namePrefix}/database-app-user` },
    });
    this.appUserSecretArn = appUser.arn;
  }

  /** Identity-policy statements to read the app user's secret (and decrypt it with the secrets key). */
  grantReadAppUserSecret(): Statement[] {
    return secretReadStatements("DatabaseAppUser", [this.appUserSecretArn], this.props.secretsKeyArn, this.props.region);
  }

  /** Identity-policy statements to read the RDS-managed master secret (and decrypt it with the secrets key). */
  grantReadMasterSecret(): Statement[] {
    return secretReadStatements("DatabaseMasterSecret", [this.masterUserSecretArn], this.props.secretsKeyArn, this.props.region);
  }

  /** Identity-policy statement to connect as `dbUser` with IAM database authentication. */
  grantConnect(dbUser: string): Statement[] {
    const { region, accountId } = this.props;
    return [
      {
        Sid: "DatabaseIamConnect",
        Effect: "Allow",
        Action: "rds-db:connect",
        Resource: formatArn({ service: "rds-db", region, account: accountId, resource: `dbuser:${this.instance.resourceId}/${dbUser}` }),
      },
    ];
  }
}
