// The app instances' launch template: Amazon Linux 2023 (or a pinned AMI) for the instance type's
// architecture, IMDSv2 only, an encrypted gp3 root volume under its own key, no public IP, and the user data
// that loads the boot bundle. Created in the compute construct's scope, so ids and paths are the construct's.
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { formatArn } from "../primitives/arn";
import { EncryptionKey } from "../primitives/encryption-key";
import type { BootBundle } from "./boot-bundle";
import { renderUserData } from "./boot-script";
import type { ResolvedComputeProps } from "./props";

const AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default";

/** True for Graviton (arm64) instance types: a family letter `a` (a1) or a `g` among the attributes (t4g, c7gn, m6gd). */
export function isGraviton(instanceType: string): boolean {
  const match = /^([a-z]+)(\d+)([a-z-]*)\./.exec(instanceType);
  if (!match) return false;
  return match[1] === "a" || (match[3] ?? "").includes("g");
}

/** The public SSM parameter naming the newest Amazon Linux 2023 AMI for the instance type's architecture. */
export function amiParameter(instanceType: string): string {
  return `${AL2023_PARAMETER}-${isGraviton(instanceType) ? "arm64" : "x86_64"}`;
}

/** What the template refers to besides the settings. */
export interface LaunchTemplateParts {
  /** The template's name, and the Name tag of what it launches. */
  readonly name: string;
  readonly securityGroupId: string;
  readonly instanceProfileArn: string;
  readonly bootBundle: BootBundle;
  /** Tags of the instances, volumes and network interfaces it launches. */
  readonly tags: Readonly<Record<string, string>>;
}

export interface AppLaunchTemplate {
  readonly launchTemplate: LaunchTemplate;
  readonly volumeKey: EncryptionKey;
  /** The rendered user data (before base64), with Terraform references as tokens. */
  readonly userData: string;
}

/** The volume key (`volume-key`), the AMI lookup (`ami`, unless pinned) and the template (`template`), in `scope`. */
export function addLaunchTemplate(scope: Construct, props: ResolvedComputeProps, parts: LaunchTemplateParts): AppLaunchTemplate {
  const { name } = parts;
  // The Auto Scaling service-linked role creates the encrypted volumes, so the key policy names it.
  const autoScalingRole = formatArn({
    service: "iam",
    account: props.accountId,
    resource: "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
  });
  const volumeKey = new EncryptionKey(scope, "volume-key", {
    description: `${props.namePrefix}: app instance volumes`,
    alias: `${props.namePrefix}-app-volumes`,
    accountId: props.accountId,
    principals: [
      { arn: autoScalingRole, actions: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"] },
      { arn: autoScalingRole, actions: ["kms:CreateGrant"], conditions: { Bool: { "kms:GrantIsForAWSResource": "true" } } },
    ],
  });

  // A data source, not `resolve:ssm:`, so the template records a concrete AMI id: instance refresh can
  // only roll back to numbered template versions whose image is not an SSM parameter.
  const imageId = props.amiId ?? new DataAwsSsmParameter(scope, "ami", { name: amiParameter(props.instanceType) }).insecureValue;

  const userData = renderUserData(
    {
      databaseHost: props.database.address,
      databasePort: Token.asString(props.database.port),
      databaseName: props.database.databaseName,
      databaseEngine: props.database.engine,
      databaseSecretArn: props.database.appUserSecretArn,
      cacheHost: props.cache.primaryEndpointAddress,
      cachePort: Token.asString(props.cache.port),
      cacheTls: props.cache.tls ? "true" : "false",
      cacheTokenSecretArn: props.cache.authTokenSecretArn,
      fileSystemId: props.fileSystem.fileSystemId,
      accessPointId: props.fileSystem.accessPointId,
      appEnvSecretArn: props.secrets.appEnvSecretArn,
      repositoryCredentialSecretArn: props.secrets.repositoryCredentialSecretArn,
      targetGroupArn: props.targetGroup.arn,
    },
    {
      region: props.region,
      bucket: parts.bootBundle.bucket.bucket,
      key: parts.bootBundle.objectKey,
      versionId: parts.bootBundle.object.versionId,
      sha256: parts.bootBundle.sha256,
    },
  );

  const tags = parts.tags;
  const launchTemplate = new LaunchTemplate(scope, "template", {
    name,
    description: `${props.namePrefix} app instances`,
    imageId,
    instanceType: props.instanceType,
    updateDefaultVersion: true,
    ebsOptimized: "true",
    iamInstanceProfile: { arn: parts.instanceProfileArn },
    metadataOptions: {
      httpEndpoint: "enabled",
      httpTokens: "required",
      httpPutResponseHopLimit: 1,
      instanceMetadataTags: "disabled",
    },
    monitoring: { enabled: true },
    networkInterfaces: [
      {
        deviceIndex: 0,
        associatePublicIpAddress: "false",
        deleteOnTermination: "true",
        securityGroups: [parts.securityGroupId],
      },
    ],
    blockDeviceMappings: [
      {
        deviceName: "/dev/xvda",
        ebs: {
          volumeType: "gp3",
          volumeSize: props.rootVolumeGiB,
          encrypted: "true",
          kmsKeyId: volumeKey.arn,
          deleteOnTermination: "true",
        },
      },
    ],
    tagSpecifications: [
      { resourceType: "instance", tags },
      { resourceType: "volume", tags },
      { resourceType: "network-interface", tags },
    ],
    userData: Fn.base64encode(userData),
    tags: { Name: name },
  });
  return { launchTemplate, volumeKey, userData };
}
