// Adds an environment: `npm run new-env -- <name> --from <existing>`. Writes environments/<name>.ts as a
// copy of the existing environment's values (not its comments, which explain its own choices) with the name,
// the exported constant and a free VPC CIDR set, and placeholders for what only you know (domain, hosted
// zone, alarm emails, the reasons of acknowledgements and waivers) that the validator rejects until they are
// filled in; registers it in environments/index.ts (ENVIRONMENT_FILES), the bootstrap's
// ci.environments, the pull-request workflow's plan matrix and the runbook's GitHub environments; then
// prints what is left to do. Changes nothing if any step fails.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
/** Marks a value new-env could not know; environments/schema/validate.ts rejects any value containing it. */
const PLACEHOLDER = "fill-me-in";
const USAGE = "usage: npm run new-env -- <name> --from <existing environment>";

function fail(message) {
  console.error(`new-env: ${message}`);
  process.exit(1);
}

const args = process.argv.slice(2);
const name = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--from");
const from = args[args.indexOf("--from") + 1];
if (!name || !args.includes("--from") || !from) fail(USAGE);
// GitHub variable names (AWS_PLAN_ROLE_ARN_<NAME>) take letters, digits and underscores only.
if (!/^[a-z][a-z0-9]{0,19}$/.test(name))
  fail(`name ${JSON.stringify(name)}: use 1-20 lowercase letters and digits, starting with a letter`);

const file = (rel) => join(root, rel);
const read = (rel) => readFileSync(file(rel), "utf8");

// The environments as the code defines them (built the way synth builds them).
execFileSync(process.execPath, [file("scripts/build.mjs")], { cwd: root, stdio: "inherit" });
const { ENVIRONMENTS } = require(file("dist/environments/index.js"));
const { overlaps, parseCidr } = require(file("dist/modules/primitives/cidr.js"));
const names = ENVIRONMENTS.map((e) => e.name);
const source = ENVIRONMENTS.find((e) => e.name === from);
if (!source) fail(`--from ${JSON.stringify(from)}: no such environment; known: ${names.join(", ")}`);
if (names.includes(name)) fail(`${name}: an environment of that name exists already`);
const target = `environments/${name}.ts`;
if (existsSync(file(target))) fail(`${target} exists already`);
const sourceFile = `environments/${from}.ts`;
if (!existsSync(file(sourceFile))) fail(`${sourceFile}: not found (new-env copies an environment from its own file)`);

/** Replaces exactly one match of `pattern` in `text`, or fails naming `what` and `where`. */
function replaceOne(text, pattern, replacement, what, where) {
  const matches = text.match(new RegExp(pattern.source, `${pattern.flags.replace("g", "")}g`)) ?? [];
  if (matches.length !== 1)
    fail(`${where}: expected one ${what}, found ${matches.length}; edit it by hand (docs/environments.md: "Adding an environment")`);
  return text.replace(pattern, replacement);
}

// A free VPC range: the first 10.x.0.0/16 (x a multiple of 10) that overlaps no environment's.
const taken = ENVIRONMENTS.map((e) => parseCidr(e.network.vpcCidr)).filter(Boolean);
const prefix = parseCidr(source.network.vpcCidr)?.prefixLength ?? 16;
let cidr;
for (let second = 10; second <= 250 && !cidr; second += 10) {
  const candidate = `10.${second}.0.0/${prefix}`;
  if (!taken.some((t) => overlaps(t, parseCidr(candidate)))) cidr = candidate;
}
if (!cidr) fail("no free 10.x.0.0 range: choose network.vpcCidr by hand");

const constant = name;
const domain = `${name}.${PLACEHOLDER}.invalid`;
let text = read(sourceFile);
// The source's comments explain the source's choices ("keeps staging cheap", "the tag that goes to prod
// next"): they stay in its file, and the copy starts with a header about itself.
text = text.replace(/^(\/\/.*\n)+/, "");
text = text.replace(/^[ \t]*\/\/.*\n/gm, "").replace(/^[ \t]*\/\*[\s\S]*?\*\/[ \t]*\n/gm, "");
text =
  `// ${name}: made from ${from} by \`npm run new-env\`; say here what ${name} is for.\n` +
  `// The values are ${from}'s: say next to a value why ${name} keeps or changes it (${from}'s reasons stay in ${sourceFile}).\n` +
  text;
text = replaceOne(
  text,
  /export const \w+: EnvironmentConfig = \{/,
  `export const ${constant}: EnvironmentConfig = {`,
  "exported EnvironmentConfig",
  sourceFile,
);
text = replaceOne(text, new RegExp(`name: "${from}"`), `name: "${name}"`, `name: "${from}"`, sourceFile);
text = replaceOne(text, /vpcCidr: "[^"]*"/, `vpcCidr: "${cidr}"`, "network.vpcCidr string", sourceFile);
text = replaceOne(text, /domainName: "[^"]*"/, `domainName: "${domain}"`, "edge.domainName string", sourceFile);
if (source.edge.alternativeNames?.length) {
  const names = source.edge.alternativeNames.map((n) =>
    n.endsWith(`.${source.edge.domainName}`) ? n.slice(0, -source.edge.domainName.length) + domain : `${n.split(".")[0]}.${domain}`,
  );
  text = replaceOne(
    text,
    /alternativeNames: \[[^\]]*\]/,
    `alternativeNames: ${JSON.stringify(names).replace(/,/g, ", ")}`,
    "edge.alternativeNames list",
    sourceFile,
  );
}
if (source.edge.hostedZone) {
  const zone = `hostedZone: { id: "Z${PLACEHOLDER.replace(/-/g, "").toUpperCase()}", name: "${PLACEHOLDER}.invalid" }`;
  text = replaceOne(text, /hostedZone: \{[^}]*\}/, zone, "edge.hostedZone object", sourceFile);
}
// An acknowledgement or waiver is a decision about one environment, with its reason: the copy keeps the
// setting it covers, and its reason is for the team to write.
for (const field of ["acknowledgements", "waivers"]) {
  const count = Object.keys(source[field] ?? {}).length;
  if (count === 0) continue;
  const block = new RegExp(`^( *)${field}: \\{([^}]*)\\}`, "m");
  const body = text.match(block)?.[2] ?? "";
  const reasons = /(:\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)/g;
  if ((body.match(reasons) ?? []).length !== count)
    fail(`${sourceFile}: expected ${count} reasons in ${field}; edit it by hand (docs/environments.md: "Adding an environment")`);
  text = text.replace(block, (whole) => whole.replace(reasons, `$1"${PLACEHOLDER}: why ${name} accepts this"`));
}
if (source.monitoring.alarmEmails?.length) {
  text = replaceOne(
    text,
    /alarmEmails: \[[^\]]*\]/,
    `alarmEmails: ["${name}-alerts@${PLACEHOLDER}.invalid"]`,
    "monitoring.alarmEmails list",
    sourceFile,
  );
}

// Registration: after the source environment's import, before it in ENVIRONMENT_FILES (a new environment is
// usually a step on the way to the one it copies), and the same in CI.
let index = read("environments/index.ts");
index = replaceOne(
  index,
  new RegExp(`(import \\{ ${from} \\} from "\\./${from}";\\n)`),
  `$1import { ${constant} } from "./${name}";\n`,
  `import of ./${from}`,
  "environments/index.ts",
);
index = replaceOne(
  index,
  new RegExp(`^( *)"environments/${from}\\.ts": ${from},$`, "m"),
  `$1"${target}": ${constant},\n$&`,
  `"environments/${from}.ts": ${from} in ENVIRONMENT_FILES`,
  "environments/index.ts",
);

let bootstrap = read("environments/bootstrap.ts");
// The list itself (`environments: [...]` on a line of its own), not the examples in its comments.
bootstrap = replaceOne(
  bootstrap,
  new RegExp(`^( +environments: \\[.*)\\{ name: "${from}"`, "m"),
  `$1{ name: "${name}" }, { name: "${from}"`,
  `{ name: "${from}" } in ci.environments`,
  "environments/bootstrap.ts",
);

const workflow = ".github/workflows/pull-request.yml";
let pullRequest = read(workflow);
const role = (env) => `AWS_PLAN_ROLE_ARN_${env.toUpperCase()}`;
const planKey = (env) => `AWS_PLAN_KEY_ALIAS_${env.toUpperCase()}`;
pullRequest = replaceOne(
  pullRequest,
  new RegExp(`( +)- environment: ${from}\\n( +)role: ${role(from)}\\n( +)plan-key: ${planKey(from)}\\n`),
  `$1- environment: ${name}\n$2role: ${role(name)}\n$3plan-key: ${planKey(name)}\n$&`,
  `plan matrix entry for ${from} (environment, role, plan-key)`,
  workflow,
);

// The runbook's list of GitHub environments: the new one's two, each before the source's.
const runbook = "docs/runbooks.md";
let runbookText = read(runbook);
for (const [suffix, branches] of [
  ["", "main"],
  ["-plan", "any"],
]) {
  runbookText = replaceOne(
    runbookText,
    new RegExp(`^github_environment ${from}${suffix} ${branches}\\b.*$`, "m"),
    (line) => `${line.replace(`github_environment ${from}`, `github_environment ${name}`)}\n${line}`,
    `github_environment ${from}${suffix} line`,
    runbook,
  );
}

writeFileSync(file(target), text);
writeFileSync(file("environments/index.ts"), index);
writeFileSync(file("environments/bootstrap.ts"), bootstrap);
writeFileSync(file(workflow), pullRequest);
writeFileSync(file(runbook), runbookText);

// What the validator still rejects in the new environment is exactly what is left to fill in.
execFileSync(process.execPath, [file("scripts/build.mjs")], { cwd: root, stdio: "inherit" });
for (const key of Object.keys(require.cache)) if (key.startsWith(file("dist/"))) delete require.cache[key];
const after = require(file("dist/environments/index.js")).ENVIRONMENTS;
const { validateEnvironments } = require(file("dist/environments/schema/validate.js"));
const created = after.find((e) => e.name === name);
const problems = validateEnvironments([created], after);

const out = (line = "") => console.log(line);
out(
  `new-env: wrote ${target} from ${sourceFile}: name "${name}", export ${constant}, network.vpcCidr ${cidr} (overlaps no other environment)`,
);
out(
  `new-env: registered ${name} in environments/index.ts (ENVIRONMENT_FILES), environments/bootstrap.ts (ci.environments), ${workflow} (plan matrix) and ${runbook} (GitHub environments)`,
);
out();
out("Left to do:");
let step = 0;
const todo = (line) => out(`  ${++step}. ${line}`);
if (problems.length > 0) {
  todo(`Fill in ${target}; until then synth refuses it with:`);
  for (const line of problems) out(`       ${line}`);
}
todo(
  `Review what ${name} copied from ${from}: sizes (database, cache, compute), production: ${created.production}, ` +
    `and the code it runs (compute.repository.ref ${JSON.stringify(created.compute.repository.ref)}).`,
);
todo(`npm run synth, then npm test.`);
todo(
  `Apply the bootstrap stack: it creates ${name}'s permissions boundary and its CI plan and apply roles, and adds ${name}'s state and names to the other environments' fences.`,
);
todo(
  `Set the repository variables ${role(name)}, ${planKey(name)} and AWS_APPLY_ROLE_ARN_${name.toUpperCase()} from the bootstrap stack's outputs ci_${name}_plan_role_arn, ci_${name}_plan_key_alias and ci_${name}_apply_role_arn.`,
);
todo(
  `Create its GitHub environments ${name} (deployments from main only) and ${name}-plan, before any workflow runs: ` +
    `the github_environment lines for ${name} in ${runbook} ("First-time bootstrap of an account").`,
);
todo(`To apply ${name} on merge, add it to the apply matrix in .github/workflows/apply.yml.`);
todo(`Deploy: cd cdktf.out/stacks/${name} && terraform init && terraform plan (docs/deploying.md: "Deploying an environment").`);
