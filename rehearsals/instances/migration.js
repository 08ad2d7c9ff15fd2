// The migration rehearsal, run by scripts/rehearse-migration.sh (through rehearse-boot.sh's namespaces) inside
// the services network namespace: docs/runbooks.md 10 ("Migrating a running single-server app in"), every block
// run as written, moving a running app from an old single server into the staging environment under load, then
// back again. The old server is a container from the same clean rootfs running the sample app the way a single
// server does (nginx, its own PostgreSQL and Redis, uploads on local disk, a crontab), with data made here;
// clients (vegeta and the checks) reach the app by its name through the DNS stand-in, which answers from the
// hosted zone in the emulator, so the names move when the runbook moves them. It checks that nothing is lost
// (rows, sequences, uploads, every acknowledged write), measures the write freeze, rolls back once, and counts
// the timed job's runs on each side. Real: the synthesized stack, the instances under systemd, PostgreSQL,
// Redis, git, the AWS CLI against moto, HAProxy, vegeta, nginx, pg_dump and pg_restore. Stand-ins, each named:
// the fleet rehearsal's (balancer.js, group.js, operator/) and the boot rehearsal's, DNS (dns.js), Run Command
// (run-command.js), the cut-over apply (the alias records the synthesized stack adds, UPSERTed as the provider
// does), and `scp` (a copy into the old server).
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const https = require("node:https");
const path = require("node:path");
const { runSimulation } = require("@cloud-copilot/iam-simulate");
const { certificates, startPostgres, startRedis } = require("../../examples/app/test/services");
const servers = require("./servers");
const parts = require("./parts");
const { Balancer, albSettings } = require("./balancer");
const { Group, groupSettings } = require("./group");
const load = require("./load");
const { startDns, lookup } = require("./dns");
const { RunCommand } = require("./run-command");
const { until, shellBlocks, runBlock, terminal, operatorShell, pemOf, makeEfs } = require("./runbook");

const { ROOT, ROOTFS, NETNS, REGION, ADDRESSES, cleanups, say, sleep, insideAsync, readInside } = parts;
const ENV = "staging";
const PREFIX = `webapp-${ENV}`;
const LB = "10.99.0.30";
const DNS = "10.99.0.53";
const OLD = "10.99.2.1";
const ACCOUNT = "111111111111"; // the stacks' account, which the emulator is started in
const BUCKET = `${PREFIX}-migration-${ACCOUNT}`;
const RATE = Number(process.env.MIGRATION_RATE || 10);
const UPLOADS_DIR = "/var/www/app/storage/uploads";
const RUNBOOK = "docs/runbooks.md";
const TARGET_GROUP_ARN = "arn:aws:elasticloadbalancing:eu-west-2:111111111111:targetgroup/8080-rehearsal/0123456789abcdef";
const ALB_DNS_NAME = "webapp-staging-alb-1234567890.eu-west-2.elb.amazonaws.com";
const ALB_ZONE_ID = "ZHURV8PSTC4K8";
const SERVICES_EXTRA = [`s3.${REGION}.amazonaws.com`, `${BUCKET}.s3.${REGION}.amazonaws.com`];
// The timed job every minute (the sample's runs every 5): a schedule a user may set, so each side's minutes show.
const EVERY_MINUTE = [{ name: "record-run", schedule: "* * * * *", command: "node dist/jobs/record-run.js" }];

const failures = [];
function check(ok, text, detail = "") {
  say(`${ok ? "ok  " : "FAIL"} ${text}${ok || !detail ? "" : `\n${String(detail).slice(0, 4000)}`}`);
  if (!ok) failures.push(text);
  return ok;
}
class Stop extends Error {}
/** A runbook block must succeed; otherwise the run stops here with its output (what the runbook did not say). */
function must(result, text) {
  if (!check(result.code === 0, text, result.output)) throw new Stop();
  return result;
}

// ---------------------------------------------------------------- the old server
/** The old server: its own network namespace on the bridge, an overlay of the rootfs and its packages layer. */
async function startOldServer(work, { caPem, tls, domain, password }) {
  const ns = `${NETNS}-old`;
  const ip = (...args) => execFileSync("ip", args);
  ip("netns", "add", ns);
  ip("-n", ns, "link", "set", "lo", "up");
  ip("link", "add", "old0", "type", "veth", "peer", "name", "eth0", "netns", ns);
  ip("link", "set", "old0", "master", "br0", "up");
  ip("-n", ns, "addr", "add", `${OLD}/16`, "dev", "eth0");
  ip("-n", ns, "link", "set", "eth0", "up");
  const dir = path.join(work, "old-server");
  const root = path.join(dir, "root");
  for (const d of ["upper", "work", "root"]) fs.mkdirSync(path.join(dir, d), { recursive: true });
  execFileSync("mount", [
    "-t",
    "overlay",
    "overlay",
    "-o",
    `lowerdir=${process.env.REHEARSAL_OLD_SERVER_LAYER}:${ROOTFS},upperdir=${dir}/upper,workdir=${dir}/work`,
    root,
  ]);
  cleanups.push(() => {
    try {
      execFileSync("umount", ["-l", root]);
    } catch {
      // gone
    }
  });
  const write = (file, text, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text, { mode });
  };
  write("etc/hostname", "old-server\n");
  // A server outside AWS reaches the public S3 endpoints; here they are the emulator's front.
  write("etc/hosts", `127.0.0.1 localhost old-server\n${ADDRESSES.aws} ${SERVICES_EXTRA.join(" ")}\n`);
  fs.appendFileSync(path.join(root, "etc/ssl/certs/ca-certificates.crt"), caPem);
  for (const bundle of execFileSync("find", [path.join(root, "opt/awscli"), "-name", "cacert.pem"], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean))
    fs.appendFileSync(bundle, caPem);
  write("etc/ssl/rehearsal/ca.pem", caPem);
  write("etc/ssl/rehearsal/server.pem", fs.readFileSync(tls.cert, "utf8"));
  write("etc/ssl/rehearsal/server.key", fs.readFileSync(tls.key, "utf8"), 0o600);
  // The app's code: the sample app of this working tree, as deployed on the server before the migration.
  fs.cpSync(path.join(ROOT, "examples/app"), path.join(root, "var/www/app"), {
    recursive: true,
    filter: (src) => !/\/(dist|node_modules)$/.test(src),
  });
  write("root/old-server.sh", fs.readFileSync(path.join(__dirname, "old-server.sh")), 0o755);
  const server = { index: "old", dir, root, address: OLD, id: "old-server" };
  const console = fs.openSync(path.join(dir, "console.log"), "a");
  server.child = spawn(
    "systemd-nspawn",
    [
      "--quiet",
      "--boot",
      "--register=no",
      "--keep-unit",
      "--console=pipe",
      `--directory=${root}`,
      "--machine=rehearsal-old",
      `--network-namespace-path=/run/netns/${ns}`,
    ],
    { stdio: ["ignore", console, console] },
  );
  cleanups.push(() => parts.stopInstance(server, 10000));
  const state = async () => {
    try {
      return (await insideAsync(server, ["systemctl", "is-system-running"])).output.match(/running|degraded/);
    } catch {
      return null; // systemd-nspawn has not started the container's init yet
    }
  };
  await until("the old server's systemd", state, 60, 500).catch(async () => {
    throw new Error(`the old server did not boot:\n${fs.readFileSync(path.join(dir, "console.log"), "utf8").slice(-3000)}`);
  });
  const setup = await insideAsync(server, ["bash", "/root/old-server.sh", domain, password]);
  if (setup.code !== 0) throw new Error(`setting up the old server failed:\n${setup.output.slice(-3000)}`);
  return server;
}

/** An app-like schema with constraints, sequences, an identity column, a trigger and a view, and a few thousand rows. */
const SEED_SQL = `
SET ROLE app;
CREATE TABLE accounts (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE CHECK (email LIKE '%@%'), name text NOT NULL, settings jsonb NOT NULL DEFAULT '{}', created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE quizzes (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts ON DELETE CASCADE, title text NOT NULL CHECK (title <> ''), published boolean NOT NULL DEFAULT false, cover bytea, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE questions (id serial PRIMARY KEY, quiz_id integer NOT NULL REFERENCES quizzes ON DELETE CASCADE, position smallint NOT NULL CHECK (position > 0), body text NOT NULL, UNIQUE (quiz_id, position));
CREATE SEQUENCE invoice_number_seq START 100000;
CREATE TABLE invoices (id bigserial PRIMARY KEY, number bigint NOT NULL DEFAULT nextval('invoice_number_seq') UNIQUE, account_id bigint NOT NULL REFERENCES accounts, amount numeric(10,2) NOT NULL CHECK (amount >= 0), issued_on date NOT NULL);
ALTER SEQUENCE invoice_number_seq OWNED BY invoices.number;
CREATE INDEX questions_body ON questions (lower(body));
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER quizzes_touch BEFORE UPDATE ON quizzes FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE VIEW published_quizzes AS SELECT q.id, q.title, a.email FROM quizzes q JOIN accounts a ON a.id = q.account_id WHERE q.published;
INSERT INTO accounts (email, name, settings) SELECT 'user' || i || '@example.com', (ARRAY['Zoë', 'José', '李雷', 'Ørjan', 'O''Brien'])[1 + i % 5] || ' ' || i, jsonb_build_object('theme', CASE WHEN i % 2 = 0 THEN 'dark' ELSE 'light' END, 'n', i) FROM generate_series(1, 500) i;
INSERT INTO quizzes (account_id, title, published, cover) SELECT 1 + i % 500, 'Quiz ' || i || ' – ' || (ARRAY['Capitals', 'Café trivia', '東京 facts', 'Emoji 🎉'])[1 + i % 4], i % 3 = 0, decode(md5(i::text), 'hex') FROM generate_series(1, 1500) i;
INSERT INTO questions (quiz_id, position, body) SELECT 1 + i / 4, 1 + i % 4, 'Question ' || i || E'\\twith a tab, a ''quote'' and a newline\\n' FROM generate_series(0, 5999) i;
INSERT INTO invoices (account_id, amount, issued_on) SELECT 1 + i % 500, (i * 7.31)::numeric(10,2), date '2026-01-01' + i % 300 FROM generate_series(1, 800) i;
UPDATE quizzes SET published = true WHERE id % 10 = 0;
DELETE FROM questions WHERE id % 97 = 0;
DELETE FROM invoices WHERE id > 790;
`;

/** Per table: rows and a checksum of every row; per sequence: its last value and its column's largest value. */
const DIGEST_SQL = `
SET TimeZone = 'UTC';
SELECT format('SELECT %L, count(*), md5(coalesce(string_agg(t::text, chr(10) ORDER BY t::text COLLATE "C"), %L)) FROM %I.%I t %s', tablename, '', schemaname, tablename,
  CASE WHEN tablename = 'cron_runs' THEN $$WHERE instance NOT LIKE 'ip-%'$$ ELSE '' END)
  FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename \\gexec
SELECT format('SELECT %L, coalesce((SELECT last_value FROM %I.%I), 0), (SELECT coalesce(max(%I), 0) FROM %I.%I)', 'sequence ' || s.relname, sn.nspname, s.relname, a.attname, n.nspname, t.relname)
  FROM pg_class s JOIN pg_namespace sn ON sn.oid = s.relnamespace JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
  JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
  WHERE s.relkind = 'S' AND sn.nspname = 'public' ORDER BY s.relname \\gexec
SELECT 'database size', pg_database_size(current_database()), (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r');
`;

function parseDigest(text) {
  const tables = {};
  const sequences = {};
  let size = { database: 0, tables: 0 };
  for (const line of text.split("\n").filter((l) => l.includes("|"))) {
    const [name, a, b] = line.split("|");
    if (name === "database size") size = { database: Number(a), tables: Number(b) };
    else if (name.startsWith("sequence ")) sequences[name.slice(9)] = { last: Number(a), max: Number(b) };
    else tables[name] = { rows: Number(a), md5: b };
  }
  return { tables, sequences, size };
}

// ---------------------------------------------------------------- uploads made here
/** A few hundred files of varied sizes under folders, with spaces and non-ASCII names, as an app accumulates them. */
function seedUploads(dir) {
  const names = [];
  const random = (n) => crypto.randomBytes(n);
  const words = [
    "photo",
    "Café menu",
    "東京 タワー",
    "résumé final (v2)",
    "emoji 🎉 party",
    "O'Brien & co",
    "100% done",
    "a+b=c",
    "naïve façade",
    "Ünïcödé",
  ];
  for (let i = 0; i < 300; i++) {
    const folder = i % 3 === 0 ? `avatars/${1 + (i % 50)}` : i % 3 === 1 ? `quizzes/quiz ${1 + (i % 40)}` : "documents/Ελληνικά έγγραφα";
    const size = i === 7 ? 9 * 1024 * 1024 : i % 50 === 0 ? 1024 * 1024 + i : i % 10 === 0 ? 0 : 200 + ((i * 7919) % 60000);
    const name = `${folder}/${words[i % words.length]} ${i}.${["jpg", "png", "pdf", "txt"][i % 4]}`;
    fs.mkdirSync(path.join(dir, path.dirname(name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), random(size));
    names.push(name);
  }
  return names;
}

/** Every regular file under `dir` (its app's own dot files aside): relative path -> sha256. */
function fileDigests(dir) {
  const result = {};
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) result[path.relative(dir, full)] = crypto.createHash("sha256").update(fs.readFileSync(full)).digest("hex");
    }
  };
  walk(dir);
  return result;
}

function compareFiles(before, after) {
  const missing = Object.keys(before).filter((k) => !(k in after));
  const changed = Object.keys(before).filter((k) => k in after && after[k] !== before[k]);
  const extra = Object.keys(after).filter((k) => !(k in before));
  return { missing, changed, extra, ok: missing.length === 0 && changed.length === 0 && extra.length === 0 };
}

const encodePath = (name) => name.split("/").map(encodeURIComponent).join("/");

// ---------------------------------------------------------------- clients that resolve the app's name
/** An HTTPS request to the app's name, resolved through the DNS stand-in (no cache), as a user's browser. */
async function byName(domain, ca, method, urlPath, body) {
  const [address] = await lookup(DNS, domain);
  if (!address) return { status: 0, address, body: "no address" };
  return new Promise((resolve) => {
    const req = https.request(
      { host: address, servername: domain, port: 443, method, path: urlPath, headers: { host: domain }, ca, timeout: 10000 },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, address, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", (err) => resolve({ status: 0, address, body: Buffer.from(err.message) }));
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end(body);
  });
}

/** The emulator's hosted zone, read directly (what the DNS stand-in serves), refreshed twice a second. */
function zoneReader(motoPort, zoneId) {
  let sets = [];
  const read = () =>
    new Promise((resolve) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port: motoPort,
          method: "GET",
          path: `/2013-04-01/hostedzone/${zoneId}/rrset`,
          headers: {
            authorization: `AWS4-HMAC-SHA256 Credential=AKIAREHEARSAL0000001/20260101/us-east-1/route53/aws4_request, SignedHeaders=host, Signature=0`,
          },
        },
        (res) => {
          let xml = "";
          res.on("data", (c) => (xml += c));
          res.on("end", () => {
            const tag = (text, name) => new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(text)?.[1];
            sets = [...xml.matchAll(/<ResourceRecordSet>([\s\S]*?)<\/ResourceRecordSet>/g)].map(([, set]) => {
              const alias = tag(set, "AliasTarget");
              return {
                Name: tag(set, "Name"),
                Type: tag(set, "Type"),
                TTL: tag(set, "TTL"),
                AliasTarget: alias ? { DNSName: tag(alias, "DNSName") } : undefined,
                ResourceRecords: [...set.matchAll(/<Value>([\s\S]*?)<\/Value>/g)].map(([, v]) => ({ Value: v })),
              };
            });
            resolve();
          });
        },
      );
      req.on("error", () => resolve());
      req.end();
    });
  const timer = setInterval(read, 500);
  cleanups.push(() => clearInterval(timer));
  return { read, records: async (name) => sets.filter((s) => s.Name.replace(/\.$/, "").toLowerCase() === name) };
}

// ---------------------------------------------------------------- the timed job
/**
 * The timed job's runs, one row per run from `cron_runs` (job record-run), merged from every read of either
 * database (a restore replaces a table, so the rehearsal reads it before each): per minute slot, which side ran
 * it. The old server's runs say `old-server`, the fleet's an instance name. The one place this is counted.
 */
function timedJobRuns(reads) {
  const seen = new Map();
  for (const text of reads) {
    for (const line of text.split("\n").filter(Boolean)) {
      const [id, instance, at] = line.split("|");
      seen.set(`${instance}|${at}`, { id, instance, at: Date.parse(at), side: instance === "old-server" ? "old" : "new" });
    }
  }
  const slots = {};
  for (const run of seen.values()) {
    const slot = new Date(Math.floor(run.at / 60000) * 60000).toISOString().slice(11, 16);
    (slots[slot] ||= []).push(run.side);
  }
  return { runs: [...seen.values()].sort((a, b) => a.at - b.at), slots };
}
const CRON_RUNS_SQL =
  "SELECT id, instance, to_char(ran_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM cron_runs WHERE job = 'record-run' ORDER BY id";

// ---------------------------------------------------------------- IAM, as AWS evaluates it
async function simulate(principal, identity, resourcePolicy, action, resource) {
  const result = await runSimulation(
    {
      request: {
        principal,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: { "aws:PrincipalArn": principal, "aws:PrincipalAccount": ACCOUNT, "aws:SecureTransport": "true" },
      },
      identityPolicies: identity.map((policy, i) => ({ name: `identity-${i}`, policy })),
      resourcePolicy,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === "error") throw new Error(`simulation of ${action} on ${resource}: ${JSON.stringify(result.errors)}`);
  return result.overallResult;
}

// ---------------------------------------------------------------- main
async function main() {
  const t0 = Date.now();
  const work = fs.mkdtempSync("/var/tmp/webapp-migration-");
  cleanups.push(() => {
    if (!process.env.REHEARSAL_KEEP) fs.rmSync(work, { recursive: true, force: true });
  });
  say(`work ${work}, rootfs ${ROOTFS}, environment ${ENV}, ${RATE} requests/s`);
  execFileSync("ip", ["addr", "add", `${DNS}/16`, "dev", "br0"]);

  // ------------------------------------------------------------ the stack, with the switch off and on
  execFileSync("npm", ["run", "-s", "build"], { cwd: ROOT, stdio: "ignore" });
  const stackOff = parts.synthesizedStack(ENV, {
    compute: { cronJobs: EVERY_MINUTE },
    edge: { routeTraffic: false },
    outdir: path.join(work, "synth-off"),
  });
  const stackOn = parts.synthesizedStack(ENV, {
    compute: { cronJobs: EVERY_MINUTE },
    edge: { routeTraffic: true },
    outdir: path.join(work, "synth-on"),
  });
  const domain = Object.values(stackOff.resource.aws_acm_certificate)[0].domain_name;
  const added = [];
  const changed = [];
  for (const [type, resources] of Object.entries(stackOn.resource)) {
    for (const [id, value] of Object.entries(resources)) {
      const before = stackOff.resource[type]?.[id];
      if (!before) added.push({ type, id, value });
      else if (JSON.stringify(before) !== JSON.stringify(value)) changed.push(`${type}.${id}`);
    }
  }
  const removed = Object.entries(stackOff.resource).flatMap(([type, r]) =>
    Object.keys(r)
      .filter((id) => !stackOn.resource[type]?.[id])
      .map((id) => `${type}.${id}`),
  );
  check(
    added.length > 0 &&
      added.every((a) => a.type === "aws_route53_record" && a.value.alias) &&
      changed.length === 0 &&
      removed.length === 0,
    `the cut-over (edge.routeTraffic true) adds only the alias records: ${added.map((a) => `${a.type}.${a.id} ${a.value.name}`).join(", ")}`,
    JSON.stringify({ changed, removed, added: added.map((a) => `${a.type}.${a.id}`) }),
  );
  const alb = albSettings(stackOff);
  const groupConfig = groupSettings(stackOff);
  // What the instances boot from: the user data's loader, the boot bundle it fetches, the jobs table.
  const { userData, bundle, jobsTable } = parts.bootFromStack(stackOff);
  // Staging's hosted zone (edge.hostedZone.name): the apex of its domain.
  const zoneName = domain.split(".").slice(-2).join(".");
  const NAMES = parts.serviceNames(ENV, bundle.bucket);
  NAMES.aws = [...NAMES.aws, ...SERVICES_EXTRA];
  const tls = certificates(
    path.join(work, "tls"),
    [domain, "localhost", ...Object.values(NAMES).flat(), ADDRESSES.aws, LB],
    "webapp rehearsal CA",
  );
  const caPem = fs.readFileSync(tls.ca, "utf8");
  fs.chmodSync(path.join(work, "tls"), 0o755);
  for (const f of ["ca.pem", "server.pem", "server.key"]) fs.chmodSync(path.join(work, "tls", f), 0o644);

  // ------------------------------------------------------------ the new environment's services (what the first apply leaves)
  const master = { username: "dbadmin", password: "rehearsal-master-pw" };
  const cacheToken = "rehearsal-cache-token-0123456789abcdef";
  const postgres = await startPostgres({ tls, host: ADDRESSES.db, port: 5432 });
  cleanups.push(() => postgres.stop());
  // The RDS master user: rds_superuser-like, which may end any session (pg_terminate_backend): AWS, "Understanding
  // the rds_superuser role", https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.rds_superuser.html
  postgres.psql(`CREATE ROLE ${master.username} LOGIN CREATEROLE CREATEDB PASSWORD '${master.password}'`);
  postgres.psql(`GRANT pg_signal_backend TO ${master.username}`);
  postgres.psql(`CREATE DATABASE app OWNER ${master.username}`);
  const newSql = (sql) =>
    execFileSync(
      "runuser",
      [
        "-u",
        "postgres",
        "--",
        "psql",
        "-h",
        postgres.dir,
        "-p",
        "5432",
        "-U",
        "postgres",
        "-d",
        "app",
        "-At",
        "-v",
        "ON_ERROR_STOP=1",
        "-f",
        "-",
      ],
      { input: sql, encoding: "utf8" },
    );
  const redis = await startRedis({ tls, password: cacheToken, host: ADDRESSES.cache, port: 6379 });
  cleanups.push(() => redis.stop());
  // The deploy rehearsal's emulator: moto with the project's extension, so the transfer bucket's TLS-only deny is
  // evaluated as AWS does (plain moto applies it to every request); buckets addressed by host name, as the AWS
  // CLI on the instances and the old server does.
  const motoPort = await parts.startEmulator(ACCOUNT, { S3_IGNORE_SUBDOMAIN_BUCKETNAME: "false" });
  const secret = (name, value) =>
    parts.moto(
      motoPort,
      "secretsmanager",
      "secretsmanager.CreateSecret",
      value === undefined ? { Name: name } : { Name: name, SecretString: value },
    );
  const arns = {
    appEnv: (await secret(`${PREFIX}/app-env`)).ARN,
    repo: (await secret(`${PREFIX}/repository-credential`)).ARN,
    db: (await secret(`${PREFIX}/database-app-user`)).ARN,
    cache: (await secret(`${PREFIX}/redis-auth-token`, cacheToken)).ARN,
    master: (await secret("rds!db-rehearsal-0001", JSON.stringify(master))).ARN,
  };
  // The apply's part: the boot bundle in its versioned bucket, the jobs table.
  const bundleVersion = await parts.storeBundle(motoPort, bundle);
  await parts.createJobsTable(motoPort, jobsTable);
  say(`boot bundle s3://${bundle.bucket}/${bundle.key} (version ${bundleVersion}); jobs table ${jobsTable.name}`);

  const repoToken = "rehearsal-repo-token";
  const gitRoot = path.join(work, "git");
  const bare = path.join(gitRoot, "example-org", "cdktf-webapp-platform.git");
  execFileSync("git", ["init", "-q", "--bare", bare]);
  const tree = execFileSync("git", ["-C", ROOT, "stash", "create"], { encoding: "utf8" }).trim() || "HEAD";
  execFileSync("git", ["-C", ROOT, "push", "-q", bare, `${tree}:refs/heads/main`]);
  const tag = /REPO_REF='refs\/tags\/([^']+)'/.exec(bundle.script)[1];
  execFileSync("git", ["-C", bare, "tag", tag, "main"]);

  const metadata = {};
  const balancer = await new Balancer(alb, {
    dir: path.join(work, "balancer"),
    address: LB,
    certificate: pemOf(tls, work),
    log: say,
  }).start();
  cleanups.push(() => balancer.stop());
  const efs = makeEfs(work);
  const group = new Group(groupConfig, {
    balancer,
    targetGroupArn: TARGET_GROUP_ARN,
    work,
    efs,
    caPem,
    names: NAMES,
    metadata,
    netns: NETNS,
    log: say,
  });
  cleanups.push(() => group.stop());
  const runCommand = new RunCommand({ instances: (id) => group.instances.get(id), log: say });
  await servers.awsFront({
    host: ADDRESSES.aws,
    tls,
    target: { host: "127.0.0.1", port: motoPort },
    intercept: (body, req) => runCommand.intercept(body, req) || group.intercept(body, req),
  });
  await servers.imds({ host: ADDRESSES.imds, instances: metadata, log: say });
  await servers.gitServer({ host: ADDRESSES.git, tls, root: gitRoot, token: repoToken });
  await servers.trustStore({ host: ADDRESSES.truststore, tls, bundle: tls.ca });
  const fill = (userData) =>
    parts.fillHeader(userData, {
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
      TARGET_GROUP_ARN,
      BOOT_BUNDLE_BUCKET: bundle.bucket,
      BOOT_BUNDLE_VERSION: bundleVersion,
    });
  const outputs = { database_endpoint: `${NAMES.db[0]}:5432`, database_master_secret_arn: arns.master, alb_dns_name: ALB_DNS_NAME };
  const operator = operatorShell(work, { env: ENV, tls, outputs, group, names: NAMES });
  const admin = (title, text) => runBlock(title, text, operator);

  // ------------------------------------------------------------ the world before: the zone, the old server and its data
  const before = must(
    await admin(
      "the hosted zone as it is (the old server's A and AAAA records)",
      `aws route53 create-hosted-zone --name ${zoneName} --caller-reference rehearsal --query HostedZone.Id --output text
ZONE=$(aws route53 list-hosted-zones-by-name --dns-name ${zoneName} --query 'HostedZones[0].Id' --output text)
jq -n --arg name ${domain} '{Changes: [{Action: "CREATE", ResourceRecordSet: {Name: $name, Type: "A", TTL: 3600, ResourceRecords: [{Value: "${OLD}"}]}},
  {Action: "CREATE", ResourceRecordSet: {Name: $name, Type: "AAAA", TTL: 3600, ResourceRecords: [{Value: "2001:db8::10"}]}}]}' > zone.json
aws route53 change-resource-record-sets --hosted-zone-id "$ZONE" --change-batch file://zone.json >/dev/null
echo "zone=$ZONE"
aws sts get-caller-identity --query Account --output text`,
    ),
    "the hosted zone holds the old server's records",
  );
  const zoneId = /zone=\/hostedzone\/(\S+)/.exec(before.output)[1];
  check(before.output.includes(ACCOUNT), `the emulator's account is ${ACCOUNT}`);
  const zone = zoneReader(motoPort, zoneId);
  await zone.read();
  const dns = await startDns({ host: DNS, records: zone.records, aliases: { [ALB_DNS_NAME]: LB }, log: say });
  cleanups.push(() => dns.close());
  say(`DNS stand-in on ${DNS}:53 answers ${domain} from zone ${zoneId}: ${(await lookup(DNS, domain)).join(", ")}`);

  const old = await startOldServer(work, { caPem, tls, domain, password: "old-app-db-pw" });
  const oldSql = async (sql, db = "app") => {
    fs.mkdirSync(path.join(old.root, "srv/rehearsal"), { recursive: true });
    fs.writeFileSync(path.join(old.root, "srv/rehearsal/query.sql"), sql);
    const r = await insideAsync(old, [
      "runuser",
      "-u",
      "postgres",
      "--",
      "psql",
      "-d",
      db,
      "-At",
      "-v",
      "ON_ERROR_STOP=1",
      "-f",
      "/srv/rehearsal/query.sql",
    ]);
    if (r.code !== 0) throw new Error(`old server psql: ${r.output}`);
    return r.output;
  };
  await oldSql(SEED_SQL);
  const seeded = seedUploads(path.join(old.root, UPLOADS_DIR));
  await insideAsync(old, ["chown", "-R", "www-data:www-data", UPLOADS_DIR]);
  const seedDigest = parseDigest(await oldSql(DIGEST_SQL));
  const seededBytes = seeded.reduce((n, f) => n + fs.statSync(path.join(old.root, UPLOADS_DIR, f)).size, 0);
  say(
    `old server ${OLD}: ${Object.values(seedDigest.tables).reduce((n, t) => n + t.rows, 0)} rows in ${Object.keys(seedDigest.tables).length} tables, ${seeded.length} uploads (${(seededBytes / 1048576).toFixed(1)} MiB)`,
  );
  const viaName = await byName(domain, caPem, "GET", `/uploads/${encodePath(seeded[1])}`);
  check(
    viaName.status === 200 && viaName.address === OLD,
    `the old server serves ${domain} (${viaName.address}): an upload with a non-ASCII name reads back (${viaName.status})`,
  );

  // ------------------------------------------------------------ load by name, writing to both the database and the uploads
  const loadDir = path.join(work, "load");
  fs.mkdirSync(loadDir, { recursive: true });
  const lines = [];
  const uploadBodies = {};
  for (let i = 0; i < 60; i++) {
    const note = path.join(loadDir, `note-${i}`);
    fs.writeFileSync(note, `note ${i} written under load ✓`);
    const name = `load/written ${i} – é.txt`;
    const file = path.join(loadDir, `upload-${i}`);
    fs.writeFileSync(file, `upload ${i} written under load\n`);
    uploadBodies[name] = fs.readFileSync(file, "utf8");
    lines.push(
      `POST https://${domain}/notes?t=${i}`,
      `@${note}`,
      "",
      `PUT https://${domain}/uploads/${encodePath(name)}`,
      `@${file}`,
      "",
      `GET https://${domain}/notes/${1 + (i % 5)}`,
      "",
      `GET https://${domain}/uploads/${encodePath(seeded[(i * 7) % seeded.length])}`,
      "",
    );
  }
  fs.writeFileSync(path.join(loadDir, "targets.http"), lines.join("\n"));
  const resultsFile = path.join(work, "results.bin");
  // Every request resolves the name (no DNS cache) on a new connection, so it goes where the zone points now.
  const attack = load.attack({
    targets: path.join(loadDir, "targets.http"),
    rate: RATE,
    output: resultsFile,
    ca: tls.ca,
    timeoutSeconds: 20,
    log: say,
    args: [`-resolvers=${DNS}:53`, "-dns-ttl=-1", "-keepalive=false"],
  });
  cleanups.push(() => attack.stop());
  const rounds = [];
  const cronReads = [];
  const newNotesAtCutOver = new Map();
  let result = 0;

  try {
    // ---------------------------------------------------------- the runbook's variables, on both machines
    const [operatorVariables] = shellBlocks(RUNBOOK, "# Runbooks");
    const section = shellBlocks(RUNBOOK, "## 10. Migrating a running single-server app in");
    const [mine, oldVariables] = section;
    const fillMine = mine
      .replace(/^NAME=app\.example\.com\b/m, `NAME=${domain}`)
      .replace(/^ZONE_ID=Z0123456789ABCDEFGHIJ\b/m, `ZONE_ID=${zoneId}`);
    check(
      fillMine !== mine && /ZONE_ID=\/?hostedzone|ZONE_ID=\w/.test(fillMine),
      "the section's variables: the app's name and zone filled in",
    );
    const you = terminal({ name: "operator", cwd: operator.cwd, env: operator.env, dir: path.join(operator.cwd, ".blocks") });
    must(
      await you.run("variables", `${operatorVariables.replace(/^ENV=dev\b/m, `ENV=${ENV}`)}\n${fillMine}\necho "TRANSFER=$TRANSFER"`),
      "the runbook's variables (top of the page and section 10)",
    );
    fs.mkdirSync(path.join(old.root, "home/admin/.blocks"), { recursive: true });
    const server = terminal({
      name: "old server",
      command: [
        "nsenter",
        "-t",
        parts.leaderPid(old),
        "-m",
        "-u",
        "-i",
        "-n",
        "-p",
        "--",
        "runuser",
        "-l",
        "admin",
        "-c",
        "bash --norc --noprofile",
      ],
      dir: path.join(old.root, "home/admin/.blocks"),
      inside: "/home/admin/.blocks",
    });
    await insideAsync(old, ["chown", "-R", "admin:", "/home/admin/.blocks"]);
    const oldVars = oldVariables.replace("TRANSFER=<transfer bucket>", `TRANSFER=${BUCKET}`);
    check(oldVars !== oldVariables, "the old server's variables: the transfer bucket filled in");
    must(await server.run("variables", `cd ~\n${oldVars}`), "the old server's variables");

    // ---------------------------------------------------------- 10.1 deploy, the names and the timed jobs held
    const s101 = shellBlocks(RUNBOOK, "### 10.1 Deploy the environment, the names and the timed jobs held");
    must(await you.run("10.1 hold the timed jobs", s101[0]), "10.1: the timed jobs held before any instance boots");
    const [secretsBlock] = shellBlocks("docs/secrets.md", "# Secrets").filter((b) => /put-secret-value/.test(b));
    const [userBlock] = shellBlocks(RUNBOOK, "### The app's database user");
    const appEnv = JSON.stringify({ REDIS_CACERT: "/etc/ssl/certs/ca-certificates.crt", GREETING: "migrated" });
    const filled = secretsBlock
      .replace(/^ENV=dev\b/m, `ENV=${ENV}`)
      .replace(/^\{ "APP_KEY": "<value>", "MAIL_PASSWORD": "<value>" \}$/m, appEnv)
      .replace("'<token>'", `'${repoToken}'`);
    must(
      await runBlock("docs/secrets.md", filled, operator),
      "runbook 3 / docs/secrets.md: the app's settings and the repository credential",
    );
    group.setTemplate(fill(userData));
    group.setDesired(groupConfig.minSize);
    const first = group.active();
    const waiting = await until(
      "an instance waiting for the app's database user",
      () =>
        first.find((i) => /waiting for the app's database user/.test(readInside(i, "var/log/webapp-boot/env.log"))) ||
        first.find((i) => i.launchResult?.result === "ABANDON"),
      420,
    );
    if (waiting.launchResult) throw new Error(`${waiting.id} abandoned its launch:\n${group.bootLog(waiting)}`);
    must(
      await runBlock("The app's database user", `${operatorVariables.replace(/^ENV=dev\b/m, `ENV=${ENV}`)}\n${userBlock}`, operator),
      "runbook 2: the app's database user, through a booting instance",
    );
    await until(
      "the minimum fleet serving",
      () => first.every((i) => i.servingAt) || first.find((i) => i.launchResult?.result === "ABANDON"),
      420,
    );
    for (const i of first)
      check(
        i.launchResult?.result === "CONTINUE" && i.servingAt,
        `${i.id} launched and serves behind the balancer (${((i.servingAt - i.launchedAt) / 1000).toFixed(0)}s)`,
        group.bootLog(i),
      );
    const stillOld = await byName(domain, caPem, "GET", "/health");
    check(
      stillOld.address === OLD && stillOld.status === 200,
      `with the switch off the name still reaches the old server (${stillOld.address})`,
    );

    // ---------------------------------------------------------- 10.2 the TTL, and the records kept
    const [ttl] = shellBlocks(RUNBOOK, "### 10.2 A day ahead: lower the TTL, keep the records for the way back");
    must(await you.run("10.2 lower the TTL", ttl), "10.2: the TTL lowered, the old records kept");
    const kept = JSON.parse(fs.readFileSync(path.join(operator.cwd, "old-records.json"), "utf8"));
    await zone.read();
    const zoneNow = await zone.records(domain);
    check(
      kept.length === 2 && zoneNow.every((r) => Number(r.TTL) === 60),
      `the name's A and AAAA records now have a 60 s TTL (${zoneNow.map((r) => `${r.Type} ${r.TTL}`).join(", ")})`,
    );

    // ---------------------------------------------------------- 10.3 the transfer bucket and who may use it
    const s103 = shellBlocks(RUNBOOK, "### 10.3 The transfer bucket, and who may use it");
    must(
      await you.run("10.3 the transfer bucket, its policy, the uploader", s103[0]),
      "10.3: the transfer bucket, its policy and the uploader user",
    );
    // scp: the key file copied to the old server's admin user (a named stand-in), and deleted on the operator's machine as the runbook says.
    fs.copyFileSync(path.join(operator.cwd, "uploader-key.json"), path.join(old.root, "home/admin/uploader-key.json"));
    await insideAsync(old, ["chown", "admin:", "/home/admin/uploader-key.json"]);
    fs.rmSync(path.join(operator.cwd, "uploader-key.json"));
    must(await server.run("10.3 the uploader's keys", s103[1]), "10.3: the old server holds the uploader's keys and lists the bucket");
    // Who may do what with the bucket, as AWS evaluates the policies as created (moto stores them but does not evaluate bucket policies).
    const policies = must(
      await runBlock(
        "read back the policies",
        `aws s3api get-bucket-policy --bucket ${BUCKET} --query Policy --output text; echo '@@'; aws iam get-user-policy --user-name ${PREFIX}-migration --policy-name transfer-bucket --query PolicyDocument --output json`,
        operator,
      ),
      "the bucket policy and the uploader's policy read back from the emulator",
    ).output.split("@@");
    const bucketPolicy = JSON.parse(policies[0]);
    const uploaderPolicy = JSON.parse(policies[1]);
    const role = `arn:aws:iam::${ACCOUNT}:role/${PREFIX}-app`;
    const session = `arn:aws:sts::${ACCOUNT}:assumed-role/${PREFIX}-app/i-0rehearsal00000001`;
    // The instance role's own policies as synthesized (Terraform references, none of them an S3 resource, stand as a
    // placeholder ARN); its managed policy, AmazonSSMManagedInstanceCore, has no S3 action.
    const roleIdentity = Object.values(stackOff.resource.aws_iam_role_policy || {})
      .filter((p) => /compute_role/.test(String(p.role)))
      .map((p) => JSON.parse(p.policy.replace(/\$\{[^}]+\}/g, "arn:aws:logs:eu-west-2:111111111111:log-group:placeholder")));
    check(roleIdentity.length >= 2, `the instance role's policies from the synthesized stack (${roleIdentity.length})`);
    const b = `arn:aws:s3:::${BUCKET}`;
    const expectations = [
      [role, roleIdentity, "s3:ListBucket", b, "Allowed"],
      [role, roleIdentity, "s3:GetObject", `${b}/uploads/quizzes/x.png`, "Allowed"],
      [role, roleIdentity, "s3:GetObject", `${b}/db/app.dump`, "Allowed"],
      [role, roleIdentity, "s3:PutObject", `${b}/rollback/app.dump`, "Allowed"],
      [role, roleIdentity, "s3:PutObject", `${b}/uploads/x`, "ImplicitlyDenied"],
      [role, roleIdentity, "s3:DeleteBucket", b, "ImplicitlyDenied"],
      [`arn:aws:iam::${ACCOUNT}:user/${PREFIX}-migration`, [uploaderPolicy], "s3:PutObject", `${b}/db/app.dump`, "Allowed"],
      [`arn:aws:iam::${ACCOUNT}:user/${PREFIX}-migration`, [uploaderPolicy], "s3:DeleteObject", `${b}/uploads/x`, "Allowed"],
      [`arn:aws:iam::${ACCOUNT}:user/${PREFIX}-migration`, [uploaderPolicy], "s3:GetObject", `${b}/rollback/app.dump`, "Allowed"],
      [
        `arn:aws:iam::${ACCOUNT}:user/${PREFIX}-migration`,
        [uploaderPolicy],
        "s3:PutObject",
        `arn:aws:s3:::another-bucket/x`,
        "ImplicitlyDenied",
      ],
    ];
    const wrong = [];
    for (const [principal, identity, action, resource, want] of expectations) {
      const resourcePolicy = resource.startsWith(b) ? bucketPolicy : undefined;
      const got = await simulate(principal, identity, resourcePolicy, action, resource);
      if (got !== want) wrong.push(`${principal.split(":").pop()} ${action} ${resource}: ${got}, expected ${want}`);
      if (principal === role) {
        const viaSession = await simulate(session, identity, resourcePolicy, action, resource);
        if (viaSession !== want) wrong.push(`instance session ${action} ${resource}: ${viaSession}, expected ${want}`);
      }
    }
    check(
      wrong.length === 0,
      `the instances may read uploads/ and db/ and write only rollback/; the uploader only this bucket (${expectations.length} evaluations by iam-simulate)`,
      wrong.join("\n"),
    );

    /** 10.4 to 10.6, and what must hold after them: round 1, and round 2 once rolled back ("try again from 10.4"). */
    const cutOver = async (round) => {
      const r = { round };
      rounds.push(r);
      // ---------------------------------------------------------- 10.4 a day ahead: uploads, and the trial of the database move
      const s104 = shellBlocks(RUNBOOK, "### 10.4 A day ahead: copy the uploads, and a trial of the database move");
      cronReads.push(newSql(CRON_RUNS_SQL));
      const trialDump = must(
        await server.run("10.4 uploads to the bucket, trial dump", s104[0]),
        "10.4: the old server's uploads and a trial dump in the bucket",
      );
      const trialMove = must(
        await you.run("10.4 uploads and trial restore through an instance", s104[1]),
        "10.4: the uploads copied and the trial restored through an instance (Run Command)",
      );
      r.trialOld = trialDump.seconds;
      r.trialNew = trialMove.seconds;
      check(
        /restored into app as app_user/.test(trialMove.output),
        "the trial restore ran as the app's own database user",
        trialMove.output,
      );
      const owners = newSql("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'").trim();
      check(owners === "app_user", `the restored tables belong to the app's user (${owners.replace(/\n/g, ", ")})`);
      // Users delete uploads meanwhile: the final copy must not bring them back.
      const deleted = round === 1 ? [seeded[3], seeded[4]] : [seeded[5]];
      for (const f of deleted) await insideAsync(old, ["rm", "-f", path.join(UPLOADS_DIR, f)]);
      await sleep(5000);

      // ---------------------------------------------------------- 10.5 the freeze, on the old server
      const s105 = shellBlocks(RUNBOOK, "### 10.5 At the cut-over: freeze the writes on the old server");
      cronReads.push(await oldSql(CRON_RUNS_SQL));
      cronReads.push(newSql(CRON_RUNS_SQL));
      r.freeze = Date.now();
      must(await server.run("10.5 freeze", s105[0]), "10.5: the old server frozen: its cron off, its database and uploads read-only");
      const cronState = await insideAsync(old, ["systemctl", "is-enabled", "cron.service"]);
      check(/disabled/.test(cronState.output), `the old server's cron is stopped and disabled (${cronState.output.trim()})`);
      const finalDump = must(
        await server.run("10.5 final dump and uploads", s105[1]),
        "10.5: the final dump and the changed uploads in the bucket",
      );
      r.dumpSeconds = finalDump.seconds;
      const oldAtFreeze = parseDigest(await oldSql(DIGEST_SQL));
      const oldFiles = fileDigests(path.join(old.root, UPLOADS_DIR));
      Object.assign(r, {
        dbSize: oldAtFreeze.size.tables,
        dbTotal: oldAtFreeze.size.database,
        rows: Object.values(oldAtFreeze.tables).reduce((n, t) => n + t.rows, 0),
        tables: Object.keys(oldAtFreeze.tables).length,
        files: Object.keys(oldFiles).length,
        fileBytes: Object.keys(oldFiles).reduce((n, k) => n + fs.statSync(path.join(old.root, UPLOADS_DIR, k)).size, 0),
      });
      cronReads.push(await oldSql(CRON_RUNS_SQL));

      // ---------------------------------------------------------- 10.6 cut over
      const s106 = shellBlocks(RUNBOOK, "### 10.6 Cut over");
      cronReads.push(newSql(CRON_RUNS_SQL));
      const fleetRunsBefore = timedJobRuns(cronReads).runs.filter(
        (x) => x.side === "new" && x.at > (rounds[round - 2]?.rollbackFreeze || 0),
      );
      check(
        fleetRunsBefore.length === 0,
        `the held fleet ran the timed job 0 times before the cut-over (${fleetRunsBefore.length})`,
        JSON.stringify(fleetRunsBefore),
      );
      // The runner reads the switch every minute and records each slot that comes due while it is off as held:
      // every slot after the switch was off with the fleet in service (round 1: from the fleet serving; round 2:
      // from the rollback's hold) whose minute's ticks are over (15 s) is held in the jobs table, none run.
      const heldFrom = round === 1 ? Math.max(...group.inService().map((i) => i.servingAt || Date.now())) : rounds[0].rollbackFreeze;
      const heldSlots = [];
      for (let t = Math.floor(heldFrom / 60000) * 60000 + 60000; t <= Date.now() - 15000; t += 60000) heldSlots.push(parts.slotId(t));
      const heldRecords = await Promise.all(heldSlots.map((slot) => parts.slotRecord(motoPort, jobsTable.name, "record-run", slot)));
      r.held = heldSlots.length;
      check(
        heldRecords.every((x) => x?.status === "held"),
        `the switch held the fleet's timed job: ${heldSlots.length} slot(s) since it was off recorded held in ${jobsTable.name}, none run (${heldSlots.map((slot, i) => `${slot.slice(11, 16)} ${heldRecords[i]?.status ?? "-"}`).join(", ")})`,
      );
      const moved = must(
        await you.run("10.6 final copy, restore, timed jobs on", s106[0]),
        "10.6: the final uploads and the database restored, the timed jobs on",
      );
      r.restoreSeconds = moved.seconds;
      r.jobsOn = Date.now();
      const newAfterRestore = parseDigest(newSql(DIGEST_SQL));
      if (round === 1)
        for (const line of newSql("SELECT id || '|' || body FROM notes").split("\n").filter(Boolean))
          newNotesAtCutOver.set(line.split("|")[0], line.split("|").slice(1).join("|"));
      const newFiles = fileDigests(efs);
      must(await you.run("10.6 drop the AAAA records", s106[1]), "10.6: the old server's AAAA records deleted");
      // The cut-over apply (a named stand-in): the alias records the synthesized stack adds with the switch on, as
      // the provider writes them with allow_overwrite (UPSERT), the load balancer's name and zone resolved.
      const changes = added.map((a) => ({
        Action: "UPSERT",
        ResourceRecordSet: {
          Name: a.value.name,
          Type: a.value.type,
          AliasTarget: { HostedZoneId: ALB_ZONE_ID, DNSName: ALB_DNS_NAME, EvaluateTargetHealth: a.value.alias.evaluate_target_health },
        },
      }));
      fs.writeFileSync(path.join(operator.cwd, "apply-aliases.json"), JSON.stringify({ Changes: changes }));
      must(
        await runBlock(
          "the cut-over apply (alias records)",
          `aws route53 change-resource-record-sets --hosted-zone-id ${zoneId} --change-batch file://apply-aliases.json >/dev/null`,
          operator,
        ),
        "the apply with edge.routeTraffic true: alias records in the zone",
      );
      r.switched = Date.now();
      await zone.read();
      r.serving = await until(
        "a write through the name answered by the new fleet",
        async () => {
          const r = await byName(domain, caPem, "POST", "/notes", "the first write on the new side");
          return r.status === 201 && r.address === LB && /"instance":"ip-/.test(r.body.toString()) ? Date.now() : null;
        },
        120,
        200,
      );
      const records = await zone.records(domain);
      check(
        records.length === 1 && records[0].Type === "A" && records[0].AliasTarget,
        `the name now has only the alias A record to the load balancer (${records.map((r) => r.Type + (r.AliasTarget ? " alias" : "")).join(", ")})`,
      );

      // ---------------------------------------------------------- nothing lost
      const tableProblems = [];
      for (const [table, d] of Object.entries(oldAtFreeze.tables)) {
        const n = newAfterRestore.tables[table];
        if (!n || n.rows !== d.rows || n.md5 !== d.md5)
          tableProblems.push(`${table}: old ${d.rows} rows ${d.md5}, new ${n ? `${n.rows} rows ${n.md5}` : "missing"}`);
      }
      const rows = Object.values(oldAtFreeze.tables).reduce((n, t) => n + t.rows, 0);
      check(
        tableProblems.length === 0 && Object.keys(oldAtFreeze.tables).length >= 6,
        `every table arrived whole: ${Object.keys(oldAtFreeze.tables).length} tables, ${rows} rows, the same checksum per table`,
        tableProblems.join("\n"),
      );
      const seqProblems = Object.entries(oldAtFreeze.sequences).filter(([name, s]) => {
        const n = newAfterRestore.sequences[name];
        return !n || n.last !== s.last || n.last < n.max;
      });
      check(
        seqProblems.length === 0 && Object.keys(oldAtFreeze.sequences).length >= 5,
        `every sequence arrived at its value, past its column's largest (${Object.entries(newAfterRestore.sequences)
          .map(([k, v]) => `${k} ${v.last}>=${v.max}`)
          .join(", ")})`,
        JSON.stringify(seqProblems),
      );
      const files = compareFiles(oldFiles, newFiles);
      check(
        files.ok,
        `every upload arrived with the same checksum: ${Object.keys(oldFiles).length} files`,
        JSON.stringify({ missing: files.missing.slice(0, 10), changed: files.changed.slice(0, 10), extra: files.extra.slice(0, 10) }),
      );
      check(
        deleted.every((f) => !(f in newFiles)),
        "uploads deleted on the old server before the freeze are not brought back",
      );
      let unread = [];
      for (const name of Object.keys(oldFiles)) {
        const r = await byName(domain, caPem, "GET", `/uploads/${encodePath(name)}`);
        if (r.status !== 200 || r.address !== LB || crypto.createHash("sha256").update(r.body).digest("hex") !== oldFiles[name])
          unread.push(`${name}: ${r.status} via ${r.address}`);
      }
      check(
        unread.length === 0,
        `the new fleet serves every upload by name through the balancer (${Object.keys(oldFiles).length})`,
        unread.slice(0, 10).join("\n"),
      );
      const notesRead = await byName(domain, caPem, "GET", "/notes/1");
      check(
        notesRead.status === 200 && notesRead.address === LB,
        `the new fleet serves the migrated rows through the balancer (${notesRead.status})`,
        notesRead.body.toString(),
      );

      // The new side serves: its timed job runs there.
      await until(
        "a run of the timed job on the new side",
        () => timedJobRuns([newSql(CRON_RUNS_SQL)]).runs.some((x) => x.side === "new" && x.at > r.jobsOn),
        100,
        2000,
      );
      cronReads.push(newSql(CRON_RUNS_SQL));
      return r;
    };
    const round1 = await cutOver(1);
    await sleep(3000);

    // ---------------------------------------------------------- 10.7 roll back once
    const s107 = shellBlocks(RUNBOOK, "### 10.7 Rolling back, while the old server is kept");
    round1.rollbackFreeze = Date.now();
    must(
      await you.run("10.7 hold the new side, copy back", s107[0]),
      "10.7: the new side held (jobs off, database read-only) and copied back",
    );
    cronReads.push(newSql(CRON_RUNS_SQL));
    const newAtHold = newSql("SELECT id || '|' || md5(body) FROM notes ORDER BY id");
    const newFilesAtHold = fileDigests(efs);
    round1.oldRestore = Date.now();
    must(
      await server.run("10.7 restore on the old server, thaw", s107[1]),
      "10.7: the old server restored from the new side and thawed, its cron on",
    );
    must(await you.run("10.7 the names back", s107[2]), "10.7: the old records back in the zone");
    round1.back = Date.now();
    await zone.read();
    round1.oldServing = await until(
      "a write through the name answered by the old server",
      async () => {
        const r = await byName(domain, caPem, "POST", "/notes", "the first write back on the old server");
        return r.status === 201 && r.address === OLD ? Date.now() : null;
      },
      120,
      200,
    );
    const oldNotes = (await oldSql("SELECT id || '|' || md5(body) FROM notes ORDER BY id")).split("\n").filter(Boolean);
    const oldNoteSet = new Set(oldNotes);
    const lostBack = newAtHold
      .split("\n")
      .filter(Boolean)
      .filter((n) => !oldNoteSet.has(n));
    check(
      lostBack.length === 0,
      `every row the new side had at its freeze is back on the old server (${newAtHold.split("\n").filter(Boolean).length} notes)`,
      lostBack.slice(0, 10).join("\n"),
    );
    const oldFilesBack = fileDigests(path.join(old.root, UPLOADS_DIR));
    const back = compareFiles(newFilesAtHold, oldFilesBack);
    check(
      back.missing.length === 0 && back.changed.length === 0,
      `every upload the new side had is back on the old server (${Object.keys(newFilesAtHold).length})`,
      JSON.stringify({ missing: back.missing.slice(0, 10), changed: back.changed.slice(0, 10) }),
    );
    await until(
      "a run of the timed job on the old server again",
      async () => timedJobRuns([await oldSql(CRON_RUNS_SQL)]).runs.some((x) => x.side === "old" && x.at > round1.back),
      100,
      2000,
    );
    cronReads.push(await oldSql(CRON_RUNS_SQL));
    cronReads.push(newSql(CRON_RUNS_SQL));

    // ---------------------------------------------------------- try again: the new side thawed, then 10.4 to 10.6 once more
    must(
      await you.run("10.7 thaw the new side to try again", s107[3]),
      "10.7: the new side's database writable again, to try the cut-over again",
    );
    await cutOver(2);

    check(
      rounds.reduce((n, r) => n + (r.held || 0), 0) > 0,
      `the held slots above were at least one (${rounds.map((r) => r.held).join(" + ")})`,
    );

    // ---------------------------------------------------------- 10.8 retire (the transfer bucket, the uploader, the switch)
    const [retire] = shellBlocks(RUNBOOK, "### 10.8 Retiring the old server");
    must(await you.run("10.8 clean up", retire), "10.8: the transfer bucket, the uploader user and the timed-jobs switch deleted");
    you.close();
    server.close();
  } catch (err) {
    if (!(err instanceof Stop)) {
      check(false, `the migration stopped: ${err.message}`);
    }
    result = 1;
  }

  // ------------------------------------------------------------ the load, the acknowledged writes, the timed job
  await sleep(2000);
  await attack.stop();
  const all = fs.existsSync(resultsFile) ? load.results(resultsFile) : [];
  const finalOldNotes = new Map(
    (await oldSql("SELECT id || '|' || body FROM notes ORDER BY id").catch(() => ""))
      .split("\n")
      .filter(Boolean)
      .map((l) => [l.split("|")[0], l.split("|").slice(1).join("|")]),
  );
  const newNotes = new Map(
    newSql("SELECT id || '|' || body FROM notes ORDER BY id")
      .split("\n")
      .filter(Boolean)
      .map((l) => [l.split("|")[0], l.split("|").slice(1).join("|")]),
  );
  const acked = all
    .filter((r) => r.method === "POST" && r.code === 201)
    .map((r) => ({ at: r.at, id: String(JSON.parse(r.body).id), body: `note ${/t=(\d+)/.exec(r.url)[1]} written under load ✓` }));
  const [r1, r2] = rounds;
  const end = r2?.serving ? "the new side" : r1?.oldServing ? "the old server" : r1?.serving ? "the new side" : "the old server";
  const finalNotes = end === "the new side" ? newNotes : finalOldNotes;
  const finalFiles = end === "the new side" ? fileDigests(efs) : fileDigests(path.join(old.root, UPLOADS_DIR));
  // Every write acknowledged anywhere, through every freeze, copy, restore and the rollback, is where the app ended.
  const lostNotes = acked.filter((w) => finalNotes.get(w.id) !== w.body);
  check(
    acked.length > 0 && lostNotes.length === 0,
    `every note acknowledged at any point (${acked.length}) is on ${end} at the end`,
    lostNotes
      .slice(0, 5)
      .map((w) => `${new Date(w.at).toISOString()} ${JSON.stringify(w)}`)
      .join("\n"),
  );
  const uploadsAcked = all.filter((r) => r.method === "PUT" && r.code === 201);
  const lostUploads = uploadsAcked.filter((r) => {
    const name = decodeURIComponent(new URL(r.url).pathname.replace(/^\/uploads\//, ""));
    return finalFiles[name] !== crypto.createHash("sha256").update(uploadBodies[name]).digest("hex");
  });
  check(
    uploadsAcked.length > 0 && lostUploads.length === 0,
    `every upload acknowledged at any point (${uploadsAcked.length}) is on ${end} at the end`,
    lostUploads
      .slice(0, 5)
      .map((r) => r.url)
      .join("\n"),
  );
  if (r1?.serving) {
    const beforeFreeze = acked.filter((w) => w.at < r1.freeze);
    const missingNew = beforeFreeze.filter((w) => newNotesAtCutOver.get(w.id) !== w.body);
    check(
      beforeFreeze.length > 0 && missingNew.length === 0,
      `every note acknowledged before the first freeze (${beforeFreeze.length}) was on the new side at the cut-over`,
      missingNew
        .slice(0, 5)
        .map((w) => JSON.stringify(w))
        .join("\n"),
    );
  }
  // Which side ran the timed job, minute by minute: the fleet only from a freeze until the rollback holds it again
  // (its switch goes on after the restore), the old server never from a freeze until it is thawed.
  const runs = timedJobRuns(cronReads);
  const twice = Object.entries(runs.slots).filter(([, sides]) => sides.length > 1);
  const newWindows = rounds.map((r) => [r.freeze, r.rollbackFreeze ?? Infinity]);
  const oldFrozen = rounds.map((r) => [r.freeze, r.oldRestore ?? Infinity]);
  const inside = (t, windows) => windows.some(([x, y]) => x !== undefined && t > x && t < y);
  const wrongSide = runs.runs.filter((x) => (x.side === "new" ? !inside(x.at, newWindows) : inside(x.at, oldFrozen)));
  check(
    twice.length === 0 &&
      wrongSide.length === 0 &&
      runs.runs.some((x) => x.side === "new") &&
      runs.runs.some((x) => x.side === "old" && x.at > (r1?.back ?? Infinity)),
    `the timed job ran once per minute on one side only: the old server until a freeze and again after the rollback, the fleet only from a cut-over to the rollback (${Object.entries(
      runs.slots,
    )
      .map(([slot, sides]) => `${slot} ${sides.join("+")}`)
      .join(", ")})`,
    JSON.stringify({ twice, wrongSide }),
  );

  // ------------------------------------------------------------ figures
  const f = (from, to) => load.figures(all, from, to);
  const phases = [
    ["before the freeze (old server)", 0, r1?.freeze],
    ["freeze to the new fleet serving", r1?.freeze, r1?.serving],
    ["the new fleet serving", r1?.serving, r1?.rollbackFreeze],
    ["rollback: hold to the old server serving", r1?.rollbackFreeze, r1?.oldServing],
    ["the old server again", r1?.oldServing, r2?.freeze ?? Infinity],
    ["second freeze to the new fleet serving", r2?.freeze, r2?.serving],
    ["the new fleet serving, for good", r2?.serving, Infinity],
  ].filter(([, x, y]) => x !== undefined && y !== undefined);
  console.log("");
  console.log("phase                                        requests  non-2xx  conn-err  failed writes  p50 ms  p95 ms");
  for (const [name, from, to] of phases) {
    const x = f(from, to);
    const writes = all.filter((r) => r.at >= from && r.at < to && r.method !== "GET" && (r.code < 200 || r.code > 299)).length;
    console.log(
      `${name.padEnd(44)} ${String(x.requests).padStart(8)}  ${String(x.non2xx).padStart(7)}  ${String(x.connectionErrors).padStart(8)}  ${String(writes).padStart(13)}  ${x.p50.toFixed(0).padStart(6)}  ${x.p95.toFixed(0).padStart(6)}`,
    );
  }
  // Writes fail only while neither side takes them: from a freeze until the other side serves (a request in
  // flight at either edge aside: 2 s).
  const failedWrite = (r) => r.method !== "GET" && (r.code < 200 || r.code > 299);
  const servingWindows = phases.filter(([name]) => !/freeze|hold/.test(name)).map(([, x, y]) => [x === 0 ? 0 : x + 2000, y]);
  const refused = all.filter((r) => failedWrite(r) && servingWindows.some(([x, y]) => r.at >= x && r.at < y));
  check(
    refused.length === 0,
    `no write failed while a side served (${all.filter((r) => r.method !== "GET").length} writes)`,
    refused
      .slice(0, 5)
      .map((r) => `${new Date(r.at).toISOString()} ${r.method} ${r.url} ${r.code} ${r.body.slice(0, 200)}`)
      .join("\n"),
  );
  const failedReads = all.filter((r) => r.method === "GET" && (r.code < 200 || r.code > 299));
  check(
    failedReads.length === 0,
    `no read failed at any point (${all.filter((r) => r.method === "GET").length} reads)`,
    failedReads
      .slice(0, 5)
      .map((r) => `${new Date(r.at).toISOString()} ${r.url} ${r.code} ${r.error}`)
      .join("\n"),
  );
  if (r1?.serving) {
    const rates = await measureRates(old, postgres);
    const mb = (n) => (n / 1048576).toFixed(1);
    const dumpRate = r1.dbSize / 1048576 / rates.dumpSeconds;
    const restoreRate = r1.dbSize / 1048576 / rates.restoreSeconds;
    console.log("");
    console.log(
      `data: tables and indexes ${mb(r1.dbSize)} MiB (${r1.rows} rows in ${r1.tables} tables; the database with its catalogs ${mb(r1.dbTotal)} MiB), its dump ${mb(rates.dumpBytes)} MiB, uploads ${r1.files} files ${mb(r1.fileBytes)} MiB`,
    );
    for (const r of rounds.filter((x) => x.serving)) {
      console.log(
        `cut-over ${r.round}: write freeze to the new fleet serving writes ${((r.serving - r.freeze) / 1000).toFixed(1)} s (freeze, final dump and uploads on the old server ${((r.switched - r.freeze) / 1000 - r.restoreSeconds).toFixed(1)} s, ` +
          `uploads and restore through an instance ${r.restoreSeconds.toFixed(1)} s, names to serving ${((r.serving - r.switched) / 1000).toFixed(1)} s); its trial (10.4) ${r.trialOld.toFixed(1)} s + ${r.trialNew.toFixed(1)} s`,
      );
    }
    console.log(
      `pg_dump ${dumpRate.toFixed(1)} MiB/s and pg_restore ${restoreRate.toFixed(1)} MiB/s of tables and indexes here (${rates.dumpSeconds.toFixed(2)} s, ${rates.restoreSeconds.toFixed(2)} s, mostly fixed costs at this size): at these rates a 10 GiB database ` +
        `adds about ${((10240 / dumpRate + 10240 / restoreRate) / 60).toFixed(0)} min to the freeze, plus copying its dump (about ${((rates.dumpBytes / r1.dbSize) * 10).toFixed(1)} GiB); measure the real one with the trial (10.4)`,
    );
  }
  if (r1?.oldServing)
    console.log(
      `rollback: the new side held to the old server serving writes again ${((r1.oldServing - r1.rollbackFreeze) / 1000).toFixed(1)} s`,
    );
  say(`migration rehearsal: ${((Date.now() - t0) / 1000).toFixed(0)}s, ${all.length} requests at ${RATE}/s`);
  return result;
}

/** pg_dump (on the old server) and pg_restore (into a scratch database of the new side) alone: the rates the freeze scales with. */
async function measureRates(old, postgres) {
  const started = Date.now();
  const dump = await insideAsync(old, ["bash", "-c", "runuser -u postgres -- pg_dump --format=custom --dbname=app >/root/rate.dump"]);
  const dumpSeconds = (Date.now() - started) / 1000;
  if (dump.code !== 0) throw new Error(`pg_dump: ${dump.output}`);
  const file = path.join(postgres.dir, "rate.dump");
  fs.copyFileSync(path.join(old.root, "root/rate.dump"), file);
  fs.chmodSync(file, 0o644);
  postgres.psql("CREATE DATABASE rate");
  const t = Date.now();
  execFileSync("runuser", [
    "-u",
    "postgres",
    "--",
    "pg_restore",
    "-h",
    postgres.dir,
    "-p",
    "5432",
    "-U",
    "postgres",
    "--dbname=rate",
    "--no-owner",
    "--no-acl",
    "--single-transaction",
    file,
  ]);
  const restoreSeconds = (Date.now() - t) / 1000;
  postgres.psql("DROP DATABASE rate");
  return { dumpSeconds, restoreSeconds, dumpBytes: fs.statSync(file).size };
}

parts.runRehearsal("migration rehearsal", main, failures);
