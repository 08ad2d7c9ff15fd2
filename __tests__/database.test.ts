import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { TerraformOutput } from "cdktf";
import { Database, DATABASE_ENGINE_VERSIONS, DatabaseProps } from "../modules/database";
import { policyDocument } from "../modules/primitives/policy";
import { ENVIRONMENTS } from "../environments";
import { prod } from "../environments/prod";
import { validateEnvironments } from "../environments/schema/validate";
import { environment } from "./support/fixtures";
import { policy, resourceList, resources, synthConstruct, synthEnvironment } from "./support/synth";

const props: DatabaseProps = {
  namePrefix: "webapp-test",
  region: "eu-west-2",
  accountId: "111111111111",
  vpcId: "vpc-1",
  subnetIds: ["subnet-a", "subnet-b"],
  secretsKeyArn: "arn:aws:kms:eu-west-2:111111111111:key/secrets",
  logsKeyArn: "arn:aws:kms:eu-west-2:111111111111:key/logs",
  logRetentionDays: 30,
  engine: "postgres",
  engineVersion: "16",
  instanceClass: "db.t4g.small",
  allocatedStorageGib: 20,
  maxAllocatedStorageGib: 100,
  multiAz: false,
  backupRetentionDays: 7,
  backupWindow: "02:00-03:00",
  maintenanceWindow: "sun:03:30-sun:04:30",
  deletionProtection: true,
  finalSnapshot: true,
};

function build(overrides: Partial<DatabaseProps> = {}) {
  return synthConstruct((scope) => {
    const db = new Database(scope, "database", { ...props, ...overrides });
    new IamPolicy(scope, "grant", { name: "grant", policy: policyDocument(...db.grantReadMasterSecret(), ...db.grantConnect("app")) });
    new TerraformOutput(scope, "secret", { value: db.masterUserSecretArn });
    new TerraformOutput(scope, "endpoint", { value: db.endpoint });
    new TerraformOutput(scope, "address", { value: db.address });
  });
}

const postgres = build();
const mysql = build({
  engine: "mysql",
  engineVersion: "8.0",
  deletionProtection: false,
  finalSnapshot: false,
  monitoringIntervalSeconds: 0,
});
const instance = (json: typeof postgres.json) => resourceList(json, "aws_db_instance")[0]!;

describe("Database", () => {
  it("runs in the data subnets behind its own security group, never publicly", () => {
    expect(postgres.text).toHaveResourceWithProperties(DbSubnetGroup, { subnet_ids: ["subnet-a", "subnet-b"] });
    expect(postgres.text).toHaveResourceWithProperties(SecurityGroup, { name: "webapp-test-database", vpc_id: "vpc-1" });
    const sg = resourceList(postgres.json, "aws_security_group")[0]!;
    expect(sg.ingress).toBeUndefined();
    expect(sg.egress).toBeUndefined();
    expect(instance(postgres.json)).toMatchObject({
      publicly_accessible: false,
      db_subnet_group_name: expect.stringMatching(/^\$\{aws_db_subnet_group\./),
      vpc_security_group_ids: [expect.stringMatching(/^\$\{aws_security_group\.database_sg_\w+\.id\}$/)],
      port: 5432,
    });
    expect(instance(mysql.json).port).toBe(3306);
  });

  it("encrypts storage and Performance Insights with its own rotating key, on autoscaling gp3", () => {
    expect(postgres.text).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true });
    const keyRef = expect.stringMatching(/^\$\{aws_kms_key\.database_key_\w+\.arn\}$/);
    expect(postgres.text).toHaveResourceWithProperties(DbInstance, {
      storage_encrypted: true,
      kms_key_id: keyRef,
      storage_type: "gp3",
      allocated_storage: 20,
      max_allocated_storage: 100,
      performance_insights_enabled: true,
      performance_insights_kms_key_id: keyRef,
      performance_insights_retention_period: 7,
    });
  });

  it("lets RDS manage the master password in Secrets Manager under the secrets key, with IAM authentication on", () => {
    const db = instance(postgres.json);
    expect(db).toMatchObject({
      manage_master_user_password: true,
      master_user_secret_kms_key_id: props.secretsKeyArn,
      username: "dbadmin",
      db_name: "app",
      iam_database_authentication_enabled: true,
    });
    expect(db.password).toBeUndefined();
    expect(db.password_wo).toBeUndefined();
    expect(postgres.json.output.secret.value).toMatch(
      /^\$\{aws_db_instance\.database_instance_\w+\.master_user_secret\[0\]\.secret_arn\}$/,
    );
    expect(postgres.json.output.endpoint.value).toMatch(/\.endpoint\}$/);
    expect(postgres.json.output.address.value).toMatch(/\.address\}$/);
  });

  it("keeps backups, windows, snapshots and upgrades as set", () => {
    expect(postgres.text).toHaveResourceWithProperties(DbInstance, {
      multi_az: false,
      backup_retention_period: 7,
      backup_window: "02:00-03:00",
      maintenance_window: "sun:03:30-sun:04:30",
      copy_tags_to_snapshot: true,
      deletion_protection: true,
      skip_final_snapshot: false,
      auto_minor_version_upgrade: true,
      allow_major_version_upgrade: false,
    });
    expect(instance(mysql.json)).toMatchObject({ deletion_protection: false, skip_final_snapshot: true });
  });

  it("names each final snapshot after its instance's creation time, so a second replace or destroy cannot collide", () => {
    for (const json of [postgres.json, mysql.json]) {
      const db = instance(json);
      // Recorded even where skipped, so turning finalSnapshot on later finds a name in state.
      expect(db.final_snapshot_identifier).toMatch(/^webapp-test-db-final-\$\{formatdate\("YYYYMMDDhhmmss", timestamp\(\)\)\}$/);
      // Kept from creation: re-plans show no diff, and a replacement records its own.
      expect(db.lifecycle).toEqual({ ignore_changes: ["final_snapshot_identifier"] });
    }
  });

  it("forces TLS with a parameter group per engine", () => {
    expect(postgres.text).toHaveResourceWithProperties(DbParameterGroup, {
      family: "postgres16",
      parameter: expect.arrayContaining([{ name: "rds.force_ssl", value: "1", apply_method: "immediate" }]),
    });
    expect(mysql.text).toHaveResourceWithProperties(DbParameterGroup, {
      family: "mysql8.0",
      parameter: expect.arrayContaining([{ name: "require_secure_transport", value: "ON", apply_method: "immediate" }]),
    });
    expect(instance(postgres.json).parameter_group_name).toMatch(/^\$\{aws_db_parameter_group\./);
  });

  it("exports engine logs to KMS-encrypted groups it creates first", () => {
    expect(instance(postgres.json).enabled_cloudwatch_logs_exports).toEqual(["postgresql", "upgrade"]);
    expect(instance(mysql.json).enabled_cloudwatch_logs_exports).toEqual(["error", "slowquery"]);
    for (const log of ["postgresql", "upgrade"]) {
      expect(postgres.text).toHaveResourceWithProperties(CloudwatchLogGroup, {
        name: `/aws/rds/instance/webapp-test-db/${log}`,
        retention_in_days: 30,
        kms_key_id: props.logsKeyArn,
      });
    }
    expect(instance(postgres.json).depends_on).toHaveLength(2);
  });

  it("runs enhanced monitoring with a role only RDS monitoring can assume", () => {
    const role = resourceList(postgres.json, "aws_iam_role")[0]!;
    expect(policy(role.assume_role_policy).Statement).toEqual([
      expect.objectContaining({ Principal: { Service: "monitoring.rds.amazonaws.com" }, Action: "sts:AssumeRole" }),
    ]);
    expect(postgres.text).toHaveResourceWithProperties(IamRolePolicyAttachment, {
      policy_arn: "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
    });
    expect(instance(postgres.json)).toMatchObject({
      monitoring_interval: 60,
      monitoring_role_arn: expect.stringMatching(/aws_iam_role\./),
    });
    expect(resources(mysql.json, "aws_iam_role")).toEqual({});
    expect(mysql.text).not.toHaveResource(IamRole);
    expect(instance(mysql.json).monitoring_interval).toBe(0);
  });

  it("grants reading exactly the master secret and connecting as one database user", () => {
    const statements = policy(resourceList(postgres.json, "aws_iam_policy")[0]!.policy).Statement;
    expect(statements).toEqual([
      {
        Sid: "DatabaseMasterSecretRead",
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        Resource: [expect.stringMatching(/master_user_secret\[0\]\.secret_arn\}$/)],
      },
      {
        Sid: "DatabaseMasterSecretDecrypt",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: props.secretsKeyArn,
        Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-2.amazonaws.com" } },
      },
      {
        Sid: "DatabaseIamConnect",
        Effect: "Allow",
        Action: "rds-db:connect",
        Resource: expect.stringMatching(
          /^arn:aws:rds-db:eu-west-2:111111111111:dbuser:\$\{aws_db_instance\.database_instance_\w+\.resource_id\}\/app$/,
        ),
      },
    ]);
  });

  it("keeps the app user's credentials in their own secret under the secrets key, for operators to set", () => {
    const { json } = build({ appUsername: "shop_app", secretRecoveryWindowDays: 7 });
    const [secret] = resourceList(json, "aws_secretsmanager_secret");
    expect(secret).toEqual(
      expect.objectContaining({ name: "webapp-test/database-app-user", kms_key_id: props.secretsKeyArn, recovery_window_in_days: 7 }),
    );
    expect(secret?.description).toMatch(/shop_app .*scripts\/db\/create-app-role\.sql/);
    expect(resourceList(json, "aws_secretsmanager_secret_version")).toHaveLength(0);
  });

  it("exposes a connections object on the engine port", () => {
    synthConstruct((scope) => {
      const db = new Database(scope, "database", props);
      expect(db.connections.defaultPort).toBe(5432);
      expect(db.port).toBe(5432);
      expect(db.engine).toBe("postgres");
      expect(db.databaseName).toBe("app");
    });
  });
});

describe("Database rejects what AWS or the project would not accept", () => {
  const rejects = (overrides: Partial<DatabaseProps>, message: RegExp) => expect(() => build(overrides)).toThrow(message);

  it("an engine/version pair the project does not know", () => {
    rejects({ engineVersion: "15.4" }, /test\/database: engineVersion = "15\.4": not a postgres version the project knows; known: 16, /);
    rejects({ engine: "mysql", engineVersion: "16" }, /engineVersion = "16": not a mysql version the project knows/);
    rejects({ engine: "oracle-ee" as never }, /engine = "oracle-ee": unknown engine; known: mysql, postgres/);
    expect(validateEnvironments([environment({ database: { engine: "mysql", engineVersion: "16.4" } })])).toContainEqual(
      expect.stringMatching(/^dev: database\.engineVersion = "16\.4": not a mysql version the project knows/),
    );
  });

  it("a pinned minor version with automatic minor upgrades (Terraform would try to downgrade)", () => {
    rejects({ engineVersion: "16.9" }, /engineVersion = "16\.9": pins a minor version while autoMinorVersionUpgrade is on/);
    expect(() => build({ engineVersion: "16.9", autoMinorVersionUpgrade: false })).not.toThrow();
    expect(() => build({ engine: "mysql", engineVersion: "8.0.42", autoMinorVersionUpgrade: false })).not.toThrow();
  });

  it("backup retention outside 1 to 35 days", () => {
    for (const days of [0, 36, 1.5])
      rejects({ backupRetentionDays: days }, new RegExp(`backupRetentionDays = ${days}: must be 1 to 35 days`));
    expect(validateEnvironments([environment({ database: { backupRetentionDays: 40 } })])).toContainEqual(
      expect.stringMatching(/^dev: database\.backupRetentionDays = 40: must be 1 to 35 days/),
    );
  });

  it("malformed, short or overlapping windows", () => {
    rejects({ backupWindow: "2:00-3:00" }, /backupWindow = "2:00-3:00": not a daily window hh24:mi-hh24:mi/);
    rejects(
      { maintenanceWindow: "sunday:03:00-sunday:04:00" },
      /maintenanceWindow = "sunday:03:00-sunday:04:00": not a weekly window ddd:hh24:mi-ddd:hh24:mi/,
    );
    rejects({ backupWindow: "02:00-02:20" }, /backupWindow = "02:00-02:20": must last at least 30 minutes/);
    rejects({ maintenanceWindow: "sun:03:30-sun:03:45" }, /maintenanceWindow = "sun:03:30-sun:03:45": must last at least 30 minutes/);
    rejects({ maintenanceWindow: "mon:02:30-mon:03:30" }, /maintenanceWindow = "mon:02:30-mon:03:30": overlaps backupWindow 02:00-03:00/);
    expect(
      validateEnvironments([environment({ database: { backupWindow: "23:30-00:30", maintenanceWindow: "sun:00:00-sun:01:00" } })]),
    ).toContainEqual(
      'dev: database.maintenanceWindow = "sun:00:00-sun:01:00": overlaps backupWindow 23:30-00:30; AWS requires the two windows not to overlap',
    );
    expect(() => build({ backupWindow: "23:30-00:30", maintenanceWindow: "Sun:01:00-Sun:02:00" })).not.toThrow();
  });

  it("storage autoscaling without headroom, or too little gp3 storage", () => {
    rejects({ allocatedStorageGib: 10 }, /allocatedStorageGib = 10: gp3 storage is 20 to 65536 GiB/);
    rejects(
      { maxAllocatedStorageGib: 20 },
      /maxAllocatedStorageGib = 20: must be at least 10 % above allocatedStorageGib \(20\), so at least 22/,
    );
  });

  it("unknown monitoring intervals, Performance Insights retention, class and names", () => {
    rejects({ monitoringIntervalSeconds: 45 }, /monitoringIntervalSeconds = 45: RDS accepts 0, 1, 5, 10, 15, 30, 60 seconds/);
    rejects({ performanceInsightsRetentionDays: 30 }, /performanceInsightsRetentionDays = 30: Performance Insights keeps 7 days/);
    rejects({ instanceClass: "t4g.small" }, /instanceClass = "t4g\.small": not an RDS instance class/);
    rejects({ masterUsername: "admin" }, /masterUsername = "admin": must start with a letter/);
    rejects({ databaseName: "1app" }, /databaseName = "1app": must start with a letter/);
    rejects(
      { appUsername: "dbadmin" },
      /appUsername = "dbadmin": must start with a letter, hold only letters, digits and _, differ from masterUsername/,
    );
    rejects({ appUsername: "rdsproxy" }, /appUsername = "rdsproxy": .*reserved/);
    expect(() => build({ performanceInsightsRetentionDays: 731 })).not.toThrow();
  });

  it("production without deletion protection, a final snapshot, Multi-AZ or 14 days of backups, unless waived", () => {
    const weak = environment(
      { database: { deletionProtection: false, finalSnapshot: false, multiAz: false, backupRetentionDays: 7 } },
      prod,
    );
    const lines = validateEnvironments([weak]);
    expect(lines).toEqual(
      expect.arrayContaining([
        "prod: database.deletionProtection = false: a production environment needs deletionProtection; fix it or add waivers.deletionProtection with a written reason",
        "prod: database.finalSnapshot = false: a production environment needs a final snapshot; fix it or add waivers.deletionProtection with a written reason",
        "prod: database.multiAz = false: a production environment needs multiAz; fix it or add waivers.multiAz with a written reason",
        "prod: database.backupRetentionDays = 7: a production environment needs database backups kept at least 14 days; fix it or add waivers.backupRetention with a written reason",
      ]),
    );
    const waived = environment(
      {
        waivers: {
          deletionProtection: "Recreated from the nightly export during the migration",
          multiAz: "Single-AZ until the reserved instances renew",
          backupRetention: "Compliance keeps seven days only",
        },
      },
      weak,
    );
    expect(validateEnvironments([waived]).filter((l) => l.includes("database."))).toEqual([]);
    expect(validateEnvironments([environment({ waivers: { deletionProtection: "no" } }, weak)])).toContainEqual(
      'prod: waivers.deletionProtection = "no": a waiver needs a written reason of at least 10 characters',
    );
  });
});

describe("Database per environment", () => {
  it.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("%s follows its configuration", (_name, config) => {
    const { text } = synthEnvironment(config);
    const db = config.database;
    expect(text).toHaveResourceWithProperties(DbInstance, {
      identifier: `${config.project}-${config.name}-db`,
      engine: db.engine,
      engine_version: db.engineVersion,
      instance_class: db.instanceClass,
      multi_az: db.multiAz,
      backup_retention_period: db.backupRetentionDays,
      deletion_protection: db.deletionProtection,
      skip_final_snapshot: !db.finalSnapshot,
      ...(db.finalSnapshot
        ? { final_snapshot_identifier: expect.stringMatching(new RegExp(`^${config.project}-${config.name}-db-final-\\$\\{formatdate`)) }
        : {}),
    });
    expect(DATABASE_ENGINE_VERSIONS.postgres).toContain(config.database.engineVersion);
  });
});
