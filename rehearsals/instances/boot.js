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
const { execFileSync } = require("node:child_process");
const crypto = require("node:crypto");
const zlib = require("node:zlib");
const fs = require("node:fs");
const path = require("node:path");
const { certificates, startPostgres, startRedis } = require("../../examples/app/test/services");
const servers = require("./servers");
const {
  runRehearsal,
  ROOT,
  ROOTFS,
  COUNT,
  ADDRESSES,
  serviceNames,
  cleanups,
  say,
  sleep,
  synthesizedStack,
  bootFromStack,
  fillHeader,
  secrets,
  s3,
  storeBundle,
  createJobsTable,
  slotRecord,
  slotId,
  metricSum,
  startMoto,
  lifecycleStandIn,
  prepareInstance,
  bootInstance,
  stopInstance,
  insideAsync,
  readInside,
  filesHolding,
  get,
  put,
  stepTimes,
  waitHealthy,
} = require("./parts");

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

  const { userData, bundle, jobsTable } = bootFromStack(synthesizedStack("dev"));
  const NAMES = serviceNames("dev", bundle.bucket);
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
    appEnv: (
      await secrets.create(
        motoPort,
        "webapp-dev/app-env",
        JSON.stringify({ REDIS_CACERT: "/etc/ssl/certs/ca-certificates.crt", GREETING: "it's $rehearsal" }),
      )
    ).ARN,
    repo: (await secrets.create(motoPort, "webapp-dev/repository-credential", repoToken)).ARN,
    cache: (await secrets.create(motoPort, "webapp-dev/redis-auth-token", cacheToken)).ARN,
    db: (await secrets.create(motoPort, "webapp-dev/database-app-user", JSON.stringify(master))).ARN,
  };
  // The apply's part: the boot bundle in its versioned bucket, the jobs table.
  const bundleVersion = await storeBundle(motoPort, bundle);
  await createJobsTable(motoPort, jobsTable);
  say(
    `boot bundle s3://${bundle.bucket}/${bundle.key} (${bundle.content.length} bytes, version ${bundleVersion}); jobs table ${jobsTable.name}`,
  );
  const lifecycle = [];
  const requests = [];
  const header = (name) => new RegExp(`^${name}='([^']*)'$`, "m").exec(userData)?.[1];
  await servers.awsFront({
    host: ADDRESSES.aws,
    tls,
    target: { host: "127.0.0.1", port: motoPort },
    intercept: lifecycleStandIn(lifecycle, "webapp-dev-app", "boot"),
    log: (req, body) =>
      requests.push({
        host: req.headers.host,
        target: req.headers["x-amz-target"] || new URLSearchParams(body.toString()).get("Action"),
        at: Date.now(),
      }),
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
  say(
    `moto on ${motoPort} behind https://${NAMES.aws[0]}, IMDSv2 on ${ADDRESSES.imds}, git at https://github.com (main = ${head.slice(0, 12)})`,
  );

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
    TARGET_GROUP_ARN: "arn:aws:elasticloadbalancing:eu-west-2:111111111111:targetgroup/8080-rehearsal/0123456789abcdef",
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
    const instance = prepareInstance(work, i, filled, caPem, `i${i}`, NAMES);
    instances[instance.address] = {
      id: instance.id,
      role: "webapp-dev-app",
      metadata: { "autoscaling/target-lifecycle-state": "InService" },
    };
    fleet.push(instance);
  }
  for (const instance of fleet) bootInstance(instance, efs);
  say(`booting ${fleet.length} instance(s) with systemd-nspawn --boot`);
  await Promise.all(fleet.map((i) => waitHealthy(i, lifecycle)));

  for (const instance of fleet) {
    const steps = stepTimes(instance);
    const total = ((instance.completed.at - instance.bootedAt) / 1000).toFixed(1);
    const healthy = instance.healthyAt ? ((instance.healthyAt - instance.bootedAt) / 1000).toFixed(1) : "?";
    say(
      `instance ${instance.index} (${instance.id}): healthy ${healthy}s, launch completed ${total}s after systemd-nspawn started; steps ${Object.entries(
        steps,
      )
        .map(([s, t]) => `${s} ${t}s`)
        .join(", ")}`,
    );
    check(
      instance.completed.result === "CONTINUE",
      `instance ${instance.index} completed the launch hook with CONTINUE`,
      JSON.stringify(instance.completed),
    );
    const beats = lifecycle.filter(
      (l) => l.instance === instance.id && l.action === "RecordLifecycleActionHeartbeat" && l.at <= instance.completed.at,
    );
    check(beats.length >= 9, `instance ${instance.index} recorded ${beats.length} lifecycle heartbeats before completing`);
    const health = await get(`http://${instance.address}:8080/health`);
    check(health.status === 200, `instance ${instance.index} answers /health`, JSON.stringify(health));
    const status = await get(`http://${instance.address}:8080/status`);
    const parsed = status.status === 200 ? JSON.parse(status.body) : {};
    check(
      parsed.database?.tls === true && parsed.database?.user === master.username && parsed.redis?.ok === true,
      `instance ${instance.index}: database over verified TLS as ${master.username}, Redis over TLS with AUTH`,
      status.body,
    );
    // The CloudWatch agent is a stand-in: check what the boot configured it to ship.
    const agent = JSON.parse(readInside(instance, "opt/aws/amazon-cloudwatch-agent/etc/webapp.json") || "{}");
    const streams = (agent.logs?.logs_collected?.files?.collect_list ?? []).map(
      (f) => `${f.log_group_name} ${f.log_stream_name} ${f.file_path}`,
    );
    const wanted = ["install", "code", "build", "health", "complete"].map(
      (step) => `/webapp-dev/app {instance_id}/${step} /var/log/webapp-boot/${step}.log`,
    );
    check(
      wanted.every((w) => streams.includes(w)) &&
        streams.includes("/webapp-dev/app {instance_id}/app /var/log/webapp/app.log") &&
        /fetch-config -m ec2 -s/.test(readInside(instance, "var/log/rehearsal-cloudwatch-agent.log")),
      `instance ${instance.index}: the CloudWatch agent was started with a stream per boot step, the app's and cron's logs`,
      streams.join("\n"),
    );
    const runtime = fs.readFileSync(path.join(instance.root, "var/log/webapp-boot/install.log"), "utf8");
    check(
      /runtime: nodejs22 nodejs22-npm/.test(runtime),
      `instance ${instance.index} installed the runtime through the boot's package step`,
    );
  }

  if (fleet.length) {
    const fetched = requests.filter((r) => r.host?.startsWith(`${bundle.bucket}.s3.`)).length;
    check(
      fetched >= fleet.length,
      `the user data's loader fetched the boot bundle from S3 on every instance (${fetched} requests to ${bundle.bucket})`,
    );
  }

  if (fleet.length >= 2 && want("uploads")) {
    const stored = await put(`http://${fleet[0].address}:8080/uploads/rehearsal.txt`, `written through ${fleet[0].id}\n`);
    const read = await get(`http://${fleet[1].address}:8080/uploads/rehearsal.txt`);
    check(
      stored.status === 201 && read.body === `written through ${fleet[0].id}\n`,
      "an upload written through instance 1 is read through instance 2",
      JSON.stringify({ stored, read }),
    );
  }

  // Timed jobs: one cron line runs the job runner every minute; each slot of record-run (*/5) runs once.
  const rowsFor = (slot) =>
    Number(postgres.psql(`SELECT count(*) FROM cron_runs WHERE job = 'record-run' AND slot = '${slot}'`, "app") || 0);
  const slotItem = (slot) => slotRecord(motoPort, jobsTable.name, "record-run", slot);
  const settled = async (slot, seconds = 90) => {
    for (let n = 0; n < seconds; n++) {
      const item = await slotItem(slot);
      if (item && ["done", "dead", "missed"].includes(item.status)) return item;
      await sleep(1000);
    }
    return slotItem(slot);
  };
  const cronLine =
    (fleet.length ? readInside(fleet[0], "etc/cron.d/webapp") : "").split("\n").find((l) => /\/webapp-jobs tick /.test(l)) || "";
  const cronFields = cronLine.trim().split(/\s+/);
  const cronEntry = { schedule: cronFields.slice(0, 5).join(" "), user: cronFields[5], command: cronFields.slice(6).join(" ") };
  // The cron entry's own command line, started on every instance at the same moment.
  const cronEverywhere = () =>
    Promise.all(fleet.map((i) => insideAsync(i, ["runuser", "-u", cronEntry.user, "--", "/bin/bash", "-c", cronEntry.command])));
  const namespace = fleet.length ? JSON.parse(readInside(fleet[0], "etc/webapp/jobs.json") || "{}").namespace : "";

  if (want("cron")) {
    check(
      cronEntry.schedule === "* * * * *" && cronEntry.user === "webapp",
      `the cron entry runs the job runner every minute: ${cronLine}`,
    );
    for (const i of fleet) {
      // /run is the container's own tmpfs: looked at from inside.
      check(
        (await insideAsync(i, ["test", "-f", "/run/webapp-jobs/gate"])).code === 0,
        `instance ${i.index}: the jobs' gate opened after the health check`,
      );
      check(
        (await insideAsync(i, ["systemctl", "is-active", "webapp-jobs-drain.service"])).output.trim() === "active",
        `instance ${i.index}: the shutdown drain is armed`,
      );
    }
    // The latest */5 minute is due (its backfill window is the period): whoever claims it, it runs once.
    const slot = slotId(Math.floor(Date.now() / 300000) * 300000);
    await cronEverywhere();
    const item = await settled(slot);
    check(
      item?.status === "done" && rowsFor(slot) === 1,
      `the cron entry started on ${fleet.length} instances at once (and real cron every minute) ran slot ${slot} exactly once: record ${item?.status}, attempt ${item?.attempt}, rows ${rowsFor(slot)}`,
    );
    await cronEverywhere();
    await sleep(3000);
    check(rowsFor(slot) === 1 && (await slotItem(slot))?.fence === item?.fence, `started everywhere again, slot ${slot} did not run again`);
    const drained = await insideAsync(fleet[0], ["/usr/local/bin/webapp-jobs", "drain", "--timeout", "5"]);
    const gateLeft = (await insideAsync(fleet[0], ["test", "-e", "/run/webapp-jobs/gate"])).code === 0;
    check(
      drained.code === 0 && /drain: done \(\d+ finished, 0 given back, 0 killed\)/.test(drained.output) && !gateLeft,
      "webapp-jobs drain closes the gate and exits 0",
      drained.output,
    );
    // What the next boot's complete step does.
    await insideAsync(fleet[0], ["install", "-m", "0644", "-o", "webapp", "/dev/null", "/run/webapp-jobs/gate"]);
  }

  if (want("rotate")) {
    const rotated = { ...master, password: "rotated $db' password" };
    postgres.psql(`ALTER ROLE ${master.username} PASSWORD '${rotated.password.replace(/'/g, "''")}'`);
    await secrets.put(motoPort, arns.db, JSON.stringify(rotated));
    for (const i of fleet) {
      check(
        (await insideAsync(i, ["systemctl", "is-active", "webapp-env-refresh.timer"])).output.trim() === "active",
        `instance ${i.index}: the refresh timer is active`,
      );
      const pidBefore = JSON.parse((await get(`http://${i.address}:8080/status`)).body || "{}").pid;
      // The service the timer starts, started now rather than in up to 20 minutes.
      const refreshed = await insideAsync(i, ["systemctl", "start", "webapp-env-refresh.service"]);
      check(refreshed.code === 0, `instance ${i.index}: webapp-env-refresh.service ran`, refreshed.output);
      let status = {};
      for (let n = 0; n < 30 && !(status.pid && status.pid !== pidBefore && status.database?.ok); n++) {
        await sleep(1000);
        status = JSON.parse((await get(`http://${i.address}:8080/status`)).body || "{}");
      }
      check(
        /environment changed/.test(readInside(i, "var/log/webapp-boot/refresh.log")),
        `instance ${i.index}: the refresh saw the rotated secret`,
      );
      check(
        status.pid !== pidBefore && status.database?.ok === true,
        `instance ${i.index}: the restarted app connects with the rotated password`,
        JSON.stringify(status),
      );
      const moves = lifecycle.filter((l) => l.instance === i.id && /Targets$/.test(l.action)).map((l) => l.action);
      check(
        moves.join(" ") === "DeregisterTargets RegisterTargets",
        `instance ${i.index}: the app restarted out of the target group (${moves.join(", ")})`,
      );
    }
  }

  if (want("cron-minute")) {
    // Real cron at the job's minute (every 5 minutes), with Redis down: the slot runs once across the fleet on
    // its claim alone, and the lock failure reaches CloudWatch. Started 25 s or more before the minute.
    const now = Date.now();
    let next = Math.floor(now / 300000) * 300000 + 300000;
    if (next - now < 25000) next += 300000;
    await sleep(next - now - 20000);
    const since = Date.now();
    redis.stop();
    const slot = slotId(next);
    say(`Redis stopped; waiting for cron at ${slot.slice(11, 16)} UTC`);
    await sleep(next - Date.now() + 5000);
    const item = await settled(slot);
    const logs = fleet.map(
      (i) => readInside(i, "var/log/webapp/cron-webapp-jobs.log") + readInside(i, "var/log/webapp/cron-record-run.log"),
    );
    check(
      item?.status === "done" && rowsFor(slot) === 1,
      `at ${slot.slice(11, 16)} cron ran slot ${slot} exactly once across ${fleet.length} instances with Redis down (record ${item?.status}, rows ${rowsFor(slot)})`,
      logs.join("\n---\n"),
    );
    check(
      logs.some((l) => /Redis lock lock:record-run not taken .*running on the DynamoDB claim alone/.test(l)),
      "the runner logged that it ran on the claim alone",
    );
    const failures = await metricSum(motoPort, namespace, "LockFailures", since);
    check(
      failures >= 1,
      `the lock failure reached CloudWatch (${namespace} LockFailures = ${failures}), which the lock-failures alarm reads`,
    );
    redis = await startRedis({ tls, password: cacheToken, host: ADDRESSES.cache, port: 6379 });
    cleanups.push(() => redis.stop());
  }

  if (want("scale-in")) {
    for (const i of fleet) {
      // systemd-nspawn turns SIGTERM into a clean shutdown: systemd stops the app with SIGTERM.
      await stopInstance(i);
      const log = readInside(i, "var/log/webapp/app.log");
      check(
        /SIGTERM, closing[\s\S]*stopped cleanly/.test(log),
        `instance ${i.index}: on shutdown the app drained and stopped cleanly`,
        log.split("\n").slice(-5).join("\n"),
      );
    }
  }
  for (const instance of fleet) await stopInstance(instance);
  say(`stopped ${fleet.length} instance(s)`);

  if (scenarios.includes("no-runtime")) {
    // The defect compute.runtime guards against, reintroduced past the validator: a boot script that
    // installs no runtime. The build's npm must then be missing and the launch abandoned.
    const script = bundle.script;
    const without = script.replace(/^ {2}RUNTIME_PACKAGES=\(.*\)$/m, "  RUNTIME_PACKAGES=()");
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
    const bare = prepareInstance(work, 2, userDataWithout, caPem, "no-runtime", NAMES);
    bare.id = "i-0rehearsalnoruntime";
    instances[bare.address] = { id: bare.id, role: "webapp-dev-app", metadata: { "autoscaling/target-lifecycle-state": "InService" } };
    bootInstance(bare, efs);
    const done = await waitHealthy(bare, lifecycle);
    const log = readInside(bare, "var/log/webapp-boot/build.log");
    check(
      done.result === "ABANDON" && /npm: (command )?not found/.test(log),
      "without the runtime packages the build finds no npm and the launch is abandoned",
      log.split("\n").slice(-6).join("\n"),
    );
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
    execFileSync("git", [
      "-C",
      clone,
      "-c",
      "user.name=rehearsal",
      "-c",
      "user.email=rehearsal@example.com",
      "commit",
      "-qam",
      "a build that fails",
    ]);
    execFileSync("git", ["-C", clone, "push", "-q", "origin", "HEAD:refs/heads/main"]);
    const broken = prepareInstance(work, 1, filled, caPem, "broken", NAMES);
    broken.id = "i-0rehearsalbroken01";
    instances[broken.address] = { id: broken.id, role: "webapp-dev-app", metadata: { "autoscaling/target-lifecycle-state": "InService" } };
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

runRehearsal("rehearsal", main, failures);
