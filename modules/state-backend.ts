// Remote state: the S3 backend every environment stack uses (its own key, encryption, DynamoDB locking
// and S3-native lock files), and the bootstrap resources behind it (state bucket and lock table).
// The bootstrap resources are created once per account; they never hold application data.
import { S3Backend, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { EncryptionKey } from "./encryption-key";
import { policyDocument } from "./policy";
import { assertValid, Problems } from "./validation";

/** Where a stack keeps its state. */
export interface RemoteStateSettings {
  /** S3 bucket holding the state objects. */
  readonly bucket: string;
  /** DynamoDB lock table (string hash key `LockID`). */
  readonly lockTable: string;
  /** Region of the bucket and table. */
  readonly region: string;
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
  problems.check(DYNAMODB_TABLE_NAME.test(props.lockTable), "lockTable", props.lockTable, "not a valid DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)");
}

/**
 * Points `stack` at its own state object in the shared bucket: `key`, server-side encryption,
 * the DynamoDB lock table, and S3-native lock files as well.
 */
export function useRemoteState(stack: TerraformStack, settings: RemoteStateSettings, key: string): S3Backend {
  const backend = new S3Backend(stack, {
    bucket: settings.bucket,
    key,
    region: settings.region,
    encrypt: true,
    dynamodbTable: settings.lockTable,
  });
  // why: Terraform >= 1.10 locks with a lock file in the bucket; cdktf 0.21's S3Backend has no prop for it.
  // Both locks are held, so operators on older tooling still serialise on the DynamoDB table.
  backend.addOverride("use_lockfile", true);
  return backend;
}

export interface StateStorageProps extends RemoteStateSettings {
  readonly accountId: string;
  /** Days a noncurrent (overwritten) state version is kept. @default 90 */
  readonly noncurrentVersionRetentionDays?: number;
}

export function checkStateStorageProps(props: StateStorageProps, problems: Problems): void {
  checkRemoteStateSettings(props, problems);
  const days = props.noncurrentVersionRetentionDays ?? 90;
  problems.check(Number.isInteger(days) && days >= 1, "noncurrentVersionRetentionDays", days, "must be a whole number of days, at least 1");
}

/** The state bucket and lock table. Both are protected from `terraform destroy` by `prevent_destroy`. */
export class StateStorage extends Construct {
  readonly bucket: S3Bucket;
  readonly lockTable: DynamodbTable;
  readonly key: EncryptionKey;

  constructor(scope: Construct, id: string, props: StateStorageProps) {
    super(scope, id);
    assertValid(this, props, checkStateStorageProps);

    this.key = new EncryptionKey(this, "key", {
      description: `Terraform state in ${props.bucket} and lock table ${props.lockTable}`,
      alias: `${props.bucket}-state`,
      accountId: props.accountId,
    });

    this.bucket = new S3Bucket(this, "bucket", {
      bucket: props.bucket,
      lifecycle: { preventDestroy: true },
    });
    new S3BucketVersioningA(this, "versioning", {
      bucket: this.bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket: this.bucket.id,
      rule: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: this.key.arn },
          bucketKeyEnabled: true,
        },
      ],
    });
    const publicAccess = new S3BucketPublicAccessBlock(this, "public-access", {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "ownership", {
      bucket: this.bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    new S3BucketPolicy(this, "policy", {
      bucket: this.bucket.id,
      policy: policyDocument({
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [this.bucket.arn, `${this.bucket.arn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
      dependsOn: [publicAccess],
    });
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket: this.bucket.id,
      rule: [
        {
          id: "expire-noncurrent-state",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentVersionRetentionDays ?? 90 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
      dependsOn: [this.bucket],
    });

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
  }
}
