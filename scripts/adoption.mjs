// The adoption check: does the template survive being made someone else's? Copies the working tree (tracked
// files plus uncommitted changes and new files, never node_modules) to a temporary directory, rebrands it
// the way a new team would (account, region and zones, domain and hosted zone, app repository and refs,
// project name, CI repository) by editing the values in environments/*.ts alone (nothing outside it names the
// project: the workflows take role ARNs and plan keys from repository variables), adds a `qa` environment with `npm run new-env`, fills in what that
// command leaves, then type-checks, synthesizes and runs the whole jest suite there. All must pass. Prints each step's time; the copy is removed unless ADOPTION_KEEP=1.
//
// Usage: node scripts/adoption.mjs [--only account|rebrand] [--qa new-env|none]
//   --only account   change nothing but the account id (then check)
//   --only rebrand   the whole rebrand, no new environment
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const only = option("--only", "all");
const qaMode = option("--qa", only === "all" ? "new-env" : "none");

/** The team adopting the template: every value differs from the shipped one. */
const team = {
  accountId: "420987654321",
  region: "us-east-2",
  zones: ["us-east-2a", "us-east-2b", "us-east-2c"],
  project: "storefront",
  infraRepository: "https://github.com/acme-retail/storefront-infra",
  githubRepository: "acme-retail/storefront-infra",
  appUrl: "https://github.com/acme-retail/storefront.git",
  devRef: "refs/heads/develop",
  stagingRef: "refs/tags/v3.8.0",
  prodRef: "4be1c0de5f3a9b7e2d8c6a1f0e9d7c5b3a2f1e0d",
  zoneName: "acme-retail.net",
  appDomain: "shop.acme-retail.net",
  stagingZoneId: "Z04417352H1ST4G1NGXQ",
  prodZoneId: "Z0815294PR0DZ0NE7QLK",
  timeZone: "America/Chicago",
  qaZoneId: "Z09931117QAZ0NE8XWPL",
};

const started = Date.now();
const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1);
const say = (line) => console.log(`adoption: ${line}`);

const work = mkdtempSync(join(tmpdir(), "adoption-"));
let failed = false;
const cleanup = () => {
  if (process.env.ADOPTION_KEEP === "1") say(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
};
process.on("exit", cleanup);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));

// 1. The working tree as git sees it: tracked and new files, as they are on disk now.
let t = Date.now();
const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" })
  .split("\0")
  .filter((f) => f && f !== "node_modules" && !f.startsWith("node_modules/"));
let copied = 0;
for (const file of listed) {
  let stat;
  try {
    stat = statSync(join(root, file));
  } catch {
    continue; // deleted in the working tree
  }
  if (!stat.isFile()) continue;
  mkdirSync(dirname(join(work, file)), { recursive: true });
  copyFileSync(join(root, file), join(work, file));
  copied++;
}
symlinkSync(realpathSync(join(root, "node_modules")), join(work, "node_modules"));
say(`copied ${copied} files to ${work} (${seconds(t)} s)`);

/** Replaces every `from` in `file` (relative to the copy); fails when it is not there, so drift is caught. */
function edit(file, from, to) {
  const path = join(work, file);
  const text = readFileSync(path, "utf8");
  if (!text.includes(from)) throw new Error(`adoption: ${file} has no ${JSON.stringify(from)} to change; the rebrand below is out of date`);
  writeFileSync(path, text.split(from).join(to));
}
/** Sets the string value of `key: "..."` in `file`, whatever it is now. */
function setValue(file, key, value) {
  const path = join(work, file);
  const text = readFileSync(path, "utf8");
  const pattern = new RegExp(`(\\b${key}\\s*[:=]\\s*)"[^"]*"`);
  if (!pattern.test(text)) throw new Error(`adoption: ${file} has no ${key} string to set`);
  writeFileSync(path, text.replace(pattern, `$1${JSON.stringify(value)}`));
}
const read = (file) => readFileSync(join(work, file), "utf8");

// 2. The rebrand, as a user would type it.
t = Date.now();
setValue("environments/base.ts", "accountId", team.accountId);
if (only !== "account") {
  if (!/\bproject\s*=\s*"[^"]+"/.test(read("environments/base.ts")))
    throw new Error("adoption: environments/base.ts has no project string to change");
  setValue("environments/base.ts", "project", team.project);
  setValue("environments/base.ts", "region", team.region);
  setValue("environments/base.ts", "repository", team.infraRepository);
  setValue("environments/base.ts", "url", team.appUrl);
  setValue("environments/bootstrap.ts", "githubRepository", team.githubRepository);
  for (const env of ["dev", "staging", "prod"]) {
    const file = `environments/${env}.ts`;
    const zones = read(file).match(/availabilityZones: \[[^\]]*\]/)[0];
    const count = zones.split(",").length;
    edit(file, zones, `availabilityZones: ${JSON.stringify(team.zones.slice(0, count)).replace(/,/g, ", ")}`);
    const domain = read(file).match(/domainName: "([^"]+)"/)[1];
    const label = domain.split(".")[0];
    const mine = env === "prod" ? team.appDomain : `${label}.${team.appDomain}`;
    edit(file, `"${domain}"`, `"${mine}"`);
    if (env === "prod") edit(file, `"www.${domain}"`, `"www.${mine}"`);
    const zone = read(file).match(/hostedZone: \{ id: "([^"]+)", name: "([^"]+)" \}/);
    if (zone)
      edit(file, zone[0], `hostedZone: { id: "${env === "prod" ? team.prodZoneId : team.stagingZoneId}", name: "${team.zoneName}" }`);
    for (const email of read(file).match(/"[\w.+-]+@[\w.-]+"/g) ?? []) {
      edit(file, email, email.replace(/@[\w.-]+"/, `@${team.zoneName}"`));
    }
    const ref = read(file).match(/ref: "([^"]+)"/)[1];
    edit(file, `ref: "${ref}"`, `ref: "${env === "dev" ? team.devRef : env === "staging" ? team.stagingRef : team.prodRef}"`);
    if (read(file).includes('"Europe/London"')) edit(file, '"Europe/London"', `"${team.timeZone}"`);
  }
}
say(
  `rebranded (${only === "account" ? "account id only" : "account, region and zones, project, domains and zones, repositories, refs"}) (${seconds(t)} s)`,
);

// 3. A new environment, the documented way.
if (qaMode === "new-env") {
  t = Date.now();
  const made = spawnSync("npm", ["run", "-s", "new-env", "--", "qa", "--from", "staging"], { cwd: work, encoding: "utf8" });
  if (made.status !== 0) {
    process.stdout.write(made.stdout + made.stderr);
    throw new Error("adoption: npm run new-env failed");
  }
  // Fill in what it left, as its output asks.
  const qa = "environments/qa.ts";
  setValue(qa, "domainName", `qa.${team.appDomain}`);
  edit(qa, read(qa).match(/hostedZone: \{[^}]*\}/)[0], `hostedZone: { id: "${team.qaZoneId}", name: "${team.zoneName}" }`);
  edit(qa, read(qa).match(/alarmEmails: \[[^\]]*\]/)[0], `alarmEmails: ["qa-alerts@${team.zoneName}"]`);
  edit(qa, "fill-me-in: why qa accepts this", "one NAT gateway keeps qa cheap; a zone outage may interrupt testing, never users");
  say(`added qa with npm run new-env and filled its placeholders (${seconds(t)} s)`);
}

// 4. The checks a team runs on its first pull request.
const env = { ...process.env, CHECKPOINT_DISABLE: "1" };
delete env.ENVIRONMENTS;
delete env.WEBAPP_SHARED_SYNTH_DIR;
const steps = [
  ["typecheck", "node_modules/.bin/tsc", ["--noEmit"]],
  ["synth", "bash", ["-c", "node scripts/build.mjs && node dist/main.js"]],
  ["unit tests", "node_modules/.bin/jest", ["--ci", "--silent"]],
];
for (const [name, command, commandArgs] of steps) {
  t = Date.now();
  const result = spawnSync(command, commandArgs, { cwd: work, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) {
    failed = true;
    const summary = output.match(/^Tests:.*$/m)?.[0];
    say(`${name}: FAILED (${seconds(t)} s)${summary ? `: ${summary}` : ""}`);
    const failing = [...output.matchAll(/^(FAIL .+?)(?: \(.*\))?$|^\s+● (.+)$/gm)].map((m) => m[1] ?? `  ${m[2]}`);
    for (const line of [...new Set(failing)].slice(0, 80)) say(`  ${line}`);
    if (!summary) process.stdout.write(output.split("\n").slice(-40).join("\n") + "\n");
    continue;
  }
  const tail =
    name === "synth"
      ? output
          .trim()
          .split("\n")
          .filter((l) => !l.startsWith("warning:"))
      : [];
  say(`${name}: ok (${seconds(t)} s)`);
  for (const line of tail) say(`  ${line}`);
}
say(`${failed ? "FAILED" : "ok"}: ${seconds(started)} s in all`);
process.exitCode = failed ? 1 : 0;
