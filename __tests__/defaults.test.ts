// Each capability's defaults, resolved once (resolve<Capability>Settings): the values the check, the construct
// and the name rules read. Each resolved default must be the one its doc comment's @default promises, so a
// default changed in one place only (the constant or the documentation) fails here.
import { readFileSync } from "fs";
import { join } from "path";
import * as ts from "typescript";
import {
  DEFAULT_NONCURRENT_VERSION_RETENTION_DAYS,
  DEFAULT_STATE_AUDIT_RETENTION_DAYS,
  resolveStateAuditSettings,
  resolveStateStorageProps,
} from "../modules/bootstrap/state-backend";
import { CacheSettings, resolveCacheSettings } from "../modules/cache";
import {
  DatabaseProps,
  DEFAULT_MONITORING_INTERVAL_SECONDS,
  DEFAULT_PERFORMANCE_INSIGHTS_RETENTION_DAYS,
  DEFAULT_SECRET_RECOVERY_WINDOW_DAYS,
  resolveDatabaseProps,
} from "../modules/database";
import { DEFAULT_POSIX_GID, DEFAULT_POSIX_UID, DEFAULT_TRANSITION_TO_IA_DAYS, resolveFileSystemSettings } from "../modules/file-system";
import { DEFAULT_EVALUATION_PERIODS, DEFAULT_PERIOD_SECONDS, resolveMonitoringSettings } from "../modules/monitoring";
import { DEFAULT_KEY_DELETION_WINDOW_DAYS, resolveEncryptionKeyProps } from "../modules/primitives/encryption-key";
import { resolveSecretsSettings } from "../modules/secrets";

/** The `@default` of every property of `interfaceName` in `file` whose @default is a JSON value (60, "app", true, [], {}). */
function documentedDefaults(file: string, interfaceName: string): Record<string, unknown> {
  const path = join(__dirname, "..", file);
  const source = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest, true);
  const found = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === interfaceName);
  if (!found) throw new Error(`${file} declares no interface ${interfaceName}`);
  const defaults: Record<string, unknown> = {};
  for (const member of found.members) {
    if (!ts.isPropertySignature(member) || !ts.isIdentifier(member.name)) continue;
    const tag = ts.getJSDocTags(member).find((t) => t.tagName.text === "default");
    const text = typeof tag?.comment === "string" ? tag.comment.trim() : undefined;
    if (text === undefined) continue;
    try {
      defaults[member.name.text] = JSON.parse(text);
    } catch {
      // Prose ("none", "the group's max capacity"): not a value a resolver fills in.
    }
  }
  return defaults;
}

/** The documented defaults, and the same fields of what the resolver returned for settings that leave them out. */
function compare(
  file: string,
  interfaceName: string,
  resolved: object,
): { documented: Record<string, unknown>; resolved: Record<string, unknown> } {
  const documented = documentedDefaults(file, interfaceName);
  const picked = Object.fromEntries(Object.keys(documented).map((field) => [field, (resolved as Record<string, unknown>)[field]]));
  return { documented, resolved: picked };
}

const database: DatabaseProps = {
  engine: "postgres",
  engineVersion: "16",
  instanceClass: "db.t4g.micro",
  allocatedStorageGib: 20,
  maxAllocatedStorageGib: 100,
  multiAz: false,
  backupRetentionDays: 7,
  backupWindow: "03:00-04:00",
  maintenanceWindow: "sun:05:00-sun:06:00",
  deletionProtection: true,
  finalSnapshot: true,
  namePrefix: "webapp-test",
  region: "eu-west-2",
  accountId: "111111111111",
  vpcId: "vpc-1",
  subnetIds: ["subnet-a", "subnet-b"],
  secretsKeyArn: "arn:aws:kms:eu-west-2:111111111111:key/secrets",
  logsKeyArn: "arn:aws:kms:eu-west-2:111111111111:key/logs",
  logRetentionDays: 30,
};

const cache: CacheSettings = {
  engine: "valkey",
  engineVersion: "8.0",
  nodeType: "cache.t4g.micro",
  nodeCount: 1,
  multiAz: false,
  automaticFailover: false,
  snapshotRetentionDays: 1,
  snapshotWindow: "03:00-04:00",
  maintenanceWindow: "sun:05:00-sun:06:00",
};

describe("each capability's resolved defaults are the documented ones", () => {
  it("database", () => {
    const resolved = resolveDatabaseProps(database);
    expect(resolved).toMatchObject({
      autoMinorVersionUpgrade: true,
      databaseName: "app",
      masterUsername: "dbadmin",
      appUsername: "app_user",
      monitoringIntervalSeconds: DEFAULT_MONITORING_INTERVAL_SECONDS,
      performanceInsightsRetentionDays: DEFAULT_PERFORMANCE_INSIGHTS_RETENTION_DAYS,
      applyImmediately: false,
      secretRecoveryWindowDays: DEFAULT_SECRET_RECOVERY_WINDOW_DAYS,
    });
    const settings = compare("modules/database/index.ts", "DatabaseSettings", resolved);
    expect(Object.keys(settings.documented).sort()).toEqual([
      "appUsername",
      "applyImmediately",
      "autoMinorVersionUpgrade",
      "databaseName",
      "masterUsername",
      "monitoringIntervalSeconds",
      "performanceInsightsRetentionDays",
    ]);
    expect(settings.resolved).toEqual(settings.documented);
    const props = compare("modules/database/index.ts", "DatabaseProps", resolved);
    expect(props.documented).toEqual({ secretRecoveryWindowDays: DEFAULT_SECRET_RECOVERY_WINDOW_DAYS });
    expect(props.resolved).toEqual(props.documented);
  });

  it("database: a value the environment sets is kept", () => {
    expect(resolveDatabaseProps({ ...database, monitoringIntervalSeconds: 0, secretRecoveryWindowDays: 0 })).toMatchObject({
      monitoringIntervalSeconds: 0,
      secretRecoveryWindowDays: 0,
    });
  });

  it("file system", () => {
    const resolved = resolveFileSystemSettings({ throughputMode: "elastic" });
    expect(resolved).toMatchObject({
      transitionToIaDays: DEFAULT_TRANSITION_TO_IA_DAYS,
      posixUid: DEFAULT_POSIX_UID,
      posixGid: DEFAULT_POSIX_GID,
    });
    const { documented, resolved: picked } = compare("modules/file-system/index.ts", "FileSystemSettings", resolved);
    expect(Object.keys(documented).sort()).toEqual([
      "accessPointPath",
      "automaticBackups",
      "posixGid",
      "posixUid",
      "rootDirectoryPermissions",
      "transitionToIaDays",
    ]);
    expect(picked).toEqual(documented);
  });

  it("monitoring", () => {
    const resolved = resolveMonitoringSettings({ topic: true });
    expect(resolved).toMatchObject({ periodSeconds: DEFAULT_PERIOD_SECONDS, evaluationPeriods: DEFAULT_EVALUATION_PERIODS });
    const { documented, resolved: picked } = compare("modules/monitoring/index.ts", "MonitoringSettings", resolved);
    expect(Object.keys(documented).sort()).toEqual(["alarmEmails", "evaluationPeriods", "periodSeconds", "thresholds"]);
    expect(picked).toEqual(documented);
  });

  it("encryption key", () => {
    const resolved = resolveEncryptionKeyProps({ description: "test", alias: "webapp-test", accountId: "111111111111" });
    expect(resolved.deletionWindowDays).toBe(DEFAULT_KEY_DELETION_WINDOW_DAYS);
    const { documented, resolved: picked } = compare("modules/primitives/encryption-key.ts", "EncryptionKeyProps", resolved);
    expect(Object.keys(documented).sort()).toEqual(["deletionWindowDays", "deniedPrincipalArns", "principals", "services"]);
    expect(picked).toEqual(documented);
  });

  it("secrets: the key's deletion window is the key's own default", () => {
    const resolved = resolveSecretsSettings({ recoveryWindowDays: 7 });
    expect(resolved.keyDeletionWindowDays).toBe(DEFAULT_KEY_DELETION_WINDOW_DAYS);
    const { documented, resolved: picked } = compare("modules/secrets/index.ts", "SecretsSettings", resolved);
    expect(documented).toEqual({ keyDeletionWindowDays: DEFAULT_KEY_DELETION_WINDOW_DAYS });
    expect(picked).toEqual(documented);
  });

  it("state storage and its audit trail", () => {
    const resolved = resolveStateStorageProps({});
    expect(resolved).toEqual({
      noncurrentVersionRetentionDays: DEFAULT_NONCURRENT_VERSION_RETENTION_DAYS,
      audit: { enabled: true, retentionDays: DEFAULT_STATE_AUDIT_RETENTION_DAYS },
      objectScopes: [],
      keyDeniedPrincipalArns: [],
    });
    const props = compare("modules/bootstrap/state-backend.ts", "StateStorageProps", resolved);
    expect(Object.keys(props.documented).sort()).toEqual(["keyDeniedPrincipalArns", "noncurrentVersionRetentionDays", "objectScopes"]);
    expect(props.resolved).toEqual(props.documented);
    const audit = compare("modules/bootstrap/state-backend.ts", "StateAuditSettings", resolveStateAuditSettings(undefined));
    expect(Object.keys(audit.documented).sort()).toEqual(["enabled", "retentionDays"]);
    expect(audit.resolved).toEqual(audit.documented);
    expect(resolveStateAuditSettings({ enabled: false })).toEqual({ enabled: false, retentionDays: DEFAULT_STATE_AUDIT_RETENTION_DAYS });
  });

  it("cache", () => {
    const { documented, resolved } = compare("modules/cache/index.ts", "CacheSettings", resolveCacheSettings(cache));
    expect(Object.keys(documented).sort()).toEqual(["applyImmediately", "parameters"]);
    expect(resolved).toEqual(documented);
  });
});
