import { EfsAccessPoint } from "@cdktf/provider-aws/lib/efs-access-point";
import { EfsBackupPolicy } from "@cdktf/provider-aws/lib/efs-backup-policy";
import { EfsFileSystem } from "@cdktf/provider-aws/lib/efs-file-system";
import { EfsMountTarget } from "@cdktf/provider-aws/lib/efs-mount-target";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { FileSystem, FileSystemProps } from "../modules/file-system";
import { policyDocument } from "../modules/primitives/policy";
import { ENVIRONMENTS } from "../environments";
import { validateEnvironments } from "../environments/schema/validate";
import { environment } from "./support/fixtures";
import { policy, resourceList, synthConstruct, synthEnvironment } from "./support/synth";

const ROLE = "arn:aws:iam::111111111111:role/webapp-test-app";
const props: FileSystemProps = {
  namePrefix: "webapp-test",
  accountId: "111111111111",
  vpcId: "vpc-1",
  subnetIds: ["subnet-a", "subnet-b", "subnet-c"],
  throughputMode: "bursting",
};

const build = (overrides: Partial<FileSystemProps> = {}, client?: string) =>
  synthConstruct((scope) => {
    const fs = new FileSystem(scope, "file-system", { ...props, ...overrides });
    if (client) fs.allowClient(client);
    new IamPolicy(scope, "grant", { name: "grant", policy: policyDocument(...fs.grantClient()) });
  });

const withClient = build({}, ROLE);
const alone = build({
  throughputMode: "provisioned",
  provisionedThroughputMibps: 64,
  transitionToIaDays: 1,
  posixUid: 2000,
  posixGid: 2001,
  accessPointPath: "/srv/files",
  rootDirectoryPermissions: "770",
});
const fsPolicy = (json: typeof withClient.json) => policy(resourceList(json, "aws_efs_file_system_policy")[0]!.policy).Statement;

describe("FileSystem", () => {
  it("is encrypted with its own rotating key, with lifecycle to IA and back, and backups on", () => {
    expect(withClient.text).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true });
    expect(withClient.text).toHaveResourceWithProperties(EfsFileSystem, {
      encrypted: true,
      kms_key_id: expect.stringMatching(/^\$\{aws_kms_key\.file-system_key_\w+\.arn\}$/),
      throughput_mode: "bursting",
      lifecycle_policy: [{ transition_to_ia: "AFTER_30_DAYS" }, { transition_to_primary_storage_class: "AFTER_1_ACCESS" }],
    });
    expect(alone.text).toHaveResourceWithProperties(EfsFileSystem, {
      throughput_mode: "provisioned",
      provisioned_throughput_in_mibps: 64,
      lifecycle_policy: [{ transition_to_ia: "AFTER_1_DAY" }, { transition_to_primary_storage_class: "AFTER_1_ACCESS" }],
    });
    expect(withClient.text).toHaveResourceWithProperties(EfsBackupPolicy, { backup_policy: { status: "ENABLED" } });
    expect(synthConstruct((scope) => new FileSystem(scope, "fs", { ...props, automaticBackups: false })).text).toHaveResourceWithProperties(
      EfsBackupPolicy,
      {
        backup_policy: { status: "DISABLED" },
      },
    );
  });

  it("has a mount target per data subnet behind its own security group", () => {
    const targets = resourceList(withClient.json, "aws_efs_mount_target");
    expect(targets.map((t) => t.subnet_id)).toEqual(["subnet-a", "subnet-b", "subnet-c"]);
    expect(withClient.text).toHaveResourceWithProperties(EfsMountTarget, {
      security_groups: [expect.stringMatching(/^\$\{aws_security_group\.file-system_sg_\w+\.id\}$/)],
    });
    expect(withClient.text).toHaveResourceWithProperties(SecurityGroup, { name: "webapp-test-efs", vpc_id: "vpc-1" });
  });

  it("exposes an uploads access point with a fixed POSIX identity and a created root directory", () => {
    expect(withClient.text).toHaveResourceWithProperties(EfsAccessPoint, {
      posix_user: { uid: 1001, gid: 1001 },
      root_directory: { path: "/uploads", creation_info: { owner_uid: 1001, owner_gid: 1001, permissions: "0750" } },
    });
    expect(alone.text).toHaveResourceWithProperties(EfsAccessPoint, {
      posix_user: { uid: 2000, gid: 2001 },
      root_directory: { path: "/srv/files", creation_info: { owner_uid: 2000, owner_gid: 2001, permissions: "0770" } },
    });
  });

  it("denies access without TLS, and lets client roles in only through the access point", () => {
    const fsArn = expect.stringMatching(/^\$\{aws_efs_file_system\.file-system_fs_\w+\.arn\}$/);
    const apArn = expect.stringMatching(/^\$\{aws_efs_access_point\.file-system_uploads_\w+\.arn\}$/);
    expect(fsPolicy(withClient.json)).toEqual([
      {
        Sid: "DenyWithoutTls",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "*",
        Resource: fsArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      {
        Sid: "ClientsThroughAccessPoint",
        Effect: "Allow",
        Principal: { AWS: [ROLE] },
        Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        Resource: fsArn,
        Condition: { StringEquals: { "elasticfilesystem:AccessPointArn": apArn }, Bool: { "aws:SecureTransport": "true" } },
      },
    ]);
    expect(fsPolicy(alone.json).map((s: { Sid: string }) => s.Sid)).toEqual(["DenyWithoutTls"]);
    expect(resourceList(withClient.json, "aws_efs_file_system_policy")[0]).toMatchObject({ bypass_policy_lockout_safety_check: false });
  });

  it("grants a client role mount and write on exactly this file system through its access point", () => {
    expect(policy(resourceList(withClient.json, "aws_iam_policy")[0]!.policy).Statement).toEqual([
      {
        Sid: "UploadsMountThroughAccessPoint",
        Effect: "Allow",
        Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        Resource: expect.stringMatching(/^\$\{aws_efs_file_system\.file-system_fs_\w+\.arn\}$/),
        Condition: { StringEquals: { "elasticfilesystem:AccessPointArn": expect.stringMatching(/^\$\{aws_efs_access_point\./) } },
      },
    ]);
  });

  it("takes client roles as a prop too, and exposes NFS as its default port", () => {
    const { json } = synthConstruct((scope) => {
      const fs = new FileSystem(scope, "file-system", { ...props, clientRoleArns: [ROLE] });
      expect(fs.connections.defaultPort).toBe(2049);
      expect([fs.posixUid, fs.posixGid]).toEqual([1001, 1001]);
    });
    expect(fsPolicy(json)[1].Principal).toEqual({ AWS: [ROLE] });
  });
});

describe("FileSystem rejects", () => {
  const rejects = (overrides: Partial<FileSystemProps>, message: RegExp) => expect(() => build(overrides)).toThrow(message);

  it("throughput settings that do not fit together", () => {
    rejects(
      { throughputMode: "provisioned" },
      /test\/file-system: provisionedThroughputMibps = \(unset\): throughputMode "provisioned" needs 1 to 3414 MiB\/s/,
    );
    rejects(
      { provisionedThroughputMibps: 10 },
      /provisionedThroughputMibps = 10: applies only to throughputMode "provisioned", not "bursting"/,
    );
    rejects({ throughputMode: "max" as never }, /throughputMode = "max": must be one of bursting, elastic, provisioned/);
    expect(validateEnvironments([environment({ fileSystem: { throughputMode: "provisioned" } })])).toContainEqual(
      expect.stringMatching(/^dev: fileSystem\.provisionedThroughputMibps = \(unset\): throughputMode "provisioned" needs/),
    );
  });

  it("lifecycle days EFS does not offer, root POSIX ids, bad paths and permissions", () => {
    rejects({ transitionToIaDays: 45 }, /transitionToIaDays = 45: EFS accepts 1, 7, 14, 30, 60, 90, 180, 270, 365 days/);
    rejects({ posixUid: 0 }, /posixUid = 0: must be a POSIX id from 1/);
    rejects({ posixGid: -1 }, /posixGid = -1: must be a POSIX id from 1/);
    rejects({ accessPointPath: "uploads" }, /accessPointPath = "uploads": must be an absolute path/);
    rejects({ accessPointPath: "/" }, /accessPointPath = "\/": must be an absolute path/);
    rejects({ rootDirectoryPermissions: "rwx" }, /rootDirectoryPermissions = "rwx": must be octal permissions/);
  });
});

describe("FileSystem per environment", () => {
  it.each(ENVIRONMENTS.map((e) => [e.name, e, e.fileSystem.throughputMode, e.network.availabilityZones.length] as const))(
    "%s uses its throughput mode and one mount target per zone",
    (_name, config, mode, zones) => {
      const { text, json } = synthEnvironment(config);
      expect(text).toHaveResourceWithProperties(EfsFileSystem, { throughput_mode: mode, encrypted: true });
      expect(resourceList(json, "aws_efs_mount_target")).toHaveLength(zones);
      const dataSubnets = resourceList(json, "aws_efs_mount_target").map((t) => t.subnet_id as string);
      expect(dataSubnets.every((s) => /aws_subnet\.network_data-/.test(s))).toBe(true);
    },
  );
});
