// `npm run new-env`: in a copy of the repository, adds an environment, checks what it wrote and registered,
// that the validator refuses the placeholders (one line each) until they are filled in, and that synth then
// writes the new stack. Also the refusals, which must leave every file as it was.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { load } from "js-yaml";
import { ENVIRONMENTS } from "../environments";
import { PLACEHOLDER, validateEnvironments } from "../environments/schema/validate";
import { environment } from "./support/fixtures";
import type { Json } from "./support/synth";

const root = path.join(__dirname, "..");
const registered = ["environments/index.ts", "environments/bootstrap.ts", ".github/workflows/pull-request.yml", "docs/runbooks.md"];
let work: string;

function copyTree(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "new-env-"));
  const skip = new Set(["node_modules", "dist", "cdktf.out", ".git", "coverage"]);
  fs.cpSync(root, dir, { recursive: true, filter: (src) => !skip.has(path.basename(src)) });
  fs.symlinkSync(fs.realpathSync(path.join(root, "node_modules")), path.join(dir, "node_modules"));
  return dir;
}
const run = (dir: string, command: string, ...args: string[]) => {
  const result = spawnSync(command, args, { cwd: dir, encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
};
const read = (rel: string) => fs.readFileSync(path.join(work, rel), "utf8");

beforeAll(() => {
  work = copyTree();
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A name no environment has yet (the repository may have a qa already). */
const name = ["qa", "uat", "demo", "perf", "preview"].find((n) => !ENVIRONMENTS.some((e) => e.name === n))!;

describe(`npm run new-env -- ${name} --from staging`, () => {
  let printed = "";
  beforeAll(() => {
    const result = run(work, process.execPath, "scripts/new-env.mjs", name, "--from", "staging");
    expect(result.status).toBe(0);
    printed = result.out;
  });

  it("writes the new file: staging's file with the name, the constant and a free VPC range set", () => {
    const qa = read(`environments/${name}.ts`);
    const staging = read("environments/staging.ts");
    expect(qa).toMatch(new RegExp(`^export const ${name}: EnvironmentConfig = \\{$`, "m"));
    expect(qa).toMatch(new RegExp(`^ {2}name: "${name}",$`, "m"));
    const cidr = /vpcCidr: "([^"]+)"/.exec(qa)?.[1];
    expect(ENVIRONMENTS.map((e) => e.network.vpcCidr)).not.toContain(cidr);
    expect(
      validateEnvironments([environment({ name, network: { vpcCidr: cidr } })], ENVIRONMENTS).filter((l) => l.includes("vpcCidr")),
    ).toEqual([]);
    // Everything else is staging's, line for line, apart from the header and the placeholders.
    const differing = qa.split("\n").filter((line) => !staging.split("\n").includes(line));
    expect(
      differing.every((line) =>
        /^\/\/ (qa:|The values are staging's)|export const qa|name: "qa"|vpcCidr|fill-me-in/.test(line.replaceAll(name, "qa")),
      ),
    ).toBe(true);
  });

  it("keeps none of staging's prose: its comments stay in its file, and its acknowledgement's reason is the team's to write", () => {
    const qa = read(`environments/${name}.ts`);
    const staging = read("environments/staging.ts");
    expect(staging).toMatch(/^ +\/\/ /m);
    expect(qa.split("\n").filter((line) => line.includes("//"))).toEqual([
      `// ${name}: made from staging by \`npm run new-env\`; say here what ${name} is for.`,
      `// The values are staging's: say next to a value why ${name} keeps or changes it (staging's reasons stay in environments/staging.ts).`,
    ]);
    expect(qa).toContain(`"network.natGateways": "fill-me-in: why ${name} accepts this"`);
    expect(qa.split("\n").slice(2).join("\n")).not.toMatch(/staging/);
  });

  it("registers it in ENVIRONMENT_FILES, the bootstrap's CI list, the plan matrix and the runbook's GitHub environments, in the same order", () => {
    expect(read("environments/index.ts")).toContain(`import { ${name} } from "./${name}";`);
    const order = [...read("environments/index.ts").matchAll(/^ +"environments\/([a-z0-9]+)\.ts": ([a-z0-9]+),$/gm)].map((m) =>
      m[1] === m[2] ? m[1] : m[0],
    );
    // The list itself, not the examples in the comments around it.
    const list = /^ +environments: \[(.*)\],?$/m.exec(read("environments/bootstrap.ts"))?.[1] ?? "";
    const ci = [...list.matchAll(/\{ name: "([a-z0-9-]+)"/g)].map((m) => m[1]);
    const workflow = load(read(".github/workflows/pull-request.yml")) as Json;
    const matrix = (workflow.jobs.plan.strategy.matrix.include as Json[]).map((m) => [m.environment, m.role, m["plan-key"]]);
    const runbook = [...read("docs/runbooks.md").matchAll(/^github_environment ([a-z0-9-]+) (main|any)\b/gm)].map((m) => `${m[1]} ${m[2]}`);
    const names = ENVIRONMENTS.map((e) => e.name);
    const expected = [...names.slice(0, names.indexOf("staging")), name, ...names.slice(names.indexOf("staging"))];
    expect(order).toEqual(expected);
    expect(ci).toEqual(expected);
    expect(matrix).toEqual(expected.map((e) => [e, `AWS_PLAN_ROLE_ARN_${e.toUpperCase()}`, `AWS_PLAN_KEY_ALIAS_${e.toUpperCase()}`]));
    expect(runbook).toEqual([...expected.map((e) => `${e} main`), ...expected.map((e) => `${e}-plan any`)]);
  });

  it("prints what is left: each placeholder as the validator reports it, then the steps outside the code", () => {
    expect(printed).toMatch(`new-env: wrote environments/${name}.ts from environments/staging.ts`);
    expect(printed).toContain(
      `${name}: edge.domainName = "${name}.fill-me-in.invalid": a placeholder from npm run new-env: set the real value`,
    );
    expect(printed).toMatch(/Apply the bootstrap stack/);
    expect(printed).toMatch(
      `AWS_PLAN_ROLE_ARN_${name.toUpperCase()}, AWS_PLAN_KEY_ALIAS_${name.toUpperCase()} and AWS_APPLY_ROLE_ARN_${name.toUpperCase()}`,
    );
    expect(printed).toMatch(`Create its GitHub environments ${name} (deployments from main only) and ${name}-plan`);
  });

  it('prints what docs/environments.md\'s "Adding an environment" shows, apart from the name, the free range and the copied ref', () => {
    const page = fs.readFileSync(path.join(root, "docs", "environments.md"), "utf8");
    const sample = /^```text\n(new-env: wrote environments\/qa\.ts[\s\S]*?)```$/m.exec(page)?.[1];
    expect(sample).toBeDefined();
    const normalize = (text: string, env: string) =>
      text
        .split(env)
        .join("<env>")
        .split(env.toUpperCase())
        .join("<ENV>")
        .replace(/vpcCidr \d+\.\d+\.\d+\.\d+\/\d+/, "vpcCidr <cidr>")
        .replace(/(compute\.repository\.ref )"[^"]*"/, '$1"<ref>"');
    expect(normalize(printed, name)).toBe(normalize(sample!, "qa"));
  });

  it("synth refuses it with one line per placeholder and writes nothing", () => {
    const result = run(work, "bash", "-c", "node scripts/build.mjs && node dist/main.js");
    expect(result.status).toBe(1);
    const lines = result.out.split("\n").filter((l) => l.startsWith("  "));
    expect(lines).toEqual([
      `  ${name}: acknowledgements["network.natGateways"] = "fill-me-in: why ${name} accepts this": a placeholder from npm run new-env: set the real value`,
      `  ${name}: edge.domainName = "${name}.fill-me-in.invalid": a placeholder from npm run new-env: set the real value`,
      `  ${name}: edge.hostedZone.id = "ZFILLMEIN": a placeholder from npm run new-env: set the real value`,
      `  ${name}: edge.hostedZone.name = "fill-me-in.invalid": a placeholder from npm run new-env: set the real value`,
      `  ${name}: monitoring.alarmEmails[0] = "${name}-alerts@fill-me-in.invalid": a placeholder from npm run new-env: set the real value`,
    ]);
    expect(fs.existsSync(path.join(work, "cdktf.out"))).toBe(false);
  });

  it("synthesizes it once the placeholders are filled in", () => {
    const file = path.join(work, `environments/${name}.ts`);
    const filled = fs
      .readFileSync(file, "utf8")
      .replace(`${name}.fill-me-in.invalid`, `${name}.app.example.org`)
      .replace('{ id: "ZFILLMEIN", name: "fill-me-in.invalid" }', '{ id: "Z0QAZONE000000000001", name: "example.org" }')
      .replace(`${name}-alerts@fill-me-in.invalid`, `${name}-alerts@example.org`)
      .replace(`fill-me-in: why ${name} accepts this`, "one NAT gateway: a zone outage may interrupt testing, never users");
    fs.writeFileSync(file, filled);
    const result = run(work, "bash", "-c", "node scripts/build.mjs && node dist/main.js");
    expect({ status: result.status, problems: result.out.split("\n").filter((l) => /problem|error/i.test(l)) }).toEqual({
      status: 0,
      problems: [],
    });
    expect(result.out).toMatch(new RegExp(`^synth: ${name} +\\d+ resources`, "m"));
    const stack = JSON.parse(fs.readFileSync(path.join(work, `cdktf.out/stacks/${name}/cdk.tf.json`), "utf8")) as Json;
    expect(stack.terraform.backend.s3.key).toBe(`environments/${name}/terraform.tfstate`);
  });
});

describe("new-env refuses", () => {
  let dir: string;
  beforeAll(() => {
    dir = copyTree();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([
    [["staging", "--from", "dev"], /^new-env: staging: an environment of that name exists already$/m],
    [
      ["qa", "--from", "nowhere"],
      new RegExp(`^new-env: --from "nowhere": no such environment; known: ${ENVIRONMENTS.map((e) => e.name).join(", ")}$`, "m"),
    ],
    [["load-test", "--from", "dev"], /^new-env: name "load-test": use 1-20 lowercase letters and digits, starting with a letter$/m],
    [["qa"], /^new-env: usage: npm run new-env -- <name> --from <existing environment>$/m],
  ])("%j, changing nothing", (args, message) => {
    const before = registered.map((f) => fs.readFileSync(path.join(dir, f), "utf8"));
    const result = run(dir, process.execPath, "scripts/new-env.mjs", ...args);
    expect(result.status).toBe(1);
    expect(result.out).toMatch(message);
    expect(registered.map((f) => fs.readFileSync(path.join(dir, f), "utf8"))).toEqual(before);
    expect(fs.readdirSync(path.join(dir, "environments")).sort()).toEqual(fs.readdirSync(path.join(root, "environments")).sort());
  });
});

describe("the placeholder check", () => {
  it(`rejects any value holding ${PLACEHOLDER}, one line per field, wherever it is`, () => {
    const repository = { ...environment().compute.repository, url: `https://${PLACEHOLDER}.invalid/app.git` };
    const config = environment({ tags: { Owner: `team@${PLACEHOLDER}.invalid` }, compute: { repository } });
    expect(
      validateEnvironments([config])
        .filter((l) => l.includes("placeholder"))
        .sort(),
    ).toEqual([
      `dev: compute.repository.url = "https://${PLACEHOLDER}.invalid/app.git": a placeholder from npm run new-env: set the real value`,
      `dev: tags.Owner = "team@${PLACEHOLDER}.invalid": a placeholder from npm run new-env: set the real value`,
    ]);
  });
});
