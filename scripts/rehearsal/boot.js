// The boot rehearsal, run by scripts/rehearse-boot.sh inside the services network namespace it built.
// Takes the dev launch template's user data and its boot bundle from the synthesized JSON, serves the bundle
// from the emulator's S3 (the user data's loader fetches it with the instance's AWS CLI), fills the
// infrastructure header from this rehearsal's services, and boots instances on the cached clean rootfs with
// real systemd. The timed jobs' runner claims its slots in the jobs table, created in the emulator as dev
// synthesizes it.
// Stand-ins, each named: dnf (packages.tsv), the EFS mount (a shared directory), the CloudWatch agent
// (records its configuration), the two lifecycle-action calls moto does not implement (answered and
// recorded here), DNS (/etc/hosts), and the AWS CLI v1 for v2.
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const crypto = require("node:crypto");
const zlib = require("node:zlib");
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const { certificates, startPostgres, startRedis } = require("../../examples/app/test/services");
const servers = require("./servers");

const ROOT = path.join(__dirname, "..", "..");
const ROOTFS = process.env.REHEARSAL_ROOTFS;
const NETNS = process.env.REHEARSAL_NETNS_PREFIX;
const COUNT = Number(process.env.REHEARSAL_INSTANCES || 2);
const TOOLS = process.env.PLATFORM_TOOLS_DIR;
const MOTO = process.env.REHEARSAL_MOTO_SERVER || path.join(process.env.MOTO_VENV || path.join(TOOLS, "moto"), "bin", "moto_server");
const REGION = "eu-west-2";
const BOOT_LIMIT_SECONDS = Number(process.env.REHEARSAL_BOOT_LIMIT_SECONDS || 420);

const ADDRESSES = { aws: "10.99.0.10", git: "10.99.0.11", truststore: "10.99.0.12", db: "10.99.0.20", cache: "10.99.0.21", imds: "169.254.169.254" };
const NAMES = {
  // The boot bundle's bucket name (virtual-hosted S3) is added once read from the synthesized stack.
  aws: ["secretsmanager", "autoscaling", "logs", "sts", "s3", "dynamodb", "monitoring"].map((s) => `${s}.${REGION}.amazonaws.com`),
  git: ["github.com"],
  truststore: ["truststore.pki.rds.amazonaws.com"],
  db: ["webapp-dev-db.rehearsal.eu-west-2.rds.amazonaws.com"],
  cache: ["master.webapp-dev-cache.rehearsal.euw2.cache.amazonaws.com"],
};

const cleanups = [];
const started = Date.now();
const elapsed = () => ((Date.now() - started) / 1000).toFixed(1);
const say = (text) => console.log(`[${elapsed().padStart(6)}s] ${text}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- the user data and bundle, as synthesized
function synthesizedDev() {
  execFileSync("npm", ["run", "-s", "synth"], { cwd: ROOT, env: { ...process.env, ENVIRONMENTS: "dev" }, stdio: "ignore" });
  return JSON.parse(fs.readFileSync(path.join(ROOT, "cdktf.out", "stacks", "dev", "cdk.tf.json"), "utf8"));
}

function only(stack, type) {
  const found = Object.values(stack.resource[type] ?? {});
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
}

function launchTemplateUserData(stack) {
  const expression = only(stack, "aws_launch_template").user_data;
  const match = /^\$\{base64encode\("([\s\S]*)"\)\}$/.exec(expression);
  if (!match) throw new Error("user_data is not ${base64encode(\"...\")}");
  // A Terraform string literal: the same escapes as JSON for what the renderer emits.
  return JSON.parse(`"${match[1]}"`).replace(/\$\{(\d+)\}/g, "$1");
}

/** The boot bundle object and its bucket's name, as the stack writes them. */
function bootBundle(stack) {
  const object = only(stack, "aws_s3_object");
  const bucket = Object.values(stack.resource.aws_s3_bucket).find((b) => /-boot-\d{12}$/.test(b.bucket));
  if (!bucket) throw new Error("no boot bundle bucket in the stack");
  return { bucket: bucket.bucket, key: object.key, content: Buffer.from(object.content_base64, "base64") };
}

/** Replaces each infrastructure header value (a Terraform reference) with this rehearsal's. */
function fillHeader(userData, values) {
  let text = userData;
  for (const [name, value] of Object.entries(values)) {
    const line = new RegExp(`^${name}='[^'\\n]*'$`, "m");
    if (!line.test(text)) throw new Error(`user data has no ${name}= line`);
    text = text.replace(line, `${name}='${value}'`);
  }
  const left = /\$\{[^}]*\}/.exec(text);
  if (left) throw new Error(`user data still holds a reference: ${left[0]}`);
  return text;
}

// ---------------------------------------------------------------- the emulator
function signedHeaders(service, target) {
  return {
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": target,
    authorization: `AWS4-HMAC-SHA256 Credential=AKIAREHEARSAL0000001/20260101/${REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
  };
}

function moto(port, service, target, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/", headers: signedHeaders(service, target) }, (res) => {
      let data = "";
      res.on("data", (c) => (data += c));
      res.on("end", () => (res.statusCode < 300 ? resolve(JSON.parse(data || "{}")) : reject(new Error(`${target}: ${res.statusCode} ${data}`))));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

const secrets = {
  create: (port, name, value) => moto(port, "secretsmanager", "secretsmanager.CreateSecret", { Name: name, SecretString: value }),
  put: (port, id, value) => moto(port, "secretsmanager", "secretsmanager.PutSecretValue", { SecretId: id, SecretString: value }),
};

/** S3's REST API on the emulator (path-style, as an operator's setup would): returns status, headers, body. */
function s3(port, method, pathname, body = "") {
  return new Promise((resolve, reject) => {
    const headers = { authorization: `AWS4-HMAC-SHA256 Credential=AKIAREHEARSAL0000001/20260101/${REGION}/s3/aws4_request, SignedHeaders=host, Signature=0`, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" };
    const req = http.request({ host: "127.0.0.1", port, method, path: pathname, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => (res.statusCode < 300 ? resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }) : reject(new Error(`S3 ${method} ${pathname}: ${res.statusCode} ${Buffer.concat(chunks)}`))));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The bundle stored as the apply stores it (a versioned bucket); returns the object's version id. */
async function storeBundle(port, bundle) {
  await s3(port, "PUT", `/${bundle.bucket}`, `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${REGION}</LocationConstraint></CreateBucketConfiguration>`);
  await s3(port, "PUT", `/${bundle.bucket}?versioning`, '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>');
  const put = await s3(port, "PUT", `/${bundle.bucket}/${bundle.key}`, bundle.content);
  const version = put.headers["x-amz-version-id"];
  if (!version) throw new Error("the emulator gave the bundle no version id");
  return version;
}

const dynamodb = (port, operation, body) => moto(port, "dynamodb", `DynamoDB_20120810.${operation}`, body);

/** The jobs table as dev synthesizes it. */
function createJobsTable(port, table) {
  return dynamodb(port, "CreateTable", {
    TableName: table.name,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: table.attribute.map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: [
      { AttributeName: table.hash_key, KeyType: "HASH" },
      { AttributeName: table.range_key, KeyType: "RANGE" },
    ],
  });
}

/** The sum of a metric's datapoints (without dimensions) since `since`, from the emulator's CloudWatch. */
function metricSum(port, namespace, name, since) {
  const form = new URLSearchParams({ Action: "GetMetricStatistics", Version: "2010-08-01", Namespace: namespace, MetricName: name, StartTime: new Date(since).toISOString(), EndTime: new Date(Date.now() + 60000).toISOString(), Period: "86400", "Statistics.member.1": "Sum" });
  return new Promise((resolve, reject) => {
    const headers = { "content-type": "application/x-www-form-urlencoded", authorization: `AWS4-HMAC-SHA256 Credential=AKIAREHEARSAL0000001/20260101/${REGION}/monitoring/aws4_request, SignedHeaders=host, Signature=0` };
    const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/", headers }, (res) => {
      let data = "";
      res.on("data", (c) => (data += c));
      res.on("end", () => (res.statusCode < 300 ? resolve([...data.matchAll(/<Sum>([\d.]+)<\/Sum>/g)].reduce((a, m) => a + Number(m[1]), 0)) : reject(new Error(`GetMetricStatistics: ${res.statusCode} ${data}`))));
    });
    req.on("error", reject);
    req.end(form.toString());
  });
}

async function startMoto() {
  const port = 5000;
  const child = spawn(MOTO, ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
  cleanups.push(() => child.exitCode === null && child.kill("SIGKILL"));
  let err = "";
  child.stderr.on("data", (c) => (err += c));
  for (let i = 0; i < 100; i++) {
    try {
      await new Promise((resolve, reject) => http.get({ host: "127.0.0.1", port, path: "/moto-api/" }, (r) => r.resume().on("end", resolve)).on("error", reject));
      return port;
    } catch {
      if (child.exitCode !== null) throw new Error(`moto_server exited: ${err}`);
      await sleep(200);
    }
  }
  throw new Error(`moto_server did not answer: ${err}`);
}

// Lifecycle actions: moto 5.2.5 has no CompleteLifecycleAction or RecordLifecycleActionHeartbeat, so the
// HTTPS front answers those two (only for this group's launch hook) and records them.
function lifecycleStandIn(record, group, hook) {
  return (body) => {
    const form = new URLSearchParams(body);
    const action = form.get("Action");
    if (action !== "CompleteLifecycleAction" && action !== "RecordLifecycleActionHeartbeat") return null;
    const entry = { action, at: Date.now(), group: form.get("AutoScalingGroupName"), hook: form.get("LifecycleHookName"), instance: form.get("InstanceId"), result: form.get("LifecycleActionResult") };
    record.push(entry);
    if (entry.group !== group || entry.hook !== hook) {
      return { status: 400, body: `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>No lifecycle hook ${entry.hook} on ${entry.group}</Message></Error></ErrorResponse>` };
    }
    return { status: 200, body: `<${action}Response xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><${action}Result/><ResponseMetadata><RequestId>rehearsal</RequestId></ResponseMetadata></${action}Response>` };
  };
}

// ---------------------------------------------------------------- instances
function mount(...args) {
  execFileSync("mount", args);
}

function prepareInstance(work, index, userData, caPem, name = `i${index}`) {
  const dir = path.join(work, name);
  const root = path.join(dir, "root");
  for (const d of ["upper", "work", "root"]) fs.mkdirSync(path.join(dir, d), { recursive: true });
  mount("-t", "overlay", "overlay", "-o", `lowerdir=${ROOTFS},upperdir=${dir}/upper,workdir=${dir}/work`, root);
  cleanups.push(() => {
    try {
      execFileSync("umount", ["-l", root]);
    } catch {
      // already gone
    }
  });
  const write = (file, text, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text, { mode });
  };
  const hosts = ["127.0.0.1 localhost", `10.99.1.${index} ip-10-99-1-${index}`, ...Object.entries(NAMES).map(([k, names]) => `${ADDRESSES[k]} ${names.join(" ")}`)];
  write("etc/hosts", `${hosts.join("\n")}\n`);
  write("etc/hostname", `ip-10-99-1-${index}\n`);
  // The instance trusts the rehearsal's CA, as an instance trusts the public roots its endpoints chain to.
  fs.appendFileSync(path.join(root, "etc/ssl/certs/ca-certificates.crt"), caPem);
  // An AL2023 AMI ships the AWS CLI on PATH before user data runs (its loader fetches the boot bundle with it).
  fs.mkdirSync(path.join(root, "usr/local/bin"), { recursive: true });
  fs.symlinkSync("/opt/awscli/bin/aws", path.join(root, "usr/local/bin/aws"));
  for (const bundle of execFileSync("find", [path.join(root, "opt/awscli"), "-name", "cacert.pem"], { encoding: "utf8" }).split("\n").filter(Boolean)) fs.appendFileSync(bundle, caPem);
  // The dnf stand-in, its one table and its stand-ins.
  write("usr/bin/dnf", fs.readFileSync(path.join(__dirname, "dnf")), 0o755);
  write("usr/share/rehearsal/packages.tsv", fs.readFileSync(path.join(__dirname, "packages.tsv")));
  for (const name of fs.readdirSync(path.join(__dirname, "stand-ins"))) write(`usr/share/rehearsal/stand-ins/${name}`, fs.readFileSync(path.join(__dirname, "stand-ins", name)), 0o755);
  // cloud-init's part: run the user data once, at first boot, after the network is up.
  write("var/lib/cloud/instance/user-data.txt", userData, 0o600);
  write(
    "etc/systemd/system/rehearsal-user-data.service",
    "[Unit]\nDescription=Run the instance's user data (cloud-init's part)\nWants=network-online.target\nAfter=network-online.target\nConditionPathExists=!/var/lib/cloud/instance/boot-finished\n\n[Service]\nType=oneshot\nExecStart=/bin/bash /var/lib/cloud/instance/user-data.txt\nExecStartPost=/bin/touch /var/lib/cloud/instance/boot-finished\nStandardOutput=append:/var/log/cloud-init-output.log\nStandardError=inherit\nTimeoutStartSec=infinity\n\n[Install]\nWantedBy=multi-user.target\n",
  );
  fs.mkdirSync(path.join(root, "etc/systemd/system/multi-user.target.wants"), { recursive: true });
  fs.symlinkSync("/etc/systemd/system/rehearsal-user-data.service", path.join(root, "etc/systemd/system/multi-user.target.wants/rehearsal-user-data.service"));
  return { index, dir, root, address: `10.99.1.${index}`, id: `i-0rehearsal0000000${index}` };
}

function bootInstance(instance, efs) {
  const console = fs.openSync(path.join(instance.dir, "console.log"), "a");
  const child = spawn(
    "systemd-nspawn",
    ["--quiet", "--boot", "--register=no", "--keep-unit", "--console=pipe", `--directory=${instance.root}`, `--machine=rehearsal-i${instance.index}`, `--network-namespace-path=/run/netns/${NETNS}-i${instance.index}`, `--bind=${efs}:/srv/rehearsal-efs`],
    { stdio: ["ignore", console, console] },
  );
  instance.child = child;
  instance.bootedAt = Date.now();
  cleanups.push(() => stopInstance(instance, 5000));
  return instance;
}

/** Asks the container to shut down (systemd-nspawn turns SIGTERM into a clean poweroff); kills it after `ms`. */
function stopInstance(instance, ms = 60000) {
  const child = instance.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** The container's init (systemd), the child of systemd-nspawn. */
function leaderPid(instance) {
  const children = fs.readFileSync(`/proc/${instance.child.pid}/task/${instance.child.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
  if (children.length !== 1) throw new Error(`instance ${instance.index}: expected one child of systemd-nspawn, found ${children.length}`);
  return children[0];
}

/**
 * Runs a command inside the instance (its mount, UTS, IPC, network and PID namespaces), as root. Never
 * synchronously: this process serves the instance's metadata and AWS endpoints meanwhile.
 */
function insideAsync(instance, args) {
  return new Promise((resolve) => {
    const child = spawn("nsenter", ["-t", leaderPid(instance), "-m", "-u", "-i", "-n", "-p", "--", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c) => (output += c));
    child.stderr.on("data", (c) => (output += c));
    child.on("exit", (code) => resolve({ code, output }));
  });
}

function readInside(instance, file) {
  const at = path.join(instance.root, file);
  return fs.existsSync(at) ? fs.readFileSync(at, "utf8") : "";
}

/** Every file under `dir` holding any of `values`, as paths relative to it. */
function filesHolding(dir, values) {
  const found = [];
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && fs.statSync(full).size < 8 * 1024 * 1024) {
        const text = fs.readFileSync(full, "latin1");
        if (values.some((v) => text.includes(v))) found.push(path.relative(dir, full));
      }
    }
  };
  walk(dir);
  return found;
}

function get(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 3000 }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("error", () => resolve({ status: 0, body: "" }));
    req.on("timeout", () => req.destroy());
  });
}

function put(url, body) {
  return new Promise((resolve) => {
    const req = http.request(url, { method: "PUT", timeout: 3000 }, (res) => {
      let data = "";
      res.on("data", (c) => (data += c));
      res.on("end", () => resolve({ status: res.statusCode, body: data }));
    });
    req.on("error", () => resolve({ status: 0, body: "" }));
    req.end(body);
  });
}

/** Per-step durations from the instance's step logs ("done in Ns (boot at Ms)"). */
function stepTimes(instance) {
  const dir = path.join(instance.root, "var/log/webapp-boot");
  const times = {};
  for (const step of ["install", "logging", "mount", "code", "env", "build", "app", "cron", "health", "complete"]) {
    const file = path.join(dir, `${step}.log`);
    if (!fs.existsSync(file)) continue;
    const done = [...fs.readFileSync(file, "utf8").matchAll(/webapp-boot\[\w+\]: done in (\d+)s \(boot at (\d+)s\)/g)].pop();
    if (done) times[step] = Number(done[1]);
  }
  return times;
}

function bootLog(instance) {
  const dir = path.join(instance.root, "var/log/webapp-boot");
  if (!fs.existsSync(dir)) return "(no boot logs)";
  return fs.readdirSync(dir).map((f) => `--- ${f}\n${fs.readFileSync(path.join(dir, f), "utf8").split("\n").slice(-15).join("\n")}`).join("\n");
}

async function waitHealthy(instance, lifecycle) {
  const deadline = Date.now() + BOOT_LIMIT_SECONDS * 1000;
  while (Date.now() < deadline) {
    const health = await get(`http://${instance.address}:8080/health`);
    if (health.status === 200 && !instance.healthyAt) instance.healthyAt = Date.now();
    const done = lifecycle.find((l) => l.instance === instance.id && l.action === "CompleteLifecycleAction");
    if (done) {
      instance.completed = done;
      return done;
    }
    if (instance.child.exitCode !== null) throw new Error(`instance ${instance.index} stopped:\n${bootLog(instance)}`);
    await sleep(1000);
  }
  throw new Error(`instance ${instance.index} did not complete its launch within ${BOOT_LIMIT_SECONDS}s:\n${bootLog(instance)}`);
}

// ---------------------------------------------------------------- checks
const failures = [];
function check(ok, text, detail = "") {
  say(`${ok ? "ok  " : "FAIL"} ${text}${ok || !detail ? "" : `\n${detail}`}`);
  if (!ok) failures.push(text);
  return ok;
}

async function main() {
  const scenarios = process.argv.slice(2);
  const want = (name) => scenarios.length === 0 || scenarios.includes(name);
  const work = fs.mkdtempSync("/var/tmp/webapp-rehearsal-");
  cleanups.push(() => {
    if (!process.env.REHEARSAL_KEEP) fs.rmSync(work, { recursive: true, force: true });
  });
  say(`work ${work}, rootfs ${ROOTFS}, ${COUNT} instance(s)`);

  const stack = synthesizedDev();
  const userData = launchTemplateUserData(stack);
  const bundle = bootBundle(stack);
  NAMES.aws.push(`${bundle.bucket}.s3.${REGION}.amazonaws.com`);
  const jobsTable = only(stack, "aws_dynamodb_table");
  const tls = certificates(path.join(work, "tls"), Object.values(NAMES).flat(), "webapp rehearsal CA");
  const caPem = fs.readFileSync(tls.ca, "utf8");
  fs.chmodSync(path.join(work, "tls"), 0o755);
  for (const f of ["ca.pem", "server.pem", "server.key"]) fs.chmodSync(path.join(work, "tls", f), 0o644);

  // The data tier: PostgreSQL that takes only TLS, Redis with TLS and AUTH.
  // The app's own database user (the webapp-dev/database-app-user secret), owner of nothing but its database.
  const master = { username: "app_user", password: "rehearsal'db $pass" };
  const cacheToken = "rehearsal-cache-token-0123456789abcdef";
  const postgres = await startPostgres({ tls, host: ADDRESSES.db, port: 5432 });
  cleanups.push(() => postgres.stop());
  postgres.psql(`CREATE ROLE ${master.username} LOGIN PASSWORD '${master.password.replace(/'/g, "''")}'`);
  postgres.psql(`CREATE DATABASE app OWNER ${master.username}`);
  let redis = await startRedis({ tls, password: cacheToken, host: ADDRESSES.cache, port: 6379 });
  cleanups.push(() => redis.stop());
  say(`postgres ${ADDRESSES.db}:5432 (TLS only), redis ${ADDRESSES.cache}:6379 (TLS, AUTH)`);

  // The AWS API: moto, behind TLS with the names the CLI resolves.
  const motoPort = await startMoto();
  const repoToken = "rehearsal-repo-token";
  const arns = {
    appEnv: (await secrets.create(motoPort, "webapp-dev/app-env", JSON.stringify({ REDIS_CACERT: "/etc/ssl/certs/ca-certificates.crt", GREETING: "it's $rehearsal" }))).ARN,
    repo: (await secrets.create(motoPort, "webapp-dev/repository-credential", repoToken)).ARN,
    cache: (await secrets.create(motoPort, "webapp-dev/redis-auth-token", cacheToken)).ARN,
    db: (await secrets.create(motoPort, "webapp-dev/database-app-user", JSON.stringify(master))).ARN,
  };
  // The apply's part: the boot bundle in its versioned bucket, the jobs table.
  const bundleVersion = await storeBundle(motoPort, bundle);
  await createJobsTable(motoPort, jobsTable);
  say(`boot bundle s3://${bundle.bucket}/${bundle.key} (${bundle.content.length} bytes, version ${bundleVersion}); jobs table ${jobsTable.name}`);
  const lifecycle = [];
  const requests = [];
  const header = (name) => new RegExp(`^${name}='([^']*)'$`, "m").exec(userData)?.[1];
  await servers.awsFront({
    host: ADDRESSES.aws,
    tls,
    target: { host: "127.0.0.1", port: motoPort },
    intercept: lifecycleStandIn(lifecycle, "webapp-dev-app", "boot"),
    log: (req, body) => requests.push({ host: req.headers.host, target: req.headers["x-amz-target"] || new URLSearchParams(body.toString()).get("Action"), at: Date.now() }),
  });
  const instances = {};
  await servers.imds({ host: ADDRESSES.imds, instances, log: say });

  // The git host: a bare copy of this repository's HEAD as the dev branch, over HTTPS with the token.
  const gitRoot = path.join(work, "git");
  const bare = path.join(gitRoot, "example-org", "cdktf-webapp-platform.git");
  execFileSync("git", ["init", "-q", "--bare", bare]);
  execFileSync("git", ["-C", ROOT, "push", "-q", bare, "HEAD:refs/heads/main"]);
  const head = execFileSync("git", ["-C", ROOT, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
  await servers.gitServer({ host: ADDRESSES.git, tls, root: gitRoot, token: repoToken });
  await servers.trustStore({ host: ADDRESSES.truststore, tls, bundle: tls.ca });
  say(`moto on ${motoPort} behind https://${NAMES.aws[0]}, IMDSv2 on ${ADDRESSES.imds}, git at https://github.com (main = ${head.slice(0, 12)})`);

  const filled = fillHeader(userData, {
    DB_HOST: NAMES.db[0],
    DB_PORT: "5432",
    DB_SECRET_ARN: arns.db,
    CACHE_HOST: NAMES.cache[0],
    CACHE_PORT: "6379",
    CACHE_TOKEN_SECRET_ARN: arns.cache,
    EFS_FILE_SYSTEM_ID: "fs-0rehearsal0000001",
    EFS_ACCESS_POINT_ID: "fsap-0rehearsal000001",
    APP_ENV_SECRET_ARN: arns.appEnv,
    REPO_CREDENTIAL_SECRET_ARN: arns.repo,
    BOOT_BUNDLE_BUCKET: bundle.bucket,
    BOOT_BUNDLE_VERSION: bundleVersion,
  });
  if (header("DB_NAME") !== "app") throw new Error(`DB_NAME is ${header("DB_NAME")}, not app`);

  // ------------------------------------------------------------ scenario: boot side by side
  const efs = path.join(work, "efs");
  fs.mkdirSync(efs, { mode: 0o777 });
  fs.chmodSync(efs, 0o777);
  const fleet = [];
  const fleetScenarios = ["boot", "uploads", "cron", "rotate", "cron-minute", "scale-in"];
  for (let i = 1; i <= (fleetScenarios.some(want) ? COUNT : 0); i++) {
    const instance = prepareInstance(work, i, filled, caPem);
    instances[instance.address] = { id: instance.id, role: "webapp-dev-app" };
    fleet.push(instance);
  }
  for (const instance of fleet) bootInstance(instance, efs);
  say(`booting ${fleet.length} instance(s) with systemd-nspawn --boot`);
  await Promise.all(fleet.map((i) => waitHealthy(i, lifecycle)));

  for (const instance of fleet) {
    const steps = stepTimes(instance);
    const total = ((instance.completed.at - instance.bootedAt) / 1000).toFixed(1);
    const healthy = instance.healthyAt ? ((instance.healthyAt - instance.bootedAt) / 1000).toFixed(1) : "?";
    say(`instance ${instance.index} (${instance.id}): healthy ${healthy}s, launch completed ${total}s after systemd-nspawn started; steps ${Object.entries(steps).map(([s, t]) => `${s} ${t}s`).join(", ")}`);
    check(instance.completed.result === "CONTINUE", `instance ${instance.index} completed the launch hook with CONTINUE`, JSON.stringify(instance.completed));
    const beats = lifecycle.filter((l) => l.instance === instance.id && l.action === "RecordLifecycleActionHeartbeat" && l.at <= instance.completed.at);
    check(beats.length >= 9, `instance ${instance.index} recorded ${beats.length} lifecycle heartbeats before completing`);
    const health = await get(`http://${instance.address}:8080/health`);
    check(health.status === 200, `instance ${instance.index} answers /health`, JSON.stringify(health));
    const status = await get(`http://${instance.address}:8080/status`);
    const parsed = status.status === 200 ? JSON.parse(status.body) : {};
    check(parsed.database?.tls === true && parsed.database?.user === master.username && parsed.redis?.ok === true, `instance ${instance.index}: database over verified TLS as ${master.username}, Redis over TLS with AUTH`, status.body);
    // The CloudWatch agent is a stand-in: check what the boot configured it to ship.
    const agent = JSON.parse(readInside(instance, "opt/aws/amazon-cloudwatch-agent/etc/webapp.json") || "{}");
    const streams = (agent.logs?.logs_collected?.files?.collect_list ?? []).map((f) => `${f.log_group_name} ${f.log_stream_name} ${f.file_path}`);
    const wanted = ["install", "code", "build", "health", "complete"].map((step) => `/webapp-dev/app {instance_id}/${step} /var/log/webapp-boot/${step}.log`);
    check(
      wanted.every((w) => streams.includes(w)) && streams.includes("/webapp-dev/app {instance_id}/app /var/log/webapp/app.log") && /fetch-config -m ec2 -s/.test(readInside(instance, "var/log/rehearsal-cloudwatch-agent.log")),
      `instance ${instance.index}: the CloudWatch agent was started with a stream per boot step, the app's and cron's logs`,
      streams.join("\n"),
    );
    const runtime = fs.readFileSync(path.join(instance.root, "var/log/webapp-boot/install.log"), "utf8");
    check(/runtime: nodejs22 nodejs22-npm/.test(runtime), `instance ${instance.index} installed the runtime through the boot's package step`);
  }

  if (fleet.length) {
    const fetched = requests.filter((r) => r.host?.startsWith(`${bundle.bucket}.s3.`)).length;
    check(fetched >= fleet.length, `the user data's loader fetched the boot bundle from S3 on every instance (${fetched} requests to ${bundle.bucket})`);
  }

  if (fleet.length >= 2 && want("uploads")) {
    const stored = await put(`http://${fleet[0].address}:8080/uploads/rehearsal.txt`, `written through ${fleet[0].id}\n`);
    const read = await get(`http://${fleet[1].address}:8080/uploads/rehearsal.txt`);
    check(stored.status === 201 && read.body === `written through ${fleet[0].id}\n`, "an upload written through instance 1 is read through instance 2", JSON.stringify({ stored, read }));
  }

  // Timed jobs: one cron line runs the job runner every minute; each slot of record-run (*/5) runs once.
  const slotId = (date) => `${date.toISOString().slice(0, 16)}Z`;
  const rowsFor = (slot) => Number(postgres.psql(`SELECT count(*) FROM cron_runs WHERE job = 'record-run' AND slot = '${slot}'`, "app") || 0);
  const slotItem = async (slot) => (await dynamodb(motoPort, "GetItem", { TableName: jobsTable.name, Key: { job: { S: "record-run" }, slot: { S: slot } }, ConsistentRead: true })).Item;
  const settled = async (slot, seconds = 90) => {
    for (let n = 0; n < seconds; n++) {
      const item = await slotItem(slot);
      if (item && ["done", "dead", "missed"].includes(item.status.S)) return item;
      await sleep(1000);
    }
    return slotItem(slot);
  };
  const cronLine = (fleet.length ? readInside(fleet[0], "etc/cron.d/webapp") : "").split("\n").find((l) => /\/webapp-jobs tick /.test(l)) || "";
  const cronFields = cronLine.trim().split(/\s+/);
  const cronEntry = { schedule: cronFields.slice(0, 5).join(" "), user: cronFields[5], command: cronFields.slice(6).join(" ") };
  // The cron entry's own command line, started on every instance at the same moment.
  const cronEverywhere = () => Promise.all(fleet.map((i) => insideAsync(i, ["runuser", "-u", cronEntry.user, "--", "/bin/bash", "-c", cronEntry.command])));
  const namespace = fleet.length ? JSON.parse(readInside(fleet[0], "etc/webapp/jobs.json") || "{}").namespace : "";

  if (want("cron")) {
    check(cronEntry.schedule === "* * * * *" && cronEntry.user === "webapp", `the cron entry runs the job runner every minute: ${cronLine}`);
    for (const i of fleet) {
      // /run is the container's own tmpfs: looked at from inside.
      check((await insideAsync(i, ["test", "-f", "/run/webapp-jobs/gate"])).code === 0, `instance ${i.index}: the jobs' gate opened after the health check`);
      check((await insideAsync(i, ["systemctl", "is-active", "webapp-jobs-drain.service"])).output.trim() === "active", `instance ${i.index}: the shutdown drain is armed`);
    }
    // The latest */5 minute is due (its backfill window is the period): whoever claims it, it runs once.
    const now = new Date();
    const slot = slotId(new Date(Math.floor(now.getTime() / 300000) * 300000));
    await cronEverywhere();
    const item = await settled(slot);
    check(item?.status.S === "done" && rowsFor(slot) === 1, `the cron entry started on ${fleet.length} instances at once (and real cron every minute) ran slot ${slot} exactly once: record ${item?.status.S}, attempt ${item?.attempt?.N}, rows ${rowsFor(slot)}`);
    await cronEverywhere();
    await sleep(3000);
    check(rowsFor(slot) === 1 && (await slotItem(slot))?.fence.N === item?.fence.N, `started everywhere again, slot ${slot} did not run again`);
    const drained = await insideAsync(fleet[0], ["/usr/local/bin/webapp-jobs", "drain", "--timeout", "5"]);
    const gateLeft = (await insideAsync(fleet[0], ["test", "-e", "/run/webapp-jobs/gate"])).code === 0;
    check(drained.code === 0 && /drain: done \(\d+ finished, 0 given back, 0 killed\)/.test(drained.output) && !gateLeft, "webapp-jobs drain closes the gate and exits 0", drained.output);
    // What the next boot's complete step does.
    await insideAsync(fleet[0], ["install", "-m", "0644", "-o", "webapp", "/dev/null", "/run/webapp-jobs/gate"]);
  }
  if (want("rotate")) {
    const rotated = { ...master, password: "rotated $db' password" };
    postgres.psql(`ALTER ROLE ${master.username} PASSWORD '${rotated.password.replace(/'/g, "''")}'`);
    await secrets.put(motoPort, arns.db, JSON.stringify(rotated));
    for (const i of fleet) {
      check((await insideAsync(i, ["systemctl", "is-active", "webapp-env-refresh.timer"])).output.trim() === "active", `instance ${i.index}: the refresh timer is active`);
      const pidBefore = JSON.parse((await get(`http://${i.address}:8080/status`)).body || "{}").pid;
      // The service the timer starts, started now rather than in up to 20 minutes.
      const refreshed = await insideAsync(i, ["systemctl", "start", "webapp-env-refresh.service"]);
      check(refreshed.code === 0, `instance ${i.index}: webapp-env-refresh.service ran`, refreshed.output);
      let status = {};
      for (let n = 0; n < 30 && !(status.pid && status.pid !== pidBefore && status.database?.ok); n++) {
        await sleep(1000);
        status = JSON.parse((await get(`http://${i.address}:8080/status`)).body || "{}");
      }
      check(/environment changed/.test(readInside(i, "var/log/webapp-boot/refresh.log")), `instance ${i.index}: the refresh saw the rotated secret`);
      check(status.pid !== pidBefore && status.database?.ok === true, `instance ${i.index}: the restarted app connects with the rotated password`, JSON.stringify(status));
    }
  }

  if (want("cron-minute")) {
    // Real cron at the job's minute (every 5 minutes), with Redis down: the slot runs once across the fleet on
    // its claim alone, and the lock failure reaches CloudWatch. Started 25 s or more before the minute.
    const now = new Date();
    let next = new Date(Math.floor(now.getTime() / 300000) * 300000 + 300000);
    if (next - now < 25000) next = new Date(next.getTime() + 300000);
    await sleep(next - now - 20000);
    const since = Date.now();
    redis.stop();
    const slot = slotId(next);
    say(`Redis stopped; waiting for cron at ${slot.slice(11, 16)} UTC`);
    await sleep(next - Date.now() + 5000);
    const item = await settled(slot);
    const logs = fleet.map((i) => readInside(i, "var/log/webapp/cron-webapp-jobs.log") + readInside(i, "var/log/webapp/cron-record-run.log"));
    check(item?.status.S === "done" && rowsFor(slot) === 1, `at ${slot.slice(11, 16)} cron ran slot ${slot} exactly once across ${fleet.length} instances with Redis down (record ${item?.status.S}, rows ${rowsFor(slot)})`, logs.join("\n---\n"));
    check(logs.some((l) => /Redis lock lock:record-run not taken .*running on the DynamoDB claim alone/.test(l)), "the runner logged that it ran on the claim alone");
    const failures = await metricSum(motoPort, namespace, "LockFailures", since);
    check(failures >= 1, `the lock failure reached CloudWatch (${namespace} LockFailures = ${failures}), which the lock-failures alarm reads`);
    redis = await startRedis({ tls, password: cacheToken, host: ADDRESSES.cache, port: 6379 });
    cleanups.push(() => redis.stop());
  }

  if (want("scale-in")) {
    for (const i of fleet) {
      // systemd-nspawn turns SIGTERM into a clean shutdown: systemd stops the app with SIGTERM.
      await stopInstance(i);
      const log = readInside(i, "var/log/webapp/app.log");
      check(/SIGTERM, closing[\s\S]*stopped cleanly/.test(log), `instance ${i.index}: on shutdown the app drained and stopped cleanly`, log.split("\n").slice(-5).join("\n"));
    }
  }
  for (const instance of fleet) await stopInstance(instance);
  say(`stopped ${fleet.length} instance(s)`);

  if (scenarios.includes("no-runtime")) {
    // The defect compute.runtime guards against, reintroduced past the validator: a boot script that
    // installs no runtime. The build's npm must then be missing and the launch abandoned.
    const script = zlib.gunzipSync(bundle.content).toString();
    const without = script.replace(/^  RUNTIME_PACKAGES=\(.*\)$/m, "  RUNTIME_PACKAGES=()");
    if (without === script) throw new Error("no RUNTIME_PACKAGES line in the boot script");
    // Another bundle, stored and named as the apply would: its own key, version and SHA-256 in the user data.
    const other = zlib.gzipSync(Buffer.from(without));
    const sha = crypto.createHash("sha256").update(other).digest("hex");
    const key = `boot/${sha}.sh.gz`;
    const version = (await s3(motoPort, "PUT", `/${bundle.bucket}/${key}`, other)).headers["x-amz-version-id"];
    const userDataWithout = filled
      .replace(/^BOOT_BUNDLE_OBJECT='[^']*'$/m, `BOOT_BUNDLE_OBJECT='${key}'`)
      .replace(/^BOOT_BUNDLE_VERSION='[^']*'$/m, `BOOT_BUNDLE_VERSION='${version}'`)
      .replace(/^BOOT_BUNDLE_SHA256='[^']*'$/m, `BOOT_BUNDLE_SHA256='${sha}'`);
    const bare = prepareInstance(work, 2, userDataWithout, caPem, "no-runtime");
    bare.id = "i-0rehearsalnoruntime";
    instances[bare.address] = { id: bare.id, role: "webapp-dev-app" };
    bootInstance(bare, efs);
    const done = await waitHealthy(bare, lifecycle);
    const log = readInside(bare, "var/log/webapp-boot/build.log");
    check(done.result === "ABANDON" && /npm: (command )?not found/.test(log), "without the runtime packages the build finds no npm and the launch is abandoned", log.split("\n").slice(-6).join("\n"));
    await stopInstance(bare);
  }

  if (want("broken-build")) {
    // A commit whose build fails, on the branch dev follows.
    const clone = path.join(work, "broken");
    execFileSync("git", ["clone", "-q", "-b", "main", bare, clone]);
    const pkgFile = path.join(clone, "examples/app/package.json");
    const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8"));
    pkg.scripts.build = "node -e \"console.error('build: broken on purpose'); process.exit(3)\"";
    fs.writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
    execFileSync("git", ["-C", clone, "-c", "user.name=rehearsal", "-c", "user.email=rehearsal@example.com", "commit", "-qam", "a build that fails"]);
    execFileSync("git", ["-C", clone, "push", "-q", "origin", "HEAD:refs/heads/main"]);
    const broken = prepareInstance(work, 1, filled, caPem, "broken");
    broken.id = "i-0rehearsalbroken01";
    instances[broken.address] = { id: broken.id, role: "webapp-dev-app" };
    bootInstance(broken, efs);
    const done = await waitHealthy(broken, lifecycle);
    check(done.result === "ABANDON", "a broken build abandons the launch (ABANDON recorded)", JSON.stringify(done));
    const log = readInside(broken, "var/log/webapp-boot/build.log");
    check(/build: broken on purpose[\s\S]*FAILED with status/.test(log), "the build log says why", log.split("\n").slice(-8).join("\n"));
    const holding = filesHolding(path.join(broken.dir, "upper"), [master.password, cacheToken, repoToken]);
    check(holding.length === 0, "no secret is left on disk", holding.join("\n"));
    await stopInstance(broken);
  }
}

async function cleanup() {
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (err) {
      console.error(`cleanup: ${err.message}`);
    }
  }
}

process.on("SIGTERM", () => cleanup().then(() => process.exit(143)));
process.on("SIGINT", () => cleanup().then(() => process.exit(130)));
main()
  .then(
    () => (failures.length === 0 ? 0 : 1),
    (err) => {
      console.error(`rehearsal: ${err.stack || err.message}`);
      return 1;
    },
  )
  .then(async (code) => {
    await cleanup();
    say(failures.length === 0 && code === 0 ? "rehearsal passed" : `rehearsal FAILED${failures.length ? `: ${failures.join("; ")}` : ""}`);
    process.exit(code);
  });
