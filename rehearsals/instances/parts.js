// The parts the boot and fleet rehearsals share: the synthesized stack, its launch template's user data and
// the boot bundle that user data loads; the AWS API emulator (moto), the lifecycle calls it lacks, and what
// the apply leaves in it for a boot (the bundle in its versioned bucket, the timed jobs' table); instances
// (an overlay of the cached rootfs booted by systemd-nspawn in its own network namespace), and small HTTP
// helpers. Both run inside the services network namespace that scripts/rehearse-boot.sh builds.
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const zlib = require("node:zlib");

const ROOT = path.join(__dirname, "..", "..");
const ROOTFS = process.env.REHEARSAL_ROOTFS;
const NETNS = process.env.REHEARSAL_NETNS_PREFIX;
const COUNT = Number(process.env.REHEARSAL_INSTANCES || 2);
const TOOLS = process.env.PLATFORM_TOOLS_DIR;
const MOTO = process.env.REHEARSAL_MOTO_SERVER || path.join(process.env.MOTO_VENV || path.join(TOOLS, "moto"), "bin", "moto_server");
const REGION = "eu-west-2";
const BOOT_LIMIT_SECONDS = Number(process.env.REHEARSAL_BOOT_LIMIT_SECONDS || 420);

const ADDRESSES = {
  aws: "10.99.0.10",
  git: "10.99.0.11",
  truststore: "10.99.0.12",
  db: "10.99.0.20",
  cache: "10.99.0.21",
  imds: "169.254.169.254",
};
/**
 * The names an environment's instances resolve (/etc/hosts), by service. `bucket`: the boot bundle's bucket,
 * reached by its virtual-hosted name as the AWS CLI does.
 */
function serviceNames(env, bucket) {
  return {
    aws: [
      ...["secretsmanager", "autoscaling", "elasticloadbalancing", "logs", "sts", "s3", "dynamodb", "monitoring", "ssm"].map(
        (s) => `${s}.${REGION}.amazonaws.com`,
      ),
      ...(bucket ? [`${bucket}.s3.${REGION}.amazonaws.com`] : []),
    ],
    git: ["github.com"],
    truststore: ["truststore.pki.rds.amazonaws.com"],
    db: [`webapp-${env}-db.rehearsal.eu-west-2.rds.amazonaws.com`],
    cache: [`master.webapp-${env}-cache.rehearsal.euw2.cache.amazonaws.com`],
  };
}

const cleanups = [];
const started = Date.now();
const elapsed = () => ((Date.now() - started) / 1000).toFixed(1);
const say = (text) => console.log(`[${elapsed().padStart(6)}s] ${text}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- the stack and its user data
/**
 * The environment's synthesized stack (Terraform JSON), as `npm run synth` writes it. With `compute` or `edge`,
 * those settings of the environment are patched first (a ref bump, the cut-over switch), synthesized by the
 * same code into `outdir`.
 */
function synthesizedStack(env, { compute, edge, outdir } = {}) {
  if (!compute && !edge) {
    execFileSync("npm", ["run", "-s", "synth"], { cwd: ROOT, env: { ...process.env, ENVIRONMENTS: env }, stdio: "ignore" });
    return JSON.parse(fs.readFileSync(path.join(ROOT, "cdktf.out", "stacks", env, "cdk.tf.json"), "utf8"));
  }
  const program = `
    const { ENVIRONMENTS } = require("./dist/environments");
    const { run } = require("./dist/main");
    const patch = JSON.parse(process.argv[1]);
    const edge = JSON.parse(process.argv[3]);
    const environments = ENVIRONMENTS.map((e) => (e.name === ${JSON.stringify(env)} ? { ...e, edge: { ...e.edge, ...edge }, compute: { ...e.compute, ...patch, repository: { ...e.compute.repository, ...(patch.repository || {}) } } } : e));
    process.exit(run({ environments, spec: ${JSON.stringify(env)}, outdir: process.argv[2], printWarnings: false }));`;
  execFileSync("node", ["-e", program, JSON.stringify(compute || {}), outdir, JSON.stringify(edge || {})], {
    cwd: ROOT,
    env: { ...process.env, CHECKPOINT_DISABLE: "1" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  return JSON.parse(fs.readFileSync(path.join(outdir, "stacks", env, "cdk.tf.json"), "utf8"));
}

function only(stack, type) {
  const found = Object.values(stack.resource[type] ?? {});
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
}

/**
 * What an instance boots from, read from the synthesized JSON (the one place the rehearsals read it): the
 * launch template's user data (the loader), the boot bundle it fetches (bucket, key, gzipped content, and the
 * boot script unpacked), and the timed jobs' table the runner claims slots in.
 */
function bootFromStack(stack) {
  const match = /^\$\{base64encode\("([\s\S]*)"\)\}$/.exec(only(stack, "aws_launch_template").user_data);
  if (!match) throw new Error('user_data is not ${base64encode("...")}');
  // A Terraform string literal: the same escapes as JSON for what the renderer emits.
  const userData = JSON.parse(`"${match[1]}"`).replace(/\$\{(\d+)\}/g, "$1");
  const object = only(stack, "aws_s3_object");
  const bucket = Object.values(stack.resource.aws_s3_bucket).find((b) => /-boot-\d{12}$/.test(b.bucket));
  if (!bucket) throw new Error("no boot bundle bucket in the stack");
  const content = Buffer.from(object.content_base64, "base64");
  const sha256 = crypto.createHash("sha256").update(content).digest("hex");
  const pinned = /^BOOT_BUNDLE_SHA256='([0-9a-f]{64})'$/m.exec(userData)?.[1];
  if (pinned !== sha256) throw new Error(`the user data pins bundle SHA-256 ${pinned}, the stack's bundle is ${sha256}`);
  const bundle = { bucket: bucket.bucket, key: object.key, content, sha256, script: zlib.gunzipSync(content).toString() };
  return { userData, bundle, jobsTable: only(stack, "aws_dynamodb_table") };
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
      res.on("end", () =>
        res.statusCode < 300 ? resolve(JSON.parse(data || "{}")) : reject(new Error(`${target}: ${res.statusCode} ${data}`)),
      );
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
    const headers = {
      authorization: `AWS4-HMAC-SHA256 Credential=AKIAREHEARSAL0000001/20260101/${REGION}/s3/aws4_request, SignedHeaders=host, Signature=0`,
      "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
    };
    const req = http.request({ host: "127.0.0.1", port, method, path: pathname, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () =>
        res.statusCode < 300
          ? resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() })
          : reject(new Error(`S3 ${method} ${pathname}: ${res.statusCode} ${Buffer.concat(chunks)}`)),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

const buckets = new Set();
/**
 * A boot bundle stored as the apply stores it: in its versioned bucket (created at the first call) under its
 * own key. Returns the object's version id, which the user data pins.
 */
async function storeBundle(port, bundle) {
  if (!buckets.has(bundle.bucket)) {
    await s3(
      port,
      "PUT",
      `/${bundle.bucket}`,
      `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${REGION}</LocationConstraint></CreateBucketConfiguration>`,
    );
    await s3(
      port,
      "PUT",
      `/${bundle.bucket}?versioning`,
      '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>',
    );
    buckets.add(bundle.bucket);
  }
  const version = (await s3(port, "PUT", `/${bundle.bucket}/${bundle.key}`, bundle.content)).headers["x-amz-version-id"];
  if (!version) throw new Error("the emulator gave the bundle no version id");
  return version;
}

const dynamodb = (port, operation, body) => moto(port, "dynamodb", `DynamoDB_20120810.${operation}`, body);

/** The jobs table as the stack synthesizes it. */
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

/** A slot's record in the jobs table (strongly consistent read), unmarshalled; undefined if none. */
async function slotRecord(port, table, job, slot) {
  const item = (await dynamodb(port, "GetItem", { TableName: table, Key: { job: { S: job }, slot: { S: slot } }, ConsistentRead: true }))
    .Item;
  return item && Object.fromEntries(Object.entries(item).map(([k, v]) => [k, v.N !== undefined ? Number(v.N) : (v.S ?? v.BOOL)]));
}

/** The slot id the runner gives a scheduled time: the minute, UTC (YYYY-MM-DDTHH:MMZ). */
const slotId = (ms) => `${new Date(ms).toISOString().slice(0, 16)}Z`;

/** The sum of a metric's datapoints (without dimensions) since `since`, from the emulator's CloudWatch. */
function metricSum(port, namespace, name, since) {
  const form = new URLSearchParams({
    Action: "GetMetricStatistics",
    Version: "2010-08-01",
    Namespace: namespace,
    MetricName: name,
    StartTime: new Date(since).toISOString(),
    EndTime: new Date(Date.now() + 60000).toISOString(),
    Period: "86400",
    "Statistics.member.1": "Sum",
  });
  return new Promise((resolve, reject) => {
    const headers = {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `AWS4-HMAC-SHA256 Credential=AKIAREHEARSAL0000001/20260101/${REGION}/monitoring/aws4_request, SignedHeaders=host, Signature=0`,
    };
    const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/", headers }, (res) => {
      let data = "";
      res.on("data", (c) => (data += c));
      res.on("end", () =>
        res.statusCode < 300
          ? resolve([...data.matchAll(/<Sum>([\d.]+)<\/Sum>/g)].reduce((a, m) => a + Number(m[1]), 0))
          : reject(new Error(`GetMetricStatistics: ${res.statusCode} ${data}`)),
      );
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
      await new Promise((resolve, reject) =>
        http.get({ host: "127.0.0.1", port, path: "/moto-api/" }, (r) => r.resume().on("end", resolve)).on("error", reject),
      );
      return port;
    } catch {
      if (child.exitCode !== null) throw new Error(`moto_server exited: ${err}`);
      await sleep(200);
    }
  }
  throw new Error(`moto_server did not answer: ${err}`);
}

/**
 * The deploy rehearsal's emulator (rehearsals/deploy/emulator.py): moto with the project's extension (rehearsals/deploy/gaps.py),
 * which evaluates policy conditions as AWS does (a bucket policy's TLS-only deny, for one), in account
 * `accountId`. `settings` override its moto settings (for example S3_IGNORE_SUBDOMAIN_BUCKETNAME=false for
 * clients that address buckets by host name, as the AWS CLI does). Resolves to its port.
 */
async function startEmulator(accountId, settings = {}) {
  const python = process.env.MOTO_PYTHON || path.join(path.dirname(path.dirname(MOTO)), "bin", "python");
  const dir = fs.mkdtempSync("/tmp/webapp-emulator-");
  const portFile = path.join(dir, "port");
  const child = spawn(
    python,
    [path.join(ROOT, "rehearsals", "deploy", "emulator.py"), "serve", "--account-id", accountId, "--port-file", portFile],
    {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...settings },
    },
  );
  cleanups.push(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  });
  let err = "";
  child.stderr.on("data", (c) => (err += c));
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) throw new Error(`the emulator exited: ${err}`);
    if (fs.existsSync(portFile)) {
      const port = Number(fs.readFileSync(portFile, "utf8"));
      try {
        await new Promise((resolve, reject) =>
          http.get({ host: "127.0.0.1", port, path: "/moto-api/" }, (r) => r.resume().on("end", resolve)).on("error", reject),
        );
        return port;
      } catch {
        // not answering yet
      }
    }
    await sleep(200);
  }
  throw new Error(`the emulator did not answer: ${err}`);
}

// Lifecycle actions: moto 5.2.5 has no CompleteLifecycleAction or RecordLifecycleActionHeartbeat, so the
// HTTPS front answers those two (only for this group's launch hook) and records them. The target group the
// instances leave and rejoin around a restart (RegisterTargets, DeregisterTargets) is no load balancer here:
// those calls are recorded and answered too.
function lifecycleStandIn(record, group, hook) {
  return (body) => {
    const form = new URLSearchParams(body);
    const action = form.get("Action");
    if (action === "RegisterTargets" || action === "DeregisterTargets") {
      record.push({ action, at: Date.now(), instance: form.get("Targets.member.1.Id"), targetGroup: form.get("TargetGroupArn") });
      const ns = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";
      return {
        status: 200,
        body: `<${action}Response xmlns="${ns}"><${action}Result/><ResponseMetadata><RequestId>rehearsal</RequestId></ResponseMetadata></${action}Response>`,
      };
    }
    if (action !== "CompleteLifecycleAction" && action !== "RecordLifecycleActionHeartbeat") return null;
    const entry = {
      action,
      at: Date.now(),
      group: form.get("AutoScalingGroupName"),
      hook: form.get("LifecycleHookName"),
      instance: form.get("InstanceId"),
      result: form.get("LifecycleActionResult"),
    };
    record.push(entry);
    if (entry.group !== group || entry.hook !== hook) {
      return {
        status: 400,
        body: `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>No lifecycle hook ${entry.hook} on ${entry.group}</Message></Error></ErrorResponse>`,
      };
    }
    return {
      status: 200,
      body: `<${action}Response xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><${action}Result/><ResponseMetadata><RequestId>rehearsal</RequestId></ResponseMetadata></${action}Response>`,
    };
  };
}

// ---------------------------------------------------------------- instances
function mount(...args) {
  execFileSync("mount", args);
}

function prepareInstance(work, index, userData, caPem, name, names) {
  const dir = path.join(work, name);
  const root = path.join(dir, "root");
  for (const d of ["upper", "work", "root"]) fs.mkdirSync(path.join(dir, d), { recursive: true });
  // REHEARSAL_PACKAGES_LAYER (the fleet rehearsal): the Debian packages packages.tsv maps to, already unpacked
  // over the rootfs, so the boot's dnf finds them installed (as on a warm instance) instead of unpacking npm's
  // 400 packages per instance; the boot rehearsal installs them from scratch.
  const lower = process.env.REHEARSAL_PACKAGES_LAYER ? `${process.env.REHEARSAL_PACKAGES_LAYER}:${ROOTFS}` : ROOTFS;
  mount("-t", "overlay", "overlay", "-o", `lowerdir=${lower},upperdir=${dir}/upper,workdir=${dir}/work`, root);
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
  const hosts = [
    "127.0.0.1 localhost",
    `10.99.1.${index} ip-10-99-1-${index}`,
    ...Object.entries(names).map(([k, list]) => `${ADDRESSES[k]} ${list.join(" ")}`),
  ];
  write("etc/hosts", `${hosts.join("\n")}\n`);
  write("etc/hostname", `ip-10-99-1-${index}\n`);
  // The instance trusts the rehearsal's CA, as an instance trusts the public roots its endpoints chain to.
  fs.appendFileSync(path.join(root, "etc/ssl/certs/ca-certificates.crt"), caPem);
  // An AL2023 AMI ships the AWS CLI on PATH before user data runs (its loader fetches the boot bundle with it).
  fs.mkdirSync(path.join(root, "usr/local/bin"), { recursive: true });
  if (!fs.existsSync(path.join(root, "usr/local/bin/aws"))) fs.symlinkSync("/opt/awscli/bin/aws", path.join(root, "usr/local/bin/aws"));
  for (const bundle of execFileSync("find", [path.join(root, "opt/awscli"), "-name", "cacert.pem"], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean))
    fs.appendFileSync(bundle, caPem);
  // The dnf stand-in, its one table and its stand-ins.
  write("usr/bin/dnf", fs.readFileSync(path.join(__dirname, "dnf")), 0o755);
  write("usr/share/rehearsal/packages.tsv", fs.readFileSync(path.join(__dirname, "packages.tsv")));
  for (const name of fs.readdirSync(path.join(__dirname, "stand-ins")))
    write(`usr/share/rehearsal/stand-ins/${name}`, fs.readFileSync(path.join(__dirname, "stand-ins", name)), 0o755);
  // cloud-init's part: run the user data once, at first boot, after the network is up.
  write("var/lib/cloud/instance/user-data.txt", userData, 0o600);
  write(
    "etc/systemd/system/rehearsal-user-data.service",
    "[Unit]\nDescription=Run the instance's user data (cloud-init's part)\nWants=network-online.target\nAfter=network-online.target\nConditionPathExists=!/var/lib/cloud/instance/boot-finished\n\n[Service]\nType=oneshot\nExecStart=/bin/bash /var/lib/cloud/instance/user-data.txt\nExecStartPost=/bin/touch /var/lib/cloud/instance/boot-finished\nStandardOutput=append:/var/log/cloud-init-output.log\nStandardError=inherit\nTimeoutStartSec=infinity\n\n[Install]\nWantedBy=multi-user.target\n",
  );
  fs.mkdirSync(path.join(root, "etc/systemd/system/multi-user.target.wants"), { recursive: true });
  fs.symlinkSync(
    "/etc/systemd/system/rehearsal-user-data.service",
    path.join(root, "etc/systemd/system/multi-user.target.wants/rehearsal-user-data.service"),
  );
  return { index, dir, root, address: `10.99.1.${index}`, id: `i-0rehearsal0000000${index}` };
}

function bootInstance(instance, efs) {
  const console = fs.openSync(path.join(instance.dir, "console.log"), "a");
  const child = spawn(
    "systemd-nspawn",
    [
      "--quiet",
      "--boot",
      "--register=no",
      "--keep-unit",
      "--console=pipe",
      `--directory=${instance.root}`,
      `--machine=rehearsal-i${instance.index}`,
      `--network-namespace-path=/run/netns/${NETNS}-i${instance.index}`,
      `--bind=${efs}:/srv/rehearsal-efs`,
    ],
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
  const children = fs
    .readFileSync(`/proc/${instance.child.pid}/task/${instance.child.pid}/children`, "utf8")
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  if (children.length !== 1) throw new Error(`instance ${instance.index}: expected one child of systemd-nspawn, found ${children.length}`);
  return children[0];
}

/**
 * Runs a command inside the instance (its mount, UTS, IPC, network and PID namespaces), as root. Never
 * synchronously: this process serves the instance's metadata and AWS endpoints meanwhile.
 */
function insideAsync(instance, args) {
  return new Promise((resolve) => {
    const child = spawn("nsenter", ["-t", leaderPid(instance), "-m", "-u", "-i", "-n", "-p", "--", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
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
  return fs
    .readdirSync(dir)
    .map((f) => `--- ${f}\n${fs.readFileSync(path.join(dir, f), "utf8").split("\n").slice(-15).join("\n")}`)
    .join("\n");
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

/**
 * Runs a rehearsal driver's `main` (which may return an exit code) and exits: 0 when it returned 0 or nothing
 * and no check failed, else 1; the clean-ups run in reverse order in every case, also on SIGTERM and SIGINT.
 */
function runRehearsal(label, main, failures) {
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        console.error(`cleanup: ${err.message}`);
      }
    }
  };
  process.on("SIGTERM", () => cleanup().then(() => process.exit(143)));
  process.on("SIGINT", () => cleanup().then(() => process.exit(130)));
  main()
    .then(
      (code) => (failures.length === 0 && (code === undefined || code === 0) ? 0 : 1),
      (err) => {
        console.error(`rehearsal: ${err.stack || err.message}`);
        return 1;
      },
    )
    .then(async (code) => {
      await cleanup();
      say(code === 0 ? `${label} passed` : `${label} FAILED${failures.length ? `: ${failures.join("; ")}` : ""}`);
      process.exit(code);
    });
}

module.exports = {
  runRehearsal,
  ROOT,
  ROOTFS,
  NETNS,
  COUNT,
  REGION,
  BOOT_LIMIT_SECONDS,
  ADDRESSES,
  serviceNames,
  cleanups,
  say,
  sleep,
  synthesizedStack,
  bootFromStack,
  fillHeader,
  moto,
  secrets,
  s3,
  storeBundle,
  dynamodb,
  createJobsTable,
  slotRecord,
  slotId,
  metricSum,
  startMoto,
  startEmulator,
  lifecycleStandIn,
  prepareInstance,
  bootInstance,
  stopInstance,
  leaderPid,
  insideAsync,
  readInside,
  filesHolding,
  get,
  put,
  stepTimes,
  bootLog,
  waitHealthy,
};
