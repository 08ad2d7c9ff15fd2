import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { Secrets, SecretsProps } from "../modules/secrets";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { policyDocument } from "../modules/primitives/policy";
import { ENVIRONMENTS } from "../environments";
import { prod } from "../environments/prod";
import { validateEnvironments } from "../environments/schema/validate";
import { environment } from "./support/fixtures";
import { policy, resourceList, resources, synthConstruct, synthEnvironment } from "./support/synth";

const props: SecretsProps = { namePrefix: "webapp-test", region: "eu-west-2", accountId: "111111111111", recoveryWindowDays: 7 };

const built = synthConstruct((scope) => {
  const secrets = new Secrets(scope, "secrets", props);
  new IamPolicy(scope, "grant", { name: "grant", policy: policyDocument(...secrets.grantRead()) });
});
const grant = policy(resourceList(built.json, "aws_iam_policy")[0]!.policy).Statement;

describe("Secrets", () => {
  it("creates a rotating customer-managed key with an alias, scoped to the account", () => {
    expect(built.text).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true, deletion_window_in_days: 30 });
    expect(built.text).toHaveResourceWithProperties(KmsAlias, { name: "alias/webapp-test-secrets" });
    const key = resourceList(built.json, "aws_kms_key")[0]!;
    const statements = policy(key.policy).Statement;
    expect(statements).toEqual([expect.objectContaining({ Principal: { AWS: "arn:aws:iam::111111111111:root" } })]);
  });

  it("creates the app-env secret and the repository credential as containers, encrypted with that key", () => {
    const keyRef = expect.stringMatching(/^\$\{aws_kms_key\.secrets_key_\w+\.arn\}$/);
    expect(built.text).toHaveResourceWithProperties(SecretsmanagerSecret, {
      name: "webapp-test/app-env",
      kms_key_id: keyRef,
      recovery_window_in_days: 7,
    });
    expect(built.text).toHaveResourceWithProperties(SecretsmanagerSecret, {
      name: "webapp-test/repository-credential",
      kms_key_id: keyRef,
      recovery_window_in_days: 7,
    });
    expect(Object.keys(resources(built.json, "aws_secretsmanager_secret"))).toHaveLength(2);
    expect(resources(built.json, "aws_secretsmanager_secret_version")).toEqual({});
    expect(built.text).not.toMatch(/secret_string/);
  });

  it("grants read on exactly these two secrets and decrypt on exactly this key, only through Secrets Manager", () => {
    expect(grant).toEqual([
      {
        Sid: "AppSecretsRead",
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        Resource: [
          expect.stringMatching(/^\$\{aws_secretsmanager_secret\.secrets_app-env_\w+\.arn\}$/),
          expect.stringMatching(/^\$\{aws_secretsmanager_secret\.secrets_repository-credential_\w+\.arn\}$/),
        ],
      },
      {
        Sid: "AppSecretsDecrypt",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: expect.stringMatching(/^\$\{aws_kms_key\.secrets_key_\w+\.arn\}$/),
        Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-2.amazonaws.com" } },
      },
    ]);
    expect(JSON.stringify(grant)).not.toContain('"*"');
  });

  it("rejects a recovery window Secrets Manager would not accept", () => {
    for (const days of [1, 6, 31, 2.5]) {
      expect(() => synthConstruct((scope) => new Secrets(scope, "secrets", { ...props, recoveryWindowDays: days }))).toThrow(
        new RegExp(`test/secrets: recoveryWindowDays = ${days}: Secrets Manager accepts 0 \\(delete at once\\) or 7 to 30 days`),
      );
    }
    expect(validateEnvironments([environment({ secrets: { recoveryWindowDays: 3 } })])).toContainEqual(
      expect.stringMatching(/^dev: secrets\.recoveryWindowDays = 3: Secrets Manager accepts 0/),
    );
    expect(validateEnvironments([environment({ secrets: { recoveryWindowDays: 7, keyDeletionWindowDays: 3 } })])).toContainEqual(
      "dev: secrets.keyDeletionWindowDays = 3: KMS accepts 7 to 30 days",
    );
  });

  it("refuses immediate deletion of secrets in production unless waived", () => {
    const noWindow = environment({ secrets: { recoveryWindowDays: 0 } }, prod);
    expect(validateEnvironments([noWindow])).toContainEqual(
      "prod: secrets.recoveryWindowDays = 0: a production environment needs a recovery window for deleted secrets; fix it or add waivers.deletionProtection with a written reason",
    );
  });
});

describe("Secrets per environment", () => {
  it.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("%s keeps deleted secrets for its configured window", (_name, config) => {
    const { text } = synthEnvironment(config);
    const days = config.secrets.recoveryWindowDays;
    expect(text).toHaveResourceWithProperties(SecretsmanagerSecret, {
      name: `${config.project}-${config.name}/app-env`,
      recovery_window_in_days: days,
    });
    expect(text).toHaveResourceWithProperties(SecretsmanagerSecret, {
      name: `${config.project}-${config.name}/repository-credential`,
      recovery_window_in_days: days,
    });
    expect(text).toHaveResourceWithProperties(SecretsmanagerSecret, {
      name: `${config.project}-${config.name}/redis-auth-token`,
      recovery_window_in_days: days,
    });
  });
});
