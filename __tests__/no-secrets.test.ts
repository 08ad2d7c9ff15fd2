// No secret value anywhere in the synthesized JSON of any stack: Terraform creates secret containers, and
// the only token Terraform handles (the cache AUTH token) is a reference to a value generated at apply time.
import { Testing } from "cdktf";
import { ENVIRONMENTS, bootstrap } from "../environments";
import { buildBootstrap } from "../modules/stacks/bootstrap-stack";
import { buildEnvironment } from "../modules/stacks/environment-stack";
import { Json, synth } from "./support/synth";

/** Arguments that carry a secret value in the AWS provider. */
const SECRET_ARGUMENTS = new Set([
  "secret_string",
  "secret_binary",
  "secret_string_wo",
  "password",
  "password_wo",
  "master_password",
  "master_password_wo",
  "auth_token",
  "passwords",
  "value_wo",
  "private_key",
  "secret",
  "access_key",
  "secret_key",
  "token",
]);

/** The one generator whose output may be passed to a secret argument. */
const GENERATED = /^\$\{data\.aws_secretsmanager_random_password\.[\w-]+\.random_password\}$/;

/** Shapes of real credentials that must never appear in any value. */
const SECRET_LOOKING: readonly [string, RegExp][] = [
  ["AWS access key id", /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
  ["private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ["GitHub token", /\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}\b|github_pat_[A-Za-z0-9_]{30,}/],
  ["GitLab token", /\bglpat-[A-Za-z0-9_-]{20,}\b/],
  ["Slack token", /\bxox[abposr]-[A-Za-z0-9-]{10,}/],
  ["credentials in a URL", /[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:[^\s/@]+@/i],
  // An ARN's `:secret:<name>` segment is a name, not an assignment.
  ["password assignment", /(?<!:)(password|passwd|secret|token)["']?\s*[=:]\s*["']?[A-Za-z0-9+/!#%^&*_-]{8,}/i],
];

interface Found {
  readonly path: string;
  readonly value: unknown;
}

function walk(value: unknown, path: string, visit: (path: string, key: string, value: unknown) => void): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => walk(v, `${path}[${i}]`, visit));
  } else if (value && typeof value === "object") {
    for (const [key, v] of Object.entries(value)) {
      visit(`${path}.${key}`, key, v);
      walk(v, `${path}.${key}`, visit);
    }
  }
}

/** Strings to scan: each value, and the decoded text of values that look like base64 (user data). */
function texts(value: string): string[] {
  if (/^[A-Za-z0-9+/]{40,}={0,2}$/.test(value)) return [value, Buffer.from(value, "base64").toString("utf8")];
  return [value];
}

function scan(json: Json): { secretArguments: Found[]; secretLooking: Found[] } {
  const secretArguments: Found[] = [];
  const secretLooking: Found[] = [];
  walk(
    {
      resource: json.resource,
      data: json.data,
      output: json.output,
      locals: json.locals,
      variable: json.variable,
      provider: json.provider,
      terraform: json.terraform,
    },
    "",
    (path, key, value) => {
      // Provider metadata (`//`) is not configuration.
      if (path.includes(".//")) return;
      if (SECRET_ARGUMENTS.has(key) && !(typeof value === "string" && GENERATED.test(value))) secretArguments.push({ path, value });
      if (typeof value === "string") {
        for (const [what, pattern] of SECRET_LOOKING) {
          if (texts(value).some((t) => pattern.test(t))) secretLooking.push({ path: `${path} (${what})`, value });
        }
      }
    },
  );
  return { secretArguments, secretLooking };
}

const app = Testing.app();
const stacks = [
  ...ENVIRONMENTS.map((config) => [config.name, synth(buildEnvironment(app, config)).json] as const),
  ["bootstrap", synth(buildBootstrap(app, bootstrap, ENVIRONMENTS)).json] as const,
];

describe.each(stacks)("no secret value in the %s stack", (_name, json) => {
  it("passes no literal to any secret argument", () => {
    expect(scan(json).secretArguments).toEqual([]);
  });

  it("writes a secret value only for the generated cache token, never for the app's secrets", () => {
    const versions = Object.entries((json.resource?.aws_secretsmanager_secret_version ?? {}) as Record<string, Json>);
    expect(versions.map(([key]) => key)).toEqual(versions.length === 0 ? [] : [expect.stringMatching(/^cache_auth-token-value_/)]);
    for (const [, version] of versions) expect(version.secret_string).toMatch(GENERATED);
    expect(JSON.stringify(json)).not.toMatch(/"secret_binary"/);
  });

  it("holds no string shaped like a credential", () => {
    expect(scan(json).secretLooking).toEqual([]);
  });

  it("outputs nothing derived from a generated secret", () => {
    expect(JSON.stringify(json.output ?? {})).not.toMatch(/random_password|auth_token|secret_string/);
  });
});

describe("the scan itself", () => {
  it("catches literals in secret arguments and credential-shaped strings, and allows generated references", () => {
    const planted: Json = {
      resource: {
        aws_elasticache_replication_group: { a: { auth_token: "hunter2hunter2hunter2" } },
        aws_secretsmanager_secret_version: {
          b: { secret_string: '{"DB_PASSWORD":"correct-horse-battery"}' },
          c: { secret_string_wo: "${data.aws_secretsmanager_random_password.cache_token_AB12.random_password}" },
        },
        aws_launch_template: {
          d: { user_data: Buffer.from("git clone https://deploy:s3cr3tvalue@github.com/org/repo.git").toString("base64") },
          e: { description: "AKIAABCDEFGHIJKLMNOP" },
        },
      },
    };
    const { secretArguments, secretLooking } = scan(planted);
    expect(secretArguments.map((f) => f.path)).toEqual([
      ".resource.aws_elasticache_replication_group.a.auth_token",
      ".resource.aws_secretsmanager_secret_version.b.secret_string",
    ]);
    expect(secretLooking.map((f) => f.path)).toEqual([
      ".resource.aws_secretsmanager_secret_version.b.secret_string (password assignment)",
      ".resource.aws_launch_template.d.user_data (credentials in a URL)",
      ".resource.aws_launch_template.e.description (AWS access key id)",
    ]);
  });
});
