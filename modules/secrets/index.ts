// The app's secrets: a customer-managed KMS key, the app-env secret (a JSON object of the app's settings)
// and the repository credential. Terraform creates the containers only, never a value: operators set the
// values out of band (docs/secrets.md). Grant helpers give the instance role read on exactly these.
import { Construct } from "constructs";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { DEFAULT_KEY_DELETION_WINDOW_DAYS, EncryptionKey } from "../primitives/encryption-key";
import { secretReadStatements, Statement } from "../primitives/policy";
import { assertValid, Problems } from "../primitives/validation";

/** The secrets settings an environment chooses. */
export interface SecretsSettings {
  /**
   * Days a deleted secret can still be restored: 0 (deleted at once, for environments torn down often)
   * or 7 to 30. Also used for the other secrets of the environment (the Redis AUTH token).
   */
  readonly recoveryWindowDays: number;
  /** Waiting period before the secrets key is deleted, 7 to 30 days. @default 30 */
  readonly keyDeletionWindowDays?: number;
}

export interface SecretsProps extends SecretsSettings {
  /** Prefix of every resource name, for example `webapp-dev`. */
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
}

/** The secrets settings with every default filled in. */
export interface ResolvedSecretsSettings extends SecretsSettings {
  readonly keyDeletionWindowDays: number;
}

/** The settings' defaults, written once (the key's own default): the check and the construct both read what this returns. */
export function resolveSecretsSettings<S extends SecretsSettings>(settings: S): S & ResolvedSecretsSettings {
  return { ...settings, keyDeletionWindowDays: settings.keyDeletionWindowDays ?? DEFAULT_KEY_DELETION_WINDOW_DAYS };
}

/** One line per problem of an environment's secrets settings, checked with their defaults resolved. */
export function checkSecretsSettings(settings: SecretsSettings, problems: Problems): void {
  const props = resolveSecretsSettings(settings);
  const days = props.recoveryWindowDays;
  problems.check(
    Number.isInteger(days) && (days === 0 || (days >= 7 && days <= 30)),
    "recoveryWindowDays",
    days,
    "Secrets Manager accepts 0 (delete at once) or 7 to 30 days",
  );
  const keyDays = props.keyDeletionWindowDays;
  problems.check(Number.isInteger(keyDays) && keyDays >= 7 && keyDays <= 30, "keyDeletionWindowDays", keyDays, "KMS accepts 7 to 30 days");
}

/** The secrets as other modules and the composing stack consume them. */
export interface SecretsRefs {
  /** KMS key that encrypts the app's secrets (and the RDS-managed master secret and the Redis token). */
  readonly keyArn: string;
  readonly appEnvSecretArn: string;
  readonly repositoryCredentialSecretArn: string;
  readonly recoveryWindowDays: number;
}

export class Secrets extends Construct implements SecretsRefs {
  readonly key: EncryptionKey;
  readonly keyArn: string;
  readonly appEnv: SecretsmanagerSecret;
  readonly repositoryCredential: SecretsmanagerSecret;
  readonly appEnvSecretArn: string;
  readonly repositoryCredentialSecretArn: string;
  readonly recoveryWindowDays: number;
  private readonly region: string;

  constructor(scope: Construct, id: string, settings: SecretsProps) {
    super(scope, id);
    assertValid(this, settings, checkSecretsSettings);
    const props = resolveSecretsSettings(settings);
    this.region = props.region;
    this.recoveryWindowDays = props.recoveryWindowDays;

    // Secrets Manager and RDS use the key on their callers' behalf (kms:ViaService), so the key policy
    // names no service: the account's IAM policies decide, and grantRead() writes those statements.
    this.key = new EncryptionKey(this, "key", {
      description: `${props.namePrefix}: application secrets`,
      alias: `${props.namePrefix}-secrets`,
      accountId: props.accountId,
      deletionWindowDays: props.keyDeletionWindowDays,
    });
    this.keyArn = this.key.arn;

    const secret = (id: string, description: string) =>
      new SecretsmanagerSecret(this, id, {
        name: `${props.namePrefix}/${id}`,
        description,
        kmsKeyId: this.key.arn,
        recoveryWindowInDays: props.recoveryWindowDays,
        tags: { Name: `${props.namePrefix}/${id}` },
      });
    this.appEnv = secret("app-env", "Application settings as one JSON object; the value is set by operators, never by Terraform");
    this.repositoryCredential = secret(
      "repository-credential",
      "Read-only credential for the application repository; the value is set by operators, never by Terraform",
    );
    this.appEnvSecretArn = this.appEnv.arn;
    this.repositoryCredentialSecretArn = this.repositoryCredential.arn;
  }

  /** Identity-policy statements to read the app-env secret and the repository credential, and nothing else. */
  grantRead(): Statement[] {
    return secretReadStatements("AppSecrets", [this.appEnvSecretArn, this.repositoryCredentialSecretArn], this.keyArn, this.region);
  }
}
