// A customer-managed KMS key with rotation, an alias and a key policy that names exactly which
// AWS services may use it. Creates no grants for workloads: callers grant use through IAM.
import { Construct } from "constructs";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { formatArn } from "./arn";
import { Conditions, policyDocument, Statement } from "./policy";
import { assertValid, Problems } from "./validation";

/** A service that may use the key, for example CloudWatch Logs for encrypted log groups. */
export interface KeyServiceGrant {
  /** Service principal, for example `logs.eu-west-2.amazonaws.com`. */
  readonly service: string;
  /** @default encrypt, decrypt, re-encrypt, generate data key, describe */
  readonly actions?: readonly string[];
  /** Conditions narrowing the grant, for example an encryption-context ARN pattern. @default none */
  readonly conditions?: Conditions;
}

/** An IAM principal named in the key policy, for principals whose own IAM policies cannot grant key use
 * (service-linked roles, for example the Auto Scaling role that creates encrypted volumes). */
export interface KeyPrincipalGrant {
  /** Principal ARN, for example `arn:aws:iam::111111111111:role/aws-service-role/...`. */
  readonly arn: string;
  /** @default encrypt, decrypt, re-encrypt, generate data key, describe */
  readonly actions?: readonly string[];
  /** Conditions narrowing the grant. @default none */
  readonly conditions?: Conditions;
}

export interface EncryptionKeyProps {
  /** Human-readable purpose, shown in the KMS console. */
  readonly description: string;
  /** Alias without the `alias/` prefix, for example `webapp-dev-logs`. */
  readonly alias: string;
  /** Account that owns the key; its IAM policies decide who else may use it. */
  readonly accountId: string;
  /** Services allowed to use the key directly. @default [] */
  readonly services?: readonly KeyServiceGrant[];
  /** IAM principals allowed to use the key through the key policy. @default [] */
  readonly principals?: readonly KeyPrincipalGrant[];
  /**
   * IAM principals (ARN patterns, matched against `aws:PrincipalArn`) refused every use of the key, whatever
   * their IAM policies say. @default []
   */
  readonly deniedPrincipalArns?: readonly string[];
  /** Waiting period before a scheduled deletion, 7 to 30 days. @default 30 */
  readonly deletionWindowDays?: number;
}

const DEFAULT_SERVICE_ACTIONS = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"];

export const DEFAULT_KEY_DELETION_WINDOW_DAYS = 30;

/** The key's props with every default filled in. */
export interface ResolvedEncryptionKeyProps extends EncryptionKeyProps {
  readonly services: readonly KeyServiceGrant[];
  readonly principals: readonly KeyPrincipalGrant[];
  readonly deniedPrincipalArns: readonly string[];
  readonly deletionWindowDays: number;
}

/** The props' defaults, written once: the check and the construct both read what this returns. */
export function resolveEncryptionKeyProps(props: EncryptionKeyProps): ResolvedEncryptionKeyProps {
  return {
    ...props,
    services: props.services ?? [],
    principals: props.principals ?? [],
    deniedPrincipalArns: props.deniedPrincipalArns ?? [],
    deletionWindowDays: props.deletionWindowDays ?? DEFAULT_KEY_DELETION_WINDOW_DAYS,
  };
}

/** One line per problem of a key's props, checked with their defaults resolved. */
export function checkEncryptionKeyProps(settings: EncryptionKeyProps, problems: Problems): void {
  const days = resolveEncryptionKeyProps(settings).deletionWindowDays;
  problems.check(Number.isInteger(days) && days >= 7 && days <= 30, "deletionWindowDays", days, "KMS accepts 7 to 30 days");
}

export class EncryptionKey extends Construct {
  readonly key: KmsKey;
  readonly arn: string;

  constructor(scope: Construct, id: string, settings: EncryptionKeyProps) {
    super(scope, id);
    assertValid(this, settings, checkEncryptionKeyProps);
    const props = resolveEncryptionKeyProps(settings);

    const statements: Statement[] = [
      {
        Sid: "AccountAdministersKeyThroughIam",
        Effect: "Allow",
        Principal: { AWS: formatArn({ service: "iam", account: props.accountId, resource: "root" }) },
        Action: "kms:*",
        Resource: "*",
      },
      ...props.services.map((grant, i) => ({
        Sid: `Service${i}`,
        Effect: "Allow" as const,
        Principal: { Service: grant.service },
        Action: [...(grant.actions ?? DEFAULT_SERVICE_ACTIONS)],
        Resource: "*",
        ...(grant.conditions ? { Condition: grant.conditions } : {}),
      })),
      ...props.principals.map((grant, i) => ({
        Sid: `Principal${i}`,
        Effect: "Allow" as const,
        Principal: { AWS: grant.arn },
        Action: [...(grant.actions ?? DEFAULT_SERVICE_ACTIONS)],
        Resource: "*",
        ...(grant.conditions ? { Condition: grant.conditions } : {}),
      })),
      ...(props.deniedPrincipalArns.length > 0
        ? [
            {
              Sid: "DeniedPrincipals",
              Effect: "Deny" as const,
              Principal: "*" as const,
              Action: "kms:*",
              Resource: "*",
              Condition: { ArnLike: { "aws:PrincipalArn": [...props.deniedPrincipalArns] } },
            },
          ]
        : []),
    ];

    this.key = new KmsKey(this, "key", {
      description: props.description,
      enableKeyRotation: true,
      deletionWindowInDays: props.deletionWindowDays,
      policy: policyDocument(...statements),
      tags: { Name: props.alias },
    });
    new KmsAlias(this, "alias", { name: `alias/${props.alias}`, targetKeyId: this.key.keyId });
    this.arn = this.key.arn;
  }
}

/** The grant CloudWatch Logs needs to encrypt log groups in one region and account. */
export function logsServiceGrant(region: string, accountId: string): KeyServiceGrant {
  return {
    service: `logs.${region}.amazonaws.com`,
    conditions: {
      ArnLike: {
        "kms:EncryptionContext:aws:logs:arn": formatArn({ service: "logs", region, account: accountId, resource: "log-group:*" }),
      },
    },
  };
}
