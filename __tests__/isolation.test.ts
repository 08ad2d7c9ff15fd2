// Environment isolation, proven transitively through the IAM simulator (support/simulator.ts): starting from
// each environment's CI apply role, every role it can create (with any boundary it is allowed to set), edit
// (widen to `*:*`, re-bound), pass to a service, assume, or run code as (commands on an instance, a function
// it can invoke or rewrite) becomes a principal, and so on until nothing new is reached. Each principal
// reached is then asked for every other environment's secrets, database, keys, state objects and locks,
// and DNS records: none may be reached. The account is assumed to hold, besides this project, what accounts
// commonly do: a role that trusts the account and administers it, and an untagged instance and function
// running as it (stand-ins named as such below).
import { performance } from "node:perf_hooks";
import { Testing } from "cdktf";
import { bootstrap, ENVIRONMENTS } from "../environments";
import type { EnvironmentConfig } from "../environments/schema/types";
import { buildBootstrap } from "../modules/stacks/bootstrap-stack";
import { boundaryPolicy, identityPolicies, resourcePolicy, StackIam, trustPolicy } from "./support/iam";
import { Outcome, simulate, SimRequest } from "./support/simulator";
import { Json, resourceList, resources, synth, synthEnvironment } from "./support/synth";

const { accountId: account, region, project } = bootstrap;
const ADMIN: Json = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
const ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess";
const roleArn = (name: string) => `arn:aws:iam::${account}:role/${name}`;
const bucket = `arn:aws:s3:::${bootstrap.state.bucket}`;
const lockTable = `arn:aws:dynamodb:${region}:${account}:table/${bootstrap.state.lockTable}`;
const stateKeyOf = (env: string) => `environments/${env}/terraform.tfstate`;
/** An ACM validation record name: `_` and a 32-character token, under the name it validates. */
const validationName = (name: string) => `_0123456789abcdef0123456789abcdef.${name.replace(/^\*\./, "")}`;

const boot: StackIam = { json: synth(buildBootstrap(Testing.app(), bootstrap, ENVIRONMENTS)).json, region, accountId: account };
/** Every managed policy of the bootstrap stack, by ARN, references resolved: the boundaries a role may carry. */
const managed: Record<string, Json> = Object.fromEntries(
  resourceList(boot.json, "aws_iam_policy").map((p) => [`arn:aws:iam::${account}:policy/${p.name}`, resourcePolicy(boot, p.policy)]),
);
const boundaryDocs: Record<string, Json> = { ...managed, [ADMIN_ARN]: ADMIN };
const bucketPolicy = resourcePolicy(
  boot,
  resourceList(boot.json, "aws_s3_bucket_policy").find((p) => String(p.bucket).includes("state_bucket"))!.policy,
);

interface Role {
  readonly name: string;
  readonly identity: readonly Json[];
  readonly boundaryArn?: string;
  readonly trust: Json;
  /** Where the role comes from, for messages. */
  readonly origin: string;
}

const envStacks = new Map(
  ENVIRONMENTS.map((e) => [
    e.name,
    { config: e, iam: { json: synthEnvironment(e).json, region, accountId: account, external: managed } as StackIam },
  ]),
);

function rolesOf(stack: StackIam, origin: string): Role[] {
  return resourceList(stack.json, "aws_iam_role").map((r) => ({
    name: String(r.name),
    identity: identityPolicies(stack, r.name),
    boundaryArn: boundaryPolicy(stack, r.name) ? resourcePolicyArn(stack, r) : undefined,
    trust: trustPolicy(stack, r.name),
    origin,
  }));
}

function resourcePolicyArn(stack: StackIam, role: Json): string {
  const ref = /^\$\{aws_iam_policy\.([A-Za-z0-9_-]+)\.arn\}$/.exec(String(role.permissions_boundary));
  return ref
    ? `arn:aws:iam::${account}:policy/${resources(stack.json, "aws_iam_policy")[ref[1]!]!.name}`
    : String(role.permissions_boundary);
}

/** Stand-in: a role an account commonly has besides this project, trusting the account and administering it. */
const OPS_ROLE: Role = {
  name: "ops-admin",
  identity: [ADMIN],
  trust: {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "sts:AssumeRole" }],
  },
  origin: "stand-in for the account's other roles",
};

const existingRoles: Role[] = [
  ...rolesOf(boot, "bootstrap"),
  ...[...envStacks.values()].flatMap((s) => rolesOf(s.iam, s.config.name)),
  OPS_ROLE,
];

/** Where code runs as a role: each environment's instances (tagged) and the stand-in's untagged instance and function. */
const computeOf: ReadonlyArray<{
  readonly arn: string;
  readonly tag?: string;
  readonly role: string;
  readonly actions: readonly string[];
}> = [
  ...ENVIRONMENTS.map((e) => ({
    arn: `arn:aws:ec2:${region}:${account}:instance/i-0${e.name}`,
    tag: e.name,
    role: `${e.project}-${e.name}-app`,
    actions: ["ssm:SendCommand", "ssm:StartSession", "ec2-instance-connect:SendSSHPublicKey"],
  })),
  {
    arn: `arn:aws:ec2:${region}:${account}:instance/i-0ops`,
    role: OPS_ROLE.name,
    actions: ["ssm:SendCommand", "ssm:StartSession", "ec2:ModifyInstanceAttribute"],
  },
  {
    arn: `arn:aws:lambda:${region}:${account}:function:ops`,
    role: OPS_ROLE.name,
    actions: ["lambda:InvokeFunction", "lambda:UpdateFunctionCode"],
  },
];

interface Principal {
  readonly arn: string;
  readonly identity: readonly Json[];
  readonly boundary?: Json;
  /** How it was reached from the apply role. */
  readonly path: string;
}

let simulations = 0;
const ask = (p: Principal, request: Omit<SimRequest, "principal">, resource?: Json): Promise<Outcome> => {
  simulations++;
  return simulate({ ...request, principal: p.arn }, p, resource);
};
const allowed = async (p: Principal, request: Omit<SimRequest, "principal">, resource?: Json) =>
  (await ask(p, request, resource)) === "Allowed";

const asPrincipal = (role: Role, path: string, identity?: readonly Json[], boundaryArn = role.boundaryArn): Principal => ({
  arn: roleArn(role.name),
  identity: identity ?? role.identity,
  boundary: boundaryArn ? (boundaryDocs[boundaryArn] ?? fail(`no document for boundary ${boundaryArn}`)) : undefined,
  path,
});

function fail(message: string): never {
  throw new Error(message);
}

/** Names a principal might give a new role: every environment's prefix, the CI roles' and a name of its own. */
const candidateNames = [...ENVIRONMENTS.map((e) => `${e.project}-${e.name}-new`), `${project}-ci-new`, "ops-new"];
const boundaryCandidates: readonly (string | undefined)[] = [...Object.keys(boundaryDocs), undefined];
const withBoundary = (arn: string | undefined): Record<string, string> => (arn ? { "iam:PermissionsBoundary": arn } : {});

/** Every principal `p` can become in one step. */
async function step(p: Principal, env: EnvironmentConfig): Promise<Principal[]> {
  const next: Principal[] = [];
  const tags = [{}, { "aws:RequestTag/Environment": env.name, "aws:TagKeys": ["Environment"] }];
  // Create a role and give it `*:*`.
  for (const name of candidateNames) {
    for (const boundaryArn of boundaryCandidates) {
      const request = (action: string, context: Json = {}) => ({
        action,
        resource: roleArn(name),
        context: { ...withBoundary(boundaryArn), ...context },
      });
      let created = false;
      for (const tag of tags) created ||= await allowed(p, request("iam:CreateRole", tag));
      if (!created) continue;
      const widened =
        (await allowed(p, request("iam:PutRolePolicy"))) ||
        (await allowed(p, request("iam:AttachRolePolicy", { "iam:PolicyARN": ADMIN_ARN })));
      const role: Role = { name, identity: [], boundaryArn, trust: {}, origin: "created" };
      next.push(
        asPrincipal(
          role,
          `${p.path} -> creates ${name} (boundary ${boundaryArn ?? "none"})${widened ? " with *:*" : ""}`,
          widened ? [ADMIN] : [],
        ),
      );
    }
  }
  for (const role of existingRoles) {
    const arn = roleArn(role.name);
    const on = (action: string, context: Json = {}) => ({
      action,
      resource: arn,
      context: { ...withBoundary(role.boundaryArn), ...context },
    });
    // Edit it: widen its policies, change or remove its boundary.
    const widened =
      (await allowed(p, on("iam:PutRolePolicy"))) || (await allowed(p, on("iam:AttachRolePolicy", { "iam:PolicyARN": ADMIN_ARN })));
    const identity = widened ? [ADMIN] : role.identity;
    const boundaries = new Set<string | undefined>([role.boundaryArn]);
    for (const b of boundaryCandidates) {
      if (b && (await allowed(p, { action: "iam:PutRolePermissionsBoundary", resource: arn, context: withBoundary(b) }))) boundaries.add(b);
    }
    if (await allowed(p, on("iam:DeleteRolePermissionsBoundary"))) boundaries.add(undefined);
    for (const b of boundaries) {
      if (widened || b !== role.boundaryArn)
        next.push(asPrincipal(role, `${p.path} -> edits ${role.name} (${widened ? "*:*, " : ""}boundary ${b ?? "none"})`, identity, b));
    }
    // Pass it to a service, or assume it (its trust policy, or one it may rewrite).
    if (await allowed(p, on("iam:PassRole"))) next.push(asPrincipal(role, `${p.path} -> passes ${role.name}`));
    const trustEditable = await allowed(p, on("iam:UpdateAssumeRolePolicy"));
    const trust = trustEditable
      ? { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: p.arn }, Action: "sts:AssumeRole" }] }
      : role.trust;
    if (await allowed(p, { action: "sts:AssumeRole", resource: arn }, trust))
      next.push(asPrincipal(role, `${p.path} -> assumes ${role.name}`));
  }
  // Run code where it runs as another role.
  for (const target of computeOf) {
    for (const action of target.actions) {
      const context: Record<string, string> = target.tag ? { "aws:ResourceTag/Environment": target.tag } : {};
      if (await allowed(p, { action, resource: target.arn, context })) {
        next.push(
          asPrincipal(
            existingRoles.find((r) => r.name === target.role)!,
            `${p.path} -> ${action} on ${target.arn}`,
          ),
        );
        break;
      }
    }
  }
  return next;
}

const keyOf = (p: Principal) => JSON.stringify([p.arn, p.identity, p.boundary ?? null]);

/** Everything reachable from `start`, each principal once. */
async function closure(start: Principal, env: EnvironmentConfig): Promise<Principal[]> {
  const seen = new Map<string, Principal>([[keyOf(start), start]]);
  const queue = [start];
  for (let round = 0; queue.length > 0; round++) {
    if (round > 200) throw new Error("closure does not settle after 200 principals");
    for (const next of await step(queue.shift()!, env)) {
      if (seen.has(keyOf(next))) continue;
      seen.set(keyOf(next), next);
      queue.push(next);
    }
  }
  return [...seen.values()];
}

interface Target {
  readonly what: string;
  readonly request: Omit<SimRequest, "principal">;
  readonly resourcePolicy?: Json;
}

/**
 * What must stay out of reach of every other environment: `env`'s secrets, database, keys, buckets (the boot
 * bundle's, the access logs'), the timed jobs' table, state, lock, records.
 */
function targetsOf(env: EnvironmentConfig): Target[] {
  const { iam } = envStacks.get(env.name)!;
  const tagged = { "aws:ResourceTag/Environment": env.name };
  const targets: Target[] = [];
  for (const secret of resourceList(iam.json, "aws_secretsmanager_secret")) {
    const arn = `arn:aws:secretsmanager:${region}:${account}:secret:${secret.name}-AbC123`;
    for (const action of ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"])
      targets.push({ what: `${action} ${secret.name}`, request: { action, resource: arn, context: tagged } });
  }
  for (const db of resourceList(iam.json, "aws_db_instance")) {
    const arn = `arn:aws:rds:${region}:${account}:db:${db.identifier}`;
    for (const action of ["rds:ModifyDBInstance", "rds:DeleteDBInstance"])
      targets.push({ what: `${action} ${db.identifier}`, request: { action, resource: arn, context: tagged } });
  }
  for (const [name, key] of Object.entries(resources(iam.json, "aws_kms_key"))) {
    const arn = `arn:aws:kms:${region}:${account}:key/${name}`;
    const keyPolicy = resourcePolicy(iam, key.policy);
    for (const action of ["kms:Decrypt", "kms:PutKeyPolicy"])
      targets.push({
        what: `${action} ${env.name}'s key ${key.description}`,
        request: { action, resource: arn, context: tagged },
        resourcePolicy: keyPolicy,
      });
  }
  // The boot bundle's bucket (any object, any version, its policy) and the timed jobs' table.
  const buckets = resources(iam.json, "aws_s3_bucket");
  for (const policy of resourceList(iam.json, "aws_s3_bucket_policy")) {
    const ref = /^\$\{aws_s3_bucket\.([^.]+)\.(id|bucket)\}$/.exec(String(policy.bucket));
    const name = String(buckets[ref?.[1] ?? ""]?.bucket ?? fail(`no bucket for ${policy.bucket}`));
    const bucketPolicyOf = resourcePolicy(iam, policy.policy);
    const requests: Array<[string, string, Record<string, string>]> = [
      ["s3:GetObject", `arn:aws:s3:::${name}/boot/x.sh.gz`, {}],
      ["s3:PutObject", `arn:aws:s3:::${name}/boot/x.sh.gz`, { "s3:x-amz-server-side-encryption": "aws:kms" }],
      ["s3:DeleteObjectVersion", `arn:aws:s3:::${name}/boot/x.sh.gz`, {}],
      ["s3:PutBucketPolicy", `arn:aws:s3:::${name}`, {}],
    ];
    for (const [action, resource, context] of requests)
      targets.push({ what: `${action} ${resource}`, request: { action, resource, context }, resourcePolicy: bucketPolicyOf });
  }
  for (const table of resourceList(iam.json, "aws_dynamodb_table")) {
    const arn = `arn:aws:dynamodb:${region}:${account}:table/${table.name}`;
    for (const action of ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"])
      targets.push({ what: `${action} ${table.name}`, request: { action, resource: arn, context: tagged } });
  }
  const object = `${bucket}/${stateKeyOf(env.name)}`;
  for (const [action, resource] of [
    ["s3:GetObject", object],
    ["s3:PutObject", object],
    ["s3:DeleteObject", `${object}.tflock`],
  ] as const) {
    const context: Record<string, string> = action === "s3:PutObject" ? { "s3:x-amz-server-side-encryption": "aws:kms" } : {};
    targets.push({ what: `${action} ${resource}`, request: { action, resource, context }, resourcePolicy: bucketPolicy });
  }
  for (const action of ["dynamodb:PutItem", "dynamodb:DeleteItem"]) {
    targets.push({
      what: `${action} ${env.name}'s lock item`,
      request: {
        action,
        resource: lockTable,
        context: { "aws:ResourceTag/Environment": "shared", "dynamodb:LeadingKeys": [`${bootstrap.state.bucket}/${stateKeyOf(env.name)}`] },
      },
    });
  }
  for (const [name, type] of recordsOf(env)) {
    targets.push({
      what: `route53:ChangeResourceRecordSets ${type} ${name}`,
      request: {
        action: "route53:ChangeResourceRecordSets",
        resource: `arn:aws:route53:::hostedzone/${env.edge.hostedZone!.id}`,
        context: {
          "route53:ChangeResourceRecordSetsNormalizedRecordNames": [name],
          "route53:ChangeResourceRecordSetsRecordTypes": [type],
          "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
        },
      },
    });
  }
  return targets;
}

/** The records an environment's stack writes: an alias A record per name, a validation CNAME per name. */
function recordsOf(env: EnvironmentConfig): Array<[string, string]> {
  if (!env.edge.hostedZone) return [];
  const names = [env.edge.domainName, ...(env.edge.alternativeNames ?? [])];
  return [
    ...names.filter((n) => !n.startsWith("*.")).map((n) => [n, "A"] as [string, string]),
    ...names.map((n) => [validationName(n), "CNAME"] as [string, string]),
  ];
}

const applyRoleName = (env: string) => `${project}-ci-${env}-apply`;

describe.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("what %s's apply role can reach, transitively", (name, env) => {
  const apply = existingRoles.find((r) => r.name === applyRoleName(name))!;
  let reached: Principal[] = [];
  let seconds = 0;

  beforeAll(async () => {
    const start = performance.now();
    const before = simulations;
    reached = await closure(asPrincipal(apply, applyRoleName(name)), env);
    seconds = (performance.now() - start) / 1000;
    process.stdout.write(
      `isolation: ${name}: ${reached.length} principals reached, ${simulations - before} simulations, ${seconds.toFixed(1)} s\n`,
    );
    if (process.env.ISOLATION_PATHS) process.stdout.write(`${reached.map((p) => `  ${p.path}`).join("\n")}\n`);
  }, 120_000);

  it("reaches what the apply role needs: new roles only under the environment's boundary, its own roles widened, passed", () => {
    const paths = reached.map((p) => p.path).join("\n");
    expect(paths).toMatch(
      new RegExp(`creates ${project}-${name}-new \\(boundary arn:aws:iam::${account}:policy/${project}-boundary-${name}\\) with \\*:\\*`),
    );
    expect(paths).toMatch(new RegExp(`edits ${project}-${name}-app \\(\\*:\\*`));
    expect(paths).toMatch(new RegExp(`passes ${project}-${name}-app`));
  });

  it("and everything it reaches stays out of every other environment: secrets, database, keys, buckets, jobs table, state, locks, records", async () => {
    const breaches: string[] = [];
    for (const other of ENVIRONMENTS.filter((e) => e.name !== name)) {
      for (const principal of reached) {
        for (const target of targetsOf(other)) {
          if ((await ask(principal, target.request, target.resourcePolicy)) === "Allowed")
            breaches.push(`${principal.path}: ${target.what}`);
        }
      }
    }
    // The bootstrap's own state, too.
    for (const principal of reached) {
      const resource = `${bucket}/bootstrap/terraform.tfstate`;
      if (await allowed(principal, { action: "s3:GetObject", resource }, bucketPolicy))
        breaches.push(`${principal.path}: s3:GetObject ${resource}`);
    }
    expect({ breaches: breaches.length, first: breaches.slice(0, 20) }).toEqual({ breaches: 0, first: [] });
  }, 120_000);

  it("while the apply role and a role it creates still reach everything of their own environment", async () => {
    const created = reached.find((p) =>
      p.path.endsWith(`creates ${project}-${name}-new (boundary arn:aws:iam::${account}:policy/${project}-boundary-${name}) with *:*`),
    )!;
    const own = targetsOf(env);
    expect(own.length).toBeGreaterThan(0);
    const refused: string[] = [];
    for (const target of own) {
      if (!(await allowed(reached[0]!, target.request, target.resourcePolicy))) refused.push(`apply role: ${target.what}`);
      // A workload role never needs the state (the bucket and the state key refuse it); the rest it may do.
      const isState = target.request.resource.startsWith(`${bucket}/`) || target.request.resource === lockTable;
      if (!isState && !/PutKeyPolicy/.test(target.what) && !(await allowed(created, target.request, target.resourcePolicy)))
        refused.push(`created role: ${target.what}`);
    }
    expect(refused).toEqual([]);
  }, 120_000);
});
