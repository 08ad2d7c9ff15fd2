// What the CI roles and the state bucket guarantee, asked of the synthesized policies through a small IAM
// evaluator (support/policy-evaluator.ts): who may assume each role, which state object each may read or
// write, what an apply role may change, and which writes the state bucket refuses.
import * as fs from "node:fs";
import * as path from "node:path";
import { Testing } from "cdktf";
import { bootstrap, ENVIRONMENTS } from "../environments";
import { ciRoleName } from "../modules/bootstrap/ci-roles";
import { buildBootstrap } from "../modules/stacks/bootstrap-stack";
import { workloadBoundaryArn } from "../modules/bootstrap/permissions-boundary";
import { allowedBy, evaluate, Request } from "./support/policy-evaluator";
import { simulate } from "./support/simulator";
import { policySets, resourcePolicy, StackIam, trustPolicy } from "./support/iam";
import { resourceList, resources, synth, synthEnvironment } from "./support/synth";

// The shipped bootstrap's account, region, project and repository, whatever they are.
const { accountId: account, region, project } = bootstrap;
const repo = bootstrap.ci!.githubRepository;
const bucket = `arn:aws:s3:::${bootstrap.state.bucket}`;
const stateObject = (env: string) => `${bucket}/environments/${env}/terraform.tfstate`;
const lockTable = `arn:aws:dynamodb:${region}:${account}:table/${bootstrap.state.lockTable}`;
const names = ENVIRONMENTS.map((e) => e.name);
const others = (env: string) => names.filter((n) => n !== env);

const stack: StackIam = { json: synth(buildBootstrap(Testing.app(), bootstrap, ENVIRONMENTS)).json, region, accountId: account };
const stateKeyArn = (() => {
  const key = Object.entries(resources(stack.json, "aws_kms_key")).find(([, k]) => String(k.description).startsWith("Terraform state"));
  if (!key) throw new Error("no state key");
  return `arn:aws:kms:${region}:${account}:key/${key[0]}`;
})();

const stateKeyPolicy = resourcePolicy(
  stack,
  resourceList(stack.json, "aws_kms_key").find((k) => String(k.description).startsWith("Terraform state"))!.policy,
);
const statePolicy = resourcePolicy(
  stack,
  resourceList(stack.json, "aws_s3_bucket_policy").find((p) => String(p.bucket).includes("state_bucket"))!.policy,
);
/** The simulator's answer for the role (its policies and boundary, and the bucket's policy for a state object). */
const can = async (role: string, request: Request): Promise<boolean> => {
  const [identity, boundary] = policySets(stack, role);
  const context = Object.fromEntries(Object.entries(request.context ?? {}).filter(([, v]) => v !== undefined)) as Record<
    string,
    string | string[]
  >;
  const onState = request.resource.startsWith(`${bucket}/`);
  // The S3 backend names SSE-KMS on every state and lock-file write, which the bucket's policy requires.
  if (onState && request.action === "s3:PutObject" && !("s3:x-amz-server-side-encryption" in context))
    context["s3:x-amz-server-side-encryption"] = "aws:kms";
  // KMS needs the key's policy to let IAM decide: the state key's, as synthesized.
  const resourcePolicyOf = onState ? statePolicy : request.resource === stateKeyArn ? stateKeyPolicy : undefined;
  return (
    (await simulate(
      { principal: `arn:aws:iam::${account}:role/${role}`, action: request.action, resource: request.resource, context },
      { identity: identity!, boundary: boundary?.[0] },
      resourcePolicyOf,
    )) === "Allowed"
  );
};
/** The home-made evaluator's answer, where the simulator cannot answer. */
const canLocally = (role: string, request: Request) => allowedBy(request, ...policySets(stack, role));
const planRole = (env: string) => ciRoleName(project, env, "plan");
const applyRole = (env: string) => ciRoleName(project, env, "apply");
const tagged = (env: string) => ({ "aws:ResourceTag/Environment": env });
const secretArn = (env: string, name: string) => `arn:aws:secretsmanager:${region}:${account}:secret:${project}-${env}/${name}-AbC123`;

describe("who may assume the CI roles", () => {
  const claims = (sub: string) => ({
    action: "sts:AssumeRoleWithWebIdentity",
    resource: "*",
    context: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": sub },
  });
  const planJob = (environment: string, pr = 7) =>
    `repo:${repo}:environment:${environment}:job_workflow_ref:${repo}/.github/workflows/pull-request.yml@refs/pull/${pr}/merge`;
  const applyJob = (environment: string, ref = "refs/heads/main", workflow = "apply.yml") =>
    `repo:${repo}:environment:${environment}:job_workflow_ref:${repo}/.github/workflows/${workflow}@${ref}`;
  const trusts = (role: string, sub: string) => evaluate([trustPolicy(stack, role)], claims(sub)) === "allow";

  it.each(names)("%s plan role: only the pull-request workflow's jobs in its own plan environment", (env) => {
    expect(trusts(planRole(env), planJob(`${env}-plan`))).toBe(true);
    expect(trusts(planRole(env), `repo:${repo}:pull_request`)).toBe(false);
    for (const other of others(env)) expect(trusts(planRole(env), planJob(`${other}-plan`))).toBe(false);
    expect(trusts(planRole(env), planJob(env))).toBe(false);
    expect(
      trusts(planRole(env), `repo:${repo}:environment:${env}-plan:job_workflow_ref:${repo}/.github/workflows/other.yml@refs/pull/7/merge`),
    ).toBe(false);
    expect(trusts(planRole(env), planJob(`${env}-plan`).replace(repo, "evil-org/fork"))).toBe(false);
  });

  it.each(names)("%s apply role: only the apply workflow on main, in its own GitHub environment", (env) => {
    expect(trusts(applyRole(env), applyJob(env))).toBe(true);
    expect(trusts(applyRole(env), `repo:${repo}:environment:${env}`)).toBe(false);
    expect(trusts(applyRole(env), applyJob(env, "refs/heads/feature"))).toBe(false);
    expect(trusts(applyRole(env), applyJob(env, "refs/heads/main", "pull-request.yml"))).toBe(false);
    for (const other of others(env)) expect(trusts(applyRole(env), applyJob(other))).toBe(false);
  });
});

describe("plan roles read their own environment only", () => {
  it.each(names)("%s plan role reads its own state and lock, and no other environment's state", async (env) => {
    expect(await can(planRole(env), { action: "s3:GetObject", resource: stateObject(env) })).toBe(true);
    expect(await can(planRole(env), { action: "s3:PutObject", resource: `${stateObject(env)}.tflock` })).toBe(true);
    expect(await can(planRole(env), { action: "s3:PutObject", resource: stateObject(env) })).toBe(false);
    expect(await can(planRole(env), { action: "kms:Decrypt", resource: stateKeyArn, context: tagged("shared") })).toBe(true);
    for (const other of others(env)) {
      for (const action of ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]) {
        expect(await can(planRole(env), { action, resource: stateObject(other) })).toBe(false);
        // Not merely unallowed: explicitly denied, so no policy attached later can open it.
        const principal = `arn:aws:iam::${account}:role/${planRole(env)}`;
        const context: Record<string, string> = action === "s3:PutObject" ? { "s3:x-amz-server-side-encryption": "aws:kms" } : {};
        expect(
          await simulate({ principal, action, resource: stateObject(other), context }, { identity: policySets(stack, planRole(env))[0]! }),
        ).toBe("ExplicitlyDenied");
      }
    }
  });

  it.each(names)(
    "%s plan role reads no data: no objects (but its boot bundle's metadata), secrets, parameters, queues or table items",
    async (env) => {
      const role = planRole(env);
      expect(await can(role, { action: "s3:GetObject", resource: `arn:aws:s3:::${project}-${env}-alb-logs/AWSLogs/x.gz` })).toBe(false);
      // The one object it reads: its own boot bundle's metadata on a refresh (the content stays sealed by its key).
      expect(await can(role, { action: "s3:GetObject", resource: `arn:aws:s3:::${project}-${env}-boot-${account}/boot/x.sh.gz` })).toBe(
        true,
      );
      expect(await can(role, { action: "s3:GetObject", resource: `arn:aws:s3:::${project}-${env}-boot-${account}/other/x` })).toBe(false);
      for (const other of names.filter((n) => n !== env)) {
        expect(await can(role, { action: "s3:GetObject", resource: `arn:aws:s3:::${project}-${other}-boot-${account}/boot/x.sh.gz` })).toBe(
          false,
        );
      }
      expect(await can(role, { action: "secretsmanager:GetSecretValue", resource: secretArn(env, "app-env") })).toBe(false);
      expect(
        await can(role, {
          action: "secretsmanager:GetSecretValue",
          resource: `arn:aws:secretsmanager:${region}:${account}:secret:rds!db-1234-AbC123`,
        }),
      ).toBe(false);
      expect(
        await can(role, { action: "ssm:GetParameter", resource: `arn:aws:ssm:${region}:${account}:parameter/${project}/${env}/x` }),
      ).toBe(false);
      expect(await can(role, { action: "sqs:ReceiveMessage", resource: `arn:aws:sqs:${region}:${account}:q` })).toBe(false);
      expect(await can(role, { action: "dynamodb:Scan", resource: `arn:aws:dynamodb:${region}:${account}:table/app` })).toBe(false);
      expect(
        await can(role, { action: "logs:GetLogEvents", resource: `arn:aws:logs:${region}:${account}:log-group:/${project}-${env}/app:*` }),
      ).toBe(false);
      expect(await can(role, { action: "ec2:GetConsoleOutput", resource: `arn:aws:ec2:${region}:${account}:instance/i-1` })).toBe(false);
      // ... while what a refresh needs is there.
      expect(await can(role, { action: "ec2:DescribeVpcs", resource: "*" })).toBe(true);
      // AWS's public parameters have no account in their ARN, which the simulator does not parse.
      expect(
        canLocally(role, {
          action: "ssm:GetParameter",
          resource: `arn:aws:ssm:${region}::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64`,
        }),
      ).toBe(true);
      expect(await can(role, { action: "secretsmanager:GetRandomPassword", resource: "*" })).toBe(true);
    },
  );

  it.each(names)(
    "%s plan role refreshes the cache token's secret version: that secret only, decrypted through Secrets Manager only",
    async (env) => {
      const role = planRole(env);
      const token = secretArn(env, "redis-auth-token");
      expect(await can(role, { action: "secretsmanager:GetSecretValue", resource: token })).toBe(true);
      const key = `arn:aws:kms:${region}:${account}:key/1234abcd-0000-4000-8000-000000000000`;
      const via = (secret: string) => ({
        "kms:ViaService": `secretsmanager.${region}.amazonaws.com`,
        "kms:EncryptionContext:SecretARN": secret,
        ...tagged(env),
      });
      expect(canLocally(role, { action: "kms:Decrypt", resource: key, context: via(token) })).toBe(true);
      expect(
        canLocally(role, {
          action: "kms:Decrypt",
          resource: key,
          context: { ...via(token), "kms:ViaService": `s3.${region}.amazonaws.com` },
        }),
      ).toBe(false);
      expect(canLocally(role, { action: "kms:Decrypt", resource: key, context: via(secretArn(env, "app-env")) })).toBe(false);
      for (const other of others(env)) {
        expect(await can(role, { action: "secretsmanager:GetSecretValue", resource: secretArn(other, "redis-auth-token") })).toBe(false);
      }
    },
  );
});

describe("the plan roles' read list", () => {
  // Terraform resource (or data source) type prefix -> the IAM service a refresh of it calls.
  const SERVICE: ReadonlyArray<readonly [RegExp, string]> = [
    [/^aws_acm_/, "acm"],
    [/^aws_autoscaling_/, "autoscaling"],
    [/^aws_cloudwatch_event_/, "events"],
    [/^aws_cloudwatch_log_/, "logs"],
    [/^aws_cloudwatch_/, "cloudwatch"],
    [/^aws_cloudtrail/, "cloudtrail"],
    [/^aws_db_/, "rds"],
    [/^aws_dynamodb_/, "dynamodb"],
    [/^aws_efs_/, "elasticfilesystem"],
    [/^aws_elasticache_/, "elasticache"],
    [/^aws_iam_/, "iam"],
    [/^aws_kms_/, "kms"],
    [/^aws_lb/, "elasticloadbalancing"],
    [/^aws_route53_/, "route53"],
    [/^aws_s3_/, "s3"],
    [/^aws_secretsmanager_/, "secretsmanager"],
    [/^aws_sns_/, "sns"],
    [/^aws_wafv2_/, "wafv2"],
    [/^aws_ssm_/, "ssm"],
    [/^aws_(availability_zones|ec2_[a-z_]+)$/, "ec2"],
    [
      /^aws_(default_security_group|eip|flow_log|internet_gateway|launch_template|nat_gateway|route|route_table|route_table_association|security_group|subnet|vpc|vpc_endpoint|vpc_security_group_(egress|ingress)_rule)$/,
      "ec2",
    ],
  ];
  it.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("covers the service of every resource type in %s", (_name, config) => {
    const json = synthEnvironment(config).json;
    const types = [...Object.keys(json.resource ?? {}), ...Object.keys(json.data ?? {})];
    const read = JSON.stringify(policySets(stack, planRole(config.name))[0]);
    for (const type of types) {
      const service = SERVICE.find(([pattern]) => pattern.test(type))?.[1];
      expect({ type, service }).toEqual({ type, service: expect.any(String) });
      expect({ type, service, listed: read.includes(`"${service}:`) }).toEqual({ type, service, listed: true });
    }
  });
});

describe("apply roles change only their own environment", () => {
  it.each(names)("%s apply role writes its own state and no other environment's", async (env) => {
    const role = applyRole(env);
    for (const action of ["s3:GetObject", "s3:PutObject"]) expect(await can(role, { action, resource: stateObject(env) })).toBe(true);
    expect(await can(role, { action: "kms:GenerateDataKey", resource: stateKeyArn, context: tagged("shared") })).toBe(true);
    expect(
      await can(role, {
        action: "dynamodb:PutItem",
        resource: lockTable,
        context: { "dynamodb:LeadingKeys": [`${bootstrap.state.bucket}/environments/${env}/terraform.tfstate`] },
      }),
    ).toBe(true);
    for (const other of others(env)) {
      for (const action of ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl"]) {
        expect(await can(role, { action, resource: stateObject(other) })).toBe(false);
      }
      expect(
        await can(role, {
          action: "dynamodb:DeleteItem",
          resource: lockTable,
          context: { "dynamodb:LeadingKeys": [`${bootstrap.state.bucket}/environments/${other}/terraform.tfstate`] },
        }),
      ).toBe(false);
    }
  });

  it.each(names)("%s apply role cannot touch the state bucket, lock table or state key themselves", async (env) => {
    const role = applyRole(env);
    for (const action of [
      "s3:PutBucketPolicy",
      "s3:DeleteBucket",
      "s3:PutBucketVersioning",
      "s3:PutLifecycleConfiguration",
      "s3:PutEncryptionConfiguration",
    ]) {
      expect(await can(role, { action, resource: bucket, context: tagged("shared") })).toBe(false);
    }
    expect(await can(role, { action: "dynamodb:DeleteTable", resource: lockTable, context: tagged("shared") })).toBe(false);
    expect(await can(role, { action: "dynamodb:Scan", resource: lockTable, context: tagged("shared") })).toBe(false);
    for (const action of ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:CreateGrant"]) {
      expect(await can(role, { action, resource: stateKeyArn, context: tagged("shared") })).toBe(false);
    }
  });

  it.each(names)("%s apply role cannot change, create or re-tag another environment's resources", async (env) => {
    const role = applyRole(env);
    const instance = `arn:aws:ec2:${region}:${account}:instance/i-1`;
    expect(await can(role, { action: "ec2:TerminateInstances", resource: instance, context: tagged(env) })).toBe(true);
    expect(
      await can(role, {
        action: "rds:CreateDBInstance",
        resource: "*",
        context: { "aws:RequestTag/Environment": env, "aws:TagKeys": ["Environment"] },
      }),
    ).toBe(true);
    for (const other of [...others(env), "shared"]) {
      expect(await can(role, { action: "ec2:TerminateInstances", resource: instance, context: tagged(other) })).toBe(false);
      expect(
        await can(role, {
          action: "rds:DeleteDBInstance",
          resource: `arn:aws:rds:${region}:${account}:db:${project}-${other}-db`,
          context: tagged(other),
        }),
      ).toBe(false);
      expect(
        await can(role, { action: "secretsmanager:PutSecretValue", resource: secretArn(other, "app-env"), context: tagged(other) }),
      ).toBe(false);
      expect(
        await can(role, {
          action: "rds:CreateDBInstance",
          resource: "*",
          context: { "aws:RequestTag/Environment": other, "aws:TagKeys": ["Environment"] },
        }),
      ).toBe(false);
      expect(
        await can(role, {
          action: "ec2:CreateTags",
          resource: instance,
          context: { ...tagged(env), "aws:RequestTag/Environment": other, "aws:TagKeys": ["Environment"] },
        }),
      ).toBe(false);
      expect(await can(role, { action: "iam:CreateRole", resource: `arn:aws:iam::${account}:role/${project}-${other}-app` })).toBe(false);
    }
    // Nor strip its own resource's Environment tag to take it out of the tag conditions.
    expect(
      await can(role, { action: "ec2:DeleteTags", resource: instance, context: { ...tagged(env), "aws:TagKeys": ["Environment"] } }),
    ).toBe(false);
    expect(await can(role, { action: "ec2:DeleteTags", resource: instance, context: { ...tagged(env), "aws:TagKeys": ["Name"] } })).toBe(
      true,
    );
  });

  it.each(names)("%s apply role carries a boundary that keeps those limits whatever is attached later", async (env) => {
    const [identity, boundary] = policySets(stack, applyRole(env));
    expect(boundary).toBeDefined();
    const admin = [{ Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }];
    const principal = `arn:aws:iam::${account}:role/${applyRole(env)}`;
    const withAdmin = async (request: Request) =>
      (await simulate(
        { principal, action: request.action, resource: request.resource, context: (request.context ?? {}) as Record<string, string> },
        { identity: [...identity!, ...admin], boundary: boundary![0] },
      )) === "Allowed";
    for (const other of others(env)) {
      expect(
        await withAdmin({
          action: "ec2:TerminateInstances",
          resource: `arn:aws:ec2:${region}:${account}:instance/i-1`,
          context: tagged(other),
        }),
      ).toBe(false);
      expect(await withAdmin({ action: "s3:PutObject", resource: stateObject(other) })).toBe(false);
    }
    expect(await withAdmin({ action: "iam:CreateUser", resource: `arn:aws:iam::${account}:user/x` })).toBe(false);
    expect(await withAdmin({ action: "s3:PutBucketPolicy", resource: bucket, context: tagged("shared") })).toBe(false);
  });
});

describe("state encryption", () => {
  it.each(ENVIRONMENTS.map((e) => [e.name, e] as const))(
    "%s's backend encrypts with the state key, named by its alias ARN",
    (_name, config) => {
      const backend = synthEnvironment(config).json.terraform.backend.s3;
      expect(backend.encrypt).toBe(true);
      expect(backend.kms_key_id).toBe(`arn:aws:kms:${region}:${account}:alias/${bootstrap.state.bucket}-state`);
      const aliases = resourceList(stack.json, "aws_kms_alias").map((a) => a.name);
      expect(aliases).toContain(backend.kms_key_id.replace(/^arn:aws:kms:[^:]+:\d{12}:/, ""));
    },
  );

  it("the bucket refuses any object write not encrypted with KMS, and any request without TLS, whatever the caller's own policies", async () => {
    const admin = { identity: [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }] };
    const principal = `arn:aws:iam::${account}:role/operator`;
    const put = (sse?: string) =>
      simulate(
        {
          principal,
          action: "s3:PutObject",
          resource: stateObject("prod"),
          context: sse ? { "s3:x-amz-server-side-encryption": sse } : {},
        },
        admin,
        statePolicy,
      );
    expect(await put()).toBe("ExplicitlyDenied");
    expect(await put("AES256")).toBe("ExplicitlyDenied");
    expect(await put("aws:kms")).toBe("Allowed");
    expect(
      await simulate(
        { principal, action: "s3:GetObject", resource: stateObject("prod"), context: { "aws:SecureTransport": "false" } },
        admin,
        statePolicy,
      ),
    ).toBe("ExplicitlyDenied");
  });
});

describe("the runbook protects every GitHub environment that has a role", () => {
  const runbook = fs.readFileSync(path.join(__dirname, "..", "docs", "runbooks.md"), "utf8");
  it.each(names)("creates %s with deployment branches limited to main", (env) => {
    expect(runbook).toMatch(new RegExp(`^\\s*github_environment ${env} main( |$)`, "m"));
  });
  // A pull request's jobs run on refs/pull/<n>/merge, which a main-only environment refuses: plan
  // environments take any branch, and prod's plan waits for a reviewer.
  it.each(names)("creates %s-plan", (env) => {
    expect(runbook).toMatch(new RegExp(`^\\s*github_environment ${env}-plan any( |$)`, "m"));
  });
  it("asks for reviewers on prod and prod-plan", () => {
    expect(runbook).toMatch(/^\s*github_environment prod main "\$REVIEWERS"/m);
    expect(runbook).toMatch(/^\s*github_environment prod-plan any "\$REVIEWERS"/m);
  });
  it("its helper limits deployments to main and sets the subject claim template the roles expect", () => {
    expect(runbook).toMatch(/custom_branch_policies":\s*true/);
    expect(runbook).toMatch(/deployment-branch-policies.*-f name=main/);
    expect(runbook).toMatch(/oidc\/customization\/sub/);
    expect(runbook).toMatch(/include_claim_keys.*"repo".*"context".*"job_workflow_ref"/);
  });
});

describe("app instances connect as the app's own database user", () => {
  it.each(ENVIRONMENTS.map((e) => [e.name, e] as const))(
    "%s: the instance role reads the app user's secret, not the master secret",
    (name, config) => {
      const json = synthEnvironment(config).json;
      const boundary = workloadBoundaryArn(account, project, name);
      const document = resourceList(stack.json, "aws_iam_policy").find((p) => p.name === `${project}-boundary-${name}`)!.policy;
      const env: StackIam = { json, region, accountId: account, external: { [boundary]: resourcePolicy(stack, document) } };
      const [db] = Object.keys(resources(json, "aws_db_instance"));
      const masterSecret = `\${aws_db_instance.${db}.master_user_secret[0].secret_arn}`;
      const role = `${project}-${name}-app`;
      expect(can2(env, role, { action: "secretsmanager:GetSecretValue", resource: masterSecret })).toBe(false);
      const appUser = Object.entries(resources(json, "aws_secretsmanager_secret")).find(
        ([, s]) => s.name === `${project}-${name}/database-app-user`,
      );
      expect(appUser).toBeDefined();
      const appUserSecret = `\${aws_secretsmanager_secret.${appUser![0]}.arn}`;
      expect(can2(env, role, { action: "secretsmanager:GetSecretValue", resource: appUserSecret })).toBe(true);
      const [template] = resourceList(json, "aws_launch_template");
      expect(template?.user_data).toContain(`DB_SECRET_ARN='${appUserSecret}'`);
      expect(template?.user_data).not.toContain(masterSecret);
    },
  );
});

function can2(env: StackIam, role: string, request: Request): boolean {
  return allowedBy(request, ...policySets(env, role));
}
