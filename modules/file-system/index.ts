// Shared storage for uploads: an EFS file system encrypted with its own KMS key, a mount target per zone in
// the private data subnets, its own security group (NFS 2049), one access point for uploads, automatic
// backups, and a file-system policy that refuses plain-text access and lets client roles in only through
// the access point. Opens no port and names no client role by itself: the composing stack does both.
import { Lazy } from "cdktf";
import { Construct } from "constructs";
import { EfsAccessPoint } from "@cdktf/provider-aws/lib/efs-access-point";
import { EfsBackupPolicy } from "@cdktf/provider-aws/lib/efs-backup-policy";
import { EfsFileSystem } from "@cdktf/provider-aws/lib/efs-file-system";
import { EfsFileSystemPolicy } from "@cdktf/provider-aws/lib/efs-file-system-policy";
import { EfsMountTarget } from "@cdktf/provider-aws/lib/efs-mount-target";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Connectable, Connections, ownSecurityGroup } from "../primitives/connections";
import { EncryptionKey } from "../primitives/encryption-key";
import { policyDocument, Statement } from "../primitives/policy";
import { assertValid, Problems } from "../primitives/validation";

export const NFS_PORT = 2049;

export type ThroughputMode = "bursting" | "elastic" | "provisioned";
export const THROUGHPUT_MODES: readonly ThroughputMode[] = ["bursting", "elastic", "provisioned"];

/** Days without access after which EFS moves a file to Infrequent Access. */
export const TRANSITION_TO_IA_DAYS: readonly number[] = [1, 7, 14, 30, 60, 90, 180, 270, 365];

/** The file-system settings an environment chooses. */
export interface FileSystemSettings {
  /** `bursting` (scales with size), `elastic` (pay per use, scales with load) or `provisioned`. */
  readonly throughputMode: ThroughputMode;
  /** Provisioned throughput, MiB/s (1 to 3414); only with `throughputMode: "provisioned"`. @default none */
  readonly provisionedThroughputMibps?: number;
  /** Days without access before a file moves to Infrequent Access (one of `TRANSITION_TO_IA_DAYS`). @default 30 */
  readonly transitionToIaDays?: number;
  /** Directory the access point exposes as the file system's root, created on first use. @default "/uploads" */
  readonly accessPointPath?: string;
  /** POSIX user id every client acts as through the access point (the app user on the instances). @default 1001 */
  readonly posixUid?: number;
  /** POSIX group id every client acts as through the access point. @default 1001 */
  readonly posixGid?: number;
  /** Octal permissions of the access point's root directory when EFS creates it. @default "0750" */
  readonly rootDirectoryPermissions?: string;
  /**
   * EFS automatic backups (AWS Backup, daily, kept 35 days in the account's default vault). Their recovery
   * points outlive the file system: after a teardown they keep billing until they expire or are deleted
   * (docs/runbooks.md, "Tearing down dev cleanly"). @default true
   */
  readonly automaticBackups?: boolean;
}

export interface FileSystemProps extends FileSystemSettings {
  /** Prefix of every resource name, for example `webapp-dev`. */
  readonly namePrefix: string;
  readonly accountId: string;
  readonly vpcId: string;
  /** Private data subnets, one per zone: a mount target goes in each. */
  readonly subnetIds: readonly string[];
  /** Roles allowed to mount and write through the access point. More can be added with `allowClient`. @default [] */
  readonly clientRoleArns?: readonly string[];
}

export const DEFAULT_TRANSITION_TO_IA_DAYS = 30;
export const DEFAULT_ACCESS_POINT_PATH = "/uploads";
export const DEFAULT_POSIX_UID = 1001;
export const DEFAULT_POSIX_GID = 1001;
export const DEFAULT_ROOT_DIRECTORY_PERMISSIONS = "0750";
export const DEFAULT_AUTOMATIC_BACKUPS = true;

/** The file-system settings with every default filled in. */
export interface ResolvedFileSystemSettings extends FileSystemSettings {
  readonly transitionToIaDays: number;
  readonly accessPointPath: string;
  readonly posixUid: number;
  readonly posixGid: number;
  readonly rootDirectoryPermissions: string;
  readonly automaticBackups: boolean;
}

/** The settings' defaults, written once: the check and the construct both read what this returns. */
export function resolveFileSystemSettings<S extends FileSystemSettings>(settings: S): S & ResolvedFileSystemSettings {
  return {
    ...settings,
    transitionToIaDays: settings.transitionToIaDays ?? DEFAULT_TRANSITION_TO_IA_DAYS,
    accessPointPath: settings.accessPointPath ?? DEFAULT_ACCESS_POINT_PATH,
    posixUid: settings.posixUid ?? DEFAULT_POSIX_UID,
    posixGid: settings.posixGid ?? DEFAULT_POSIX_GID,
    rootDirectoryPermissions: settings.rootDirectoryPermissions ?? DEFAULT_ROOT_DIRECTORY_PERMISSIONS,
    automaticBackups: settings.automaticBackups ?? DEFAULT_AUTOMATIC_BACKUPS,
  };
}

const MAX_ID = 2 ** 32 - 2;

/** One line per problem of an environment's file-system settings, checked with their defaults resolved. */
export function checkFileSystemSettings(settings: FileSystemSettings, problems: Problems): void {
  const props = resolveFileSystemSettings(settings);
  problems.check(
    THROUGHPUT_MODES.includes(props.throughputMode),
    "throughputMode",
    props.throughputMode,
    `must be one of ${THROUGHPUT_MODES.join(", ")}`,
  );
  const provisioned = props.provisionedThroughputMibps;
  if (props.throughputMode === "provisioned") {
    problems.check(
      provisioned !== undefined && provisioned >= 1 && provisioned <= 3414,
      "provisionedThroughputMibps",
      provisioned,
      'throughputMode "provisioned" needs 1 to 3414 MiB/s',
    );
  } else {
    problems.check(
      provisioned === undefined,
      "provisionedThroughputMibps",
      provisioned,
      `applies only to throughputMode "provisioned", not "${props.throughputMode}"`,
    );
  }
  const ia = props.transitionToIaDays;
  problems.check(TRANSITION_TO_IA_DAYS.includes(ia), "transitionToIaDays", ia, `EFS accepts ${TRANSITION_TO_IA_DAYS.join(", ")} days`);
  const path = props.accessPointPath;
  problems.check(
    /^(\/[A-Za-z0-9._-]+)+$/.test(path) && path.length <= 100,
    "accessPointPath",
    path,
    "must be an absolute path below / of letters, digits, . _ and - (at most 100 characters)",
  );
  for (const [field, id] of [
    ["posixUid", props.posixUid],
    ["posixGid", props.posixGid],
  ] as const) {
    problems.check(
      Number.isInteger(id) && id >= 1 && id <= MAX_ID,
      field,
      id,
      `must be a POSIX id from 1 to ${MAX_ID} (0 would make every client root)`,
    );
  }
  const mode = props.rootDirectoryPermissions;
  problems.check(/^0?[0-7]{3}$/.test(mode), "rootDirectoryPermissions", mode, 'must be octal permissions, for example "0750"');
}

/** The file system as the composing stack and the compute layer consume it. */
export interface FileSystemRefs {
  readonly fileSystemId: string;
  readonly fileSystemArn: string;
  readonly accessPointId: string;
  readonly accessPointArn: string;
  /** The POSIX identity every client acts as through the access point. */
  readonly posixUid: number;
  readonly posixGid: number;
}

export class FileSystem extends Construct implements Connectable, FileSystemRefs {
  readonly connections: Connections;
  readonly fileSystem: EfsFileSystem;
  readonly accessPoint: EfsAccessPoint;
  readonly key: EncryptionKey;
  readonly securityGroup: SecurityGroup;
  readonly fileSystemId: string;
  readonly fileSystemArn: string;
  readonly accessPointId: string;
  readonly accessPointArn: string;
  readonly posixUid: number;
  readonly posixGid: number;
  private readonly clientRoleArns: string[];

  constructor(scope: Construct, id: string, settings: FileSystemProps) {
    super(scope, id);
    assertValid(this, settings, checkFileSystemSettings);
    const props = resolveFileSystemSettings(settings);
    const name = (suffix: string) => `${props.namePrefix}-${suffix}`;
    this.posixUid = props.posixUid;
    this.posixGid = props.posixGid;
    this.clientRoleArns = [...(props.clientRoleArns ?? [])];

    this.key = new EncryptionKey(this, "key", {
      description: `${props.namePrefix}: uploads file system`,
      alias: name("uploads"),
      accountId: props.accountId,
    });

    this.fileSystem = new EfsFileSystem(this, "fs", {
      creationToken: name("uploads"),
      encrypted: true,
      kmsKeyId: this.key.arn,
      performanceMode: "generalPurpose",
      throughputMode: props.throughputMode,
      provisionedThroughputInMibps: props.provisionedThroughputMibps,
      lifecyclePolicy: [
        { transitionToIa: `AFTER_${props.transitionToIaDays}_DAY${props.transitionToIaDays === 1 ? "" : "S"}` },
        { transitionToPrimaryStorageClass: "AFTER_1_ACCESS" },
      ],
      tags: { Name: name("uploads") },
    });
    this.fileSystemId = this.fileSystem.id;
    this.fileSystemArn = this.fileSystem.arn;

    new EfsBackupPolicy(this, "backup", {
      fileSystemId: this.fileSystem.id,
      backupPolicy: { status: props.automaticBackups ? "ENABLED" : "DISABLED" },
    });

    ({ securityGroup: this.securityGroup, connections: this.connections } = ownSecurityGroup(this, {
      name: "efs",
      groupName: name("efs"),
      description: `NFS on ${NFS_PORT}: only from the groups allowed in`,
      vpcId: props.vpcId,
      defaultPort: NFS_PORT,
      revokeRulesOnDelete: true,
    }));

    props.subnetIds.forEach((subnetId, i) => {
      new EfsMountTarget(this, `mount-${i}`, {
        fileSystemId: this.fileSystem.id,
        subnetId,
        securityGroups: [this.securityGroup.id],
      });
    });

    const mode = props.rootDirectoryPermissions;
    this.accessPoint = new EfsAccessPoint(this, "uploads", {
      fileSystemId: this.fileSystem.id,
      posixUser: { uid: this.posixUid, gid: this.posixGid },
      rootDirectory: {
        path: props.accessPointPath,
        creationInfo: { ownerUid: this.posixUid, ownerGid: this.posixGid, permissions: mode.length === 3 ? `0${mode}` : mode },
      },
      tags: { Name: name("uploads") },
    });
    this.accessPointId = this.accessPoint.id;
    this.accessPointArn = this.accessPoint.arn;

    // Rendered at synth time, so roles added with allowClient() after construction are included.
    new EfsFileSystemPolicy(this, "policy", {
      fileSystemId: this.fileSystem.id,
      bypassPolicyLockoutSafetyCheck: false,
      policy: Lazy.stringValue({ produce: () => policyDocument(...this.resourcePolicyStatements()) }),
    });
  }

  /** Lets `roleArn` mount and write, only through the access point and only over TLS. */
  allowClient(roleArn: string): void {
    this.clientRoleArns.push(roleArn);
  }

  /** Identity-policy statements for a client role: mount and write exactly this file system through its access point. */
  grantClient(): Statement[] {
    return [
      {
        Sid: "UploadsMountThroughAccessPoint",
        Effect: "Allow",
        Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        Resource: this.fileSystemArn,
        Condition: { StringEquals: { "elasticfilesystem:AccessPointArn": this.accessPointArn } },
      },
    ];
  }

  private resourcePolicyStatements(): Statement[] {
    const statements: Statement[] = [
      {
        Sid: "DenyWithoutTls",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "*",
        Resource: this.fileSystemArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ];
    if (this.clientRoleArns.length > 0) {
      statements.push({
        Sid: "ClientsThroughAccessPoint",
        Effect: "Allow",
        Principal: { AWS: [...this.clientRoleArns] },
        Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        Resource: this.fileSystemArn,
        Condition: {
          StringEquals: { "elasticfilesystem:AccessPointArn": this.accessPointArn },
          Bool: { "aws:SecureTransport": "true" },
        },
      });
    }
    return statements;
  }
}
