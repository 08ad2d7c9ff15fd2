// Remote state: the S3 backend every environment stack uses (its own key, SSE-KMS with the state key,
// DynamoDB locking and S3-native lock files), and the bootstrap resources behind it (state bucket, lock
// table, state key, and optionally a CloudTrail trail of every state object read and write).
// The bootstrap resources are created once per account; they never hold application data.
import { S3Backend, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { Cloudtrail } from "@cdktf/provider-aws/lib/cloudtrail";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { formatArn } from "../primitives/arn";
import { EncryptionKey } from "../primitives/encryption-key";
import { Statement } from "../primitives/policy";
import { PrivateBucket } from "../primitives/private-bucket";
import { assertValid, Problems } from "../primitives/validation";

/** Where a stack keeps its state. */
export interface RemoteStateSettings {
  /** S3 bucket holding the state objects. */
  readonly bucket: string;
  /** DynamoDB lock table (string hash key `LockID`). */
  readonly lockTable: string;
  /** Region of the bucket and table. */
  readonly region: string;
}

/** Alias (without `alias/`) of the KMS key that encrypts the state in `bucket`; the bootstrap stack creates it. */
export function stateKeyAlias(bucket: string): string {
  return `${bucket}-state`;
}

/**
 * The state key's alias ARN. Environment stacks name the key by it (no cross-stack reference); the S3
 * backend accepts an alias ARN as `kms_key_id` (Terraform >= 1.11: every stack requires it).
 */
export function stateKeyAliasArn(settings: RemoteStateSettings, stateAccountId: string): string {
  return formatArn({
    service: "kms",
    region: settings.region,
    account: stateAccountId,
    resource: `alias/${stateKeyAlias(settings.bucket)}`,
  });
}

export const S3_BUCKET_NAME = /^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
export const DYNAMODB_TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

export function checkRemoteStateSettings(props: RemoteStateSettings, problems: Problems): void {
  problems.check(
    S3_BUCKET_NAME.test(props.bucket) && !props.bucket.includes(".."),
    "bucket",
    props.bucket,
    "not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)",
  );
  problems.check(
    DYNAMODB_TABLE_NAME.test(props.lockTable),
    "lockTable",
    props.lockTable,
    "not a valid DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)",
  );
}

/**
 * Points `stack` at its own state object in the shared bucket: `key`, SSE-KMS with the state key of the
 * bucket's account `stateAccountId` (every state and lock-file write names it, so the bucket policy's
 * KMS-only rule holds), the DynamoDB lock table, and S3-native lock files as well.
 */
export function useRemoteState(stack: TerraformStack, settings: RemoteStateSettings, key: string, stateAccountId: string): S3Backend {
  const backend = new S3Backend(stack, {
    bucket: settings.bucket,
    key,
    region: settings.region,
    encrypt: true,
    kmsKeyId: stateKeyAliasArn(settings, stateAccountId),
    dynamodbTable: settings.lockTable,
  });
  // why: Terraform >= 1.10 locks with a lock file in the bucket; cdktf 0.21's S3Backend has no prop for it.
  // Both locks are held, so operators on older tooling still serialise on the DynamoDB table.
  backend.addOverride("use_lockfile", true);
  return backend;
}

/** A CloudTrail trail of the data events (reads and writes) on the state objects. */
export interface StateAuditSettings {
  /** Record every state object read and write. @default true */
  readonly enabled?: boolean;
  /** Days the trail's log files are kept. @default 365 */
  readonly retentionDays?: number;
}

export interface StateStorageProps extends RemoteStateSettings {
  readonly accountId: string;
  /** Days a noncurrent (overwritten) state version is kept. @default 90 */
  readonly noncurrentVersionRetentionDays?: number;
  /** The state read audit trail. @default enabled, 365 days */
  readonly audit?: StateAuditSettings;
  /**
   * Principals limited to one state object each (an environment's CI roles and the roles its stack
   * creates): the bucket policy denies them every other object, whatever their own policies say. @default []
   */
  readonly objectScopes?: readonly StateObjectScope[];
  /** Principals (ARN patterns) the state key's policy refuses every use of (roles that never need state). @default [] */
  readonly keyDeniedPrincipalArns?: readonly string[];
}

export interface StateObjectScope {
  /** IAM principal ARNs or ARN patterns (they need not exist yet: the policy matches `aws:PrincipalArn`). */
  readonly principalArns: readonly string[];
  /** The one state object key they may use (its lock file included). */
  readonly key: string;
}

/** Name of the bucket that receives the audit trail of `bucket`. */
export function auditBucketName(bucket: string): string {
  return `${bucket}-audit`;
}

export const DEFAULT_NONCURRENT_VERSION_RETENTION_DAYS = 90;
export const DEFAULT_STATE_AUDIT_ENABLED = true;
export const DEFAULT_STATE_AUDIT_RETENTION_DAYS = 365;

/** The audit trail's settings with every default filled in. */
export interface ResolvedStateAuditSettings {
  readonly enabled: boolean;
  readonly retentionDays: number;
}

/** The audit trail's defaults, written once: the checks and the construct read what this returns. */
export function resolveStateAuditSettings(audit: StateAuditSettings | undefined): ResolvedStateAuditSettings {
  return {
    enabled: audit?.enabled ?? DEFAULT_STATE_AUDIT_ENABLED,
    retentionDays: audit?.retentionDays ?? DEFAULT_STATE_AUDIT_RETENTION_DAYS,
  };
}

/** The state storage's props with every default filled in. */
export interface ResolvedStateStorageProps extends StateStorageProps {
  readonly noncurrentVersionRetentionDays: number;
  readonly audit: ResolvedStateAuditSettings;
  readonly objectScopes: readonly StateObjectScope[];
  readonly keyDeniedPrincipalArns: readonly string[];
}

type StateStorageDefaults = "noncurrentVersionRetentionDays" | "audit" | "objectScopes" | "keyDeniedPrincipalArns";

/** The props' defaults, written once: the check, the construct and the bootstrap stack's check read what this returns. */
export function resolveStateStorageProps<P extends Pick<StateStorageProps, StateStorageDefaults>>(
  props: P,
): P & Pick<ResolvedStateStorageProps, StateStorageDefaults> {
  return {
    ...props,
    noncurrentVersionRetentionDays: props.noncurrentVersionRetentionDays ?? DEFAULT_NONCURRENT_VERSION_RETENTION_DAYS,
    audit: resolveStateAuditSettings(props.audit),
    objectScopes: props.objectScopes ?? [],
    keyDeniedPrincipalArns: props.keyDeniedPrincipalArns ?? [],
  };
}

export function checkStateAuditSettings(bucket: string, settings: StateAuditSettings | undefined, problems: Problems): void {
  const audit = resolveStateAuditSettings(settings);
  if (!audit.enabled) return;
  const days = audit.retentionDays;
  problems.check(Number.isInteger(days) && days >= 1, "retentionDays", days, "must be a whole number of days, at least 1");
  const name = auditBucketName(bucket);
  problems.check(
    S3_BUCKET_NAME.test(name),
    "enabled",
    true,
    `the audit bucket would be ${name}, not a valid S3 bucket name (at most 63 characters): shorten the state bucket's name`,
  );
}

export function checkStateStorageProps(props: StateStorageProps, problems: Problems): void {
  checkRemoteStateSettings(props, problems);
  const days = resolveStateStorageProps(props).noncurrentVersionRetentionDays;
  problems.check(Number.isInteger(days) && days >= 1, "noncurrentVersionRetentionDays", days, "must be a whole number of days, at least 1");
  checkStateAuditSettings(props.bucket, props.audit, problems.at("audit"));
}

/** The state bucket and lock table. Both are protected from `terraform destroy` by `prevent_destroy`. */
export class StateStorage extends Construct {
  readonly bucket: S3Bucket;
  readonly lockTable: DynamodbTable;
  readonly key: EncryptionKey;
  /** The trail of state object reads and writes, where enabled. */
  readonly trail?: Cloudtrail;
  /** The bucket that receives the trail, where enabled. */
  readonly auditBucketArn?: string;

  constructor(scope: Construct, id: string, settings: StateStorageProps) {
    super(scope, id);
    assertValid(this, settings, checkStateStorageProps);
    const props = resolveStateStorageProps(settings);
    const auditEnabled = props.audit.enabled;
    const trailName = `${props.bucket}-reads`;
    const trailArn = formatArn({ service: "cloudtrail", region: props.region, account: props.accountId, resource: `trail/${trailName}` });

    this.key = new EncryptionKey(this, "key", {
      description: `Terraform state in ${props.bucket} and lock table ${props.lockTable}`,
      alias: stateKeyAlias(props.bucket),
      accountId: props.accountId,
      deniedPrincipalArns: props.keyDeniedPrincipalArns,
      // CloudTrail encrypts the audit trail's log files with this key too (SSE-KMS, its own trail only).
      services: auditEnabled
        ? [
            {
              service: "cloudtrail.amazonaws.com",
              actions: ["kms:GenerateDataKey*"],
              conditions: {
                StringLike: {
                  "kms:EncryptionContext:aws:cloudtrail:arn": formatArn({
                    service: "cloudtrail",
                    region: "*",
                    account: props.accountId,
                    resource: "trail/*",
                  }),
                },
                StringEquals: { "aws:SourceArn": trailArn },
              },
            },
            {
              service: "cloudtrail.amazonaws.com",
              actions: ["kms:DescribeKey"],
              conditions: { StringEquals: { "aws:SourceArn": trailArn } },
            },
          ]
        : [],
    });

    this.bucket = new PrivateBucket(this, "bucket", {
      bucketName: props.bucket,
      preventDestroy: true,
      encryption: { kmsKeyArn: this.key.arn },
      // The backend names the state key on every state and lock-file write.
      denyWritesNotEncryptedWithKms: true,
      statements: (bucket) =>
        props.objectScopes.map((scope, i) => ({
          Sid: `OneStateObjectOnly${i}`,
          Effect: "Deny" as const,
          Principal: "*" as const,
          Action: "s3:*Object*",
          NotResource: [`${bucket.arn}/${scope.key}`, `${bucket.arn}/${scope.key}.tflock`],
          Condition: { ArnLike: { "aws:PrincipalArn": [...scope.principalArns] } },
        })),
      policyWaitsForOwnership: false,
      lifecycleRules: [
        {
          id: "expire-noncurrent-state",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentVersionRetentionDays }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
      lifecycleWaitsFor: "bucket",
    }).bucket;

    this.lockTable = new DynamodbTable(this, "lock-table", {
      name: props.lockTable,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "LockID",
      attribute: [{ name: "LockID", type: "S" }],
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true, kmsKeyArn: this.key.arn },
      deletionProtectionEnabled: true,
      lifecycle: { preventDestroy: true },
    });

    if (auditEnabled) {
      this.auditBucketArn = formatArn({ service: "s3", resource: auditBucketName(props.bucket) });
      this.trail = this.auditTrail(props, trailName, trailArn);
    }
  }

  /** A trail of the state objects' data events (GetObject included) into its own KMS-encrypted bucket. */
  private auditTrail(props: ResolvedStateStorageProps, trailName: string, trailArn: string): Cloudtrail {
    const { bucket: logs, policy } = new PrivateBucket(this, "audit-bucket", {
      bucketName: auditBucketName(props.bucket),
      encryption: { kmsKeyArn: this.key.arn },
      statements: (bucket): Statement[] => [
        {
          Sid: "TrailChecksTheBucket",
          Effect: "Allow",
          Principal: { Service: "cloudtrail.amazonaws.com" },
          Action: "s3:GetBucketAcl",
          Resource: bucket.arn,
          Condition: { StringEquals: { "aws:SourceArn": trailArn } },
        },
        {
          Sid: "TrailWritesItsLogs",
          Effect: "Allow",
          Principal: { Service: "cloudtrail.amazonaws.com" },
          Action: "s3:PutObject",
          Resource: `${bucket.arn}/AWSLogs/${props.accountId}/*`,
          Condition: { StringEquals: { "aws:SourceArn": trailArn, "s3:x-amz-acl": "bucket-owner-full-control" } },
        },
      ],
      policyWaitsForOwnership: false,
      lifecycleRules: [
        {
          id: "expire-audit-logs",
          status: "Enabled",
          filter: [{ prefix: "" }],
          expiration: [{ days: props.audit.retentionDays }],
          noncurrentVersionExpiration: [{ noncurrentDays: 30 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
      lifecycleWaitsFor: "bucket",
    });
    return new Cloudtrail(this, "audit-trail", {
      name: trailName,
      s3BucketName: logs.bucket,
      kmsKeyId: this.key.arn,
      enableLogFileValidation: true,
      // Data events of one bucket only: multi-region costs nothing more and records requests from any region.
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      advancedEventSelector: [
        {
          name: "State object reads and writes",
          fieldSelector: [
            { field: "eventCategory", equalTo: ["Data"] },
            { field: "resources.type", equalTo: ["AWS::S3::Object"] },
            { field: "resources.ARN", startsWith: [`${this.bucket.arn}/`] },
          ],
        },
      ],
      dependsOn: [policy],
    });
  }
}
