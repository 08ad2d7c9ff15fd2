// The boot bundle: the boot script with its settings and helper scripts, gzipped, as one object in a private
// per-environment bucket (SSE-KMS with its own key, versioned, TLS only, public access blocked, objects
// owned by the bucket). Its key carries the content's SHA-256, which the user data's loader checks, so a new
// bundle is a new launch template version. Old versions stay readable for an instance refresh's rollback.
import { createHash } from "node:crypto";
import { Construct } from "constructs";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { EncryptionKey } from "../primitives/encryption-key";
import { Statement } from "../primitives/policy";
import { PrivateBucket } from "../primitives/private-bucket";

/** Days a replaced bundle stays readable (by its version) for a rollback to an older template version. */
export const BUNDLE_NONCURRENT_DAYS = 90;
/** Folder of the bundles in the bucket. */
export const BUNDLE_PREFIX = "boot";

export interface BootBundleProps {
  /** Prefix of every resource name, for example `webapp-dev`. */
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
  /** The gzipped boot script. */
  readonly content: Buffer;
}

/** Name of an environment's boot bundle bucket. */
export function bootBucketName(namePrefix: string, accountId: string): string {
  return `${namePrefix}-boot-${accountId}`;
}

export class BootBundle extends Construct {
  readonly bucket: S3Bucket;
  readonly key: EncryptionKey;
  readonly object: S3Object;
  /** Hex SHA-256 of the content: what the loader checks. */
  readonly sha256: string;
  readonly objectKey: string;
  private readonly region: string;

  constructor(scope: Construct, id: string, props: BootBundleProps) {
    super(scope, id);
    this.region = props.region;
    this.sha256 = createHash("sha256").update(props.content).digest("hex");
    this.objectKey = `${BUNDLE_PREFIX}/${this.sha256}.sh.gz`;
    const name = bootBucketName(props.namePrefix, props.accountId);

    this.key = new EncryptionKey(this, "key", {
      description: `${props.namePrefix}: boot bundles`,
      alias: `${props.namePrefix}-boot`,
      accountId: props.accountId,
    });
    // Everything in it is rebuilt from the code at the next apply: it never blocks a teardown.
    const bucket = new PrivateBucket(this, "bucket", {
      bucketName: name,
      forceDestroy: true,
      tags: { Name: name },
      encryption: { kmsKeyArn: this.key.arn },
      denyWritesNotEncryptedWithKms: true,
      lifecycleRules: [
        {
          id: "expire-replaced-bundles",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrentVersionExpiration: [{ noncurrentDays: BUNDLE_NONCURRENT_DAYS }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
    });
    this.bucket = bucket.bucket;
    this.object = new S3Object(this, "bundle", {
      bucket: this.bucket.id,
      key: this.objectKey,
      contentBase64: props.content.toString("base64"),
      contentType: "application/gzip",
      serverSideEncryption: "aws:kms",
      kmsKeyId: this.key.arn,
      bucketKeyEnabled: true,
      dependsOn: [bucket.versioning, bucket.encryption, bucket.policy],
    });
  }

  /** Read the bundles (any version, for a rollback), decrypting only through S3. */
  grantRead(): Statement[] {
    return [
      {
        Sid: "ReadBootBundles",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:GetObjectVersion"],
        Resource: `${this.bucket.arn}/${BUNDLE_PREFIX}/*`,
      },
      {
        Sid: "DecryptBootBundlesViaS3",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: this.key.arn,
        Condition: { StringEquals: { "kms:ViaService": `s3.${this.region}.amazonaws.com` } },
      },
    ];
  }
}
