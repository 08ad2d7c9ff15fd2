import { Testing } from "cdktf";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { bootstrap, ENVIRONMENTS } from "../environments";
import { buildBootstrap } from "../modules/environment-stack";
import { StateStorage } from "../modules/state-backend";
import { policy, resourceList, synth, synthConstruct, synthEnvironment } from "./support/synth";

describe("each environment's backend", () => {
  it.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("%s keeps its own encrypted, locked state object", (name, config) => {
    const { json } = synthEnvironment(config);
    expect(json.terraform.backend).toEqual({
      s3: {
        bucket: config.state.bucket,
        key: `environments/${name}/terraform.tfstate`,
        region: config.state.region,
        encrypt: true,
        dynamodb_table: config.state.lockTable,
        use_lockfile: true,
      },
    });
  });
});

describe("bootstrap stack", () => {
  const build = (remoteState: boolean) => synth(buildBootstrap(Testing.app(), { ...bootstrap, remoteState }, ENVIRONMENTS));
  const { text, json } = build(false);

  it("starts on local state and moves to its own key in the bucket once migrated", () => {
    expect(json.terraform.backend).toEqual({ local: { path: "../../../terraform.bootstrap.tfstate" } });
    expect(build(true).json.terraform.backend.s3).toEqual(
      expect.objectContaining({ key: "bootstrap/terraform.tfstate", use_lockfile: true, encrypt: true }),
    );
  });

  it("protects the bucket: versioning, KMS encryption, no public access, owner-enforced, prevent_destroy", () => {
    expect(text).toHaveResourceWithProperties(S3Bucket, { bucket: bootstrap.state.bucket, lifecycle: { prevent_destroy: true } });
    expect(text).toHaveResourceWithProperties(S3BucketVersioningA, { versioning_configuration: { status: "Enabled" } });
    expect(text).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
      rule: [expect.objectContaining({ apply_server_side_encryption_by_default: expect.objectContaining({ sse_algorithm: "aws:kms" }), bucket_key_enabled: true })],
    });
    expect(text).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(text).toHaveResourceWithProperties(S3BucketOwnershipControls, { rule: { object_ownership: "BucketOwnerEnforced" } });
    expect(text).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true });
  });

  it("denies any access to the bucket without TLS", () => {
    const doc = policy(resourceList(json, "aws_s3_bucket_policy")[0]?.policy);
    expect(doc.Statement).toEqual([
      expect.objectContaining({ Effect: "Deny", Principal: "*", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    ]);
    expect(doc.Statement[0].Resource).toHaveLength(2);
  });

  it("expires noncurrent state versions after the configured days", () => {
    expect(text).toHaveResourceWithProperties(S3BucketLifecycleConfiguration, {
      rule: [expect.objectContaining({ status: "Enabled", noncurrent_version_expiration: [{ noncurrent_days: 90 }] })],
    });
  });

  it("creates the lock table: LockID string key, on demand, PITR, KMS encryption, protected", () => {
    expect(text).toHaveResourceWithProperties(DynamodbTable, {
      name: bootstrap.state.lockTable,
      hash_key: "LockID",
      attribute: [{ name: "LockID", type: "S" }],
      billing_mode: "PAY_PER_REQUEST",
      point_in_time_recovery: { enabled: true },
      server_side_encryption: expect.objectContaining({ enabled: true }),
      deletion_protection_enabled: true,
      lifecycle: { prevent_destroy: true },
    });
  });

  it("rejects a bad bucket name at construct time", () => {
    expect(() =>
      synthConstruct((scope) => new StateStorage(scope, "state", { ...bootstrap.state, bucket: "No", accountId: "111111111111" })),
    ).toThrow(/test\/state: bucket = "No": not a valid S3 bucket name/);
  });
});
