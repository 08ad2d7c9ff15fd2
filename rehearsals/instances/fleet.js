// The fleet rehearsal, run by scripts/rehearse-fleet.sh (through rehearse-boot.sh's namespaces) inside the
// services network namespace. A day in the life of the staging fleet, under a steady load through the
// load balancer: the first deploy by the book (docs/runbooks.md and docs/secrets.md, run as written), steady
// load, scale-out, a rolling deploy of a new commit, a Spot interruption notice, scale-in with drain, a
// secret rotation, an instance killed, Redis and PostgreSQL restarted, log rotation; throughout, uploads
// readable through every instance and the timed job once per slot (the runner's jobs table and the app's
// rows). Real: the synthesized stack (user data, its boot bundle, load balancer, group settings),
// instances under systemd, PostgreSQL, Redis, git, the AWS CLI against moto, HAProxy, vegeta. Stand-ins,
// each named: the load balancer (HAProxy, balancer.js), the Auto Scaling group (group.js), the boot
// rehearsal's (dnf, EFS, the CloudWatch agent, DNS), and for the operator `terraform output` and the
// Session Manager port forward (operator/).
"use strict";
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const path = require("node:path");
const { certificates, startPostgres, startRedis } = require("../../examples/app/test/services");
const servers = require("./servers");
const parts = require("./parts");
const { Balancer, albSettings } = require("./balancer");
const { Group, groupSettings } = require("./group");
const load = require("./load");
const { until, shellBlocks, runBlock, operatorShell, pemOf, makeEfs } = require("./runbook");

const { ROOT, ROOTFS, NETNS, ADDRESSES, cleanups, say, sleep, insideAsync, readInside, get, put } = parts;
const ENV = "staging";
const LB = "10.99.0.30";
const RATE = Number(process.env.FLEET_RATE || 10);
const UPLOADS = 40;
const TARGET_GROUP_ARN = "arn:aws:elasticloadbalancing:eu-west-2:111111111111:targetgroup/8080-rehearsal/0123456789abcdef";

const failures = [];
function check(ok, text, detail = "") {
  say(`${ok ? "ok  " : "FAIL"} ${text}${ok || !detail ? "" : `\n${detail}`}`);
  if (!ok) failures.push(text);
  return ok;
}

/**
 * The timed job once per slot (it runs every 5 minutes), by the runner's contract: every slot from `from` to
 * `to` is `done` in the jobs table, the app recorded it in one cron_runs row, under the attempt and fencing
 * token of the claim that finished it (an attempt is started again only after its holder was lost). The one
 * place for this check.
 */
async function timedJobSlots({ postgres, motoPort, table, from, to }) {
  const rows = postgres
    .psql(
      `CREATE TABLE IF NOT EXISTS cron_runs (id bigserial PRIMARY KEY, job text NOT NULL, instance text NOT NULL, ran_at timestamptz NOT NULL DEFAULT now()); ALTER TABLE cron_runs ADD COLUMN IF NOT EXISTS slot text, ADD COLUMN IF NOT EXISTS attempt integer, ADD COLUMN IF NOT EXISTS fencing_token bigint; SELECT slot, count(*), max(attempt), max(fencing_token), string_agg(instance, ' ') FROM cron_runs WHERE job = 'record-run' AND slot IS NOT NULL GROUP BY 1 ORDER BY 1`,
      "app",
    )
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split("|"));
  const recorded = Object.fromEntries(
    rows.map(([slot, n, attempt, token, instance]) => [
      slot,
      { rows: Number(n), attempt: Number(attempt), token: Number(token), instance },
    ]),
  );
  const slots = [];
  // A slot due at the very end may still be running: only slots a minute or more before `to`.
  for (let t = Math.ceil(from / 300000) * 300000; t < to - 60000; t += 300000) {
    const slot = parts.slotId(t);
    const item = await parts.slotRecord(motoPort, table, "record-run", slot);
    const row = recorded[slot];
    const ok = item?.status === "done" && row?.rows === 1 && row.attempt === item.attempt && row.token === item.fence;
    slots.push({ slot, ok, status: item?.status, attempt: item?.attempt, fence: item?.fence, row });
  }
  return { slots, bad: slots.filter((s) => !s.ok), retried: slots.filter((s) => s.attempt > 1) };
}

/** A connection to the app held idle for the balancer's idle timeout, then reused: it must still be open. */
function keepAliveProbe(address, port, idleSeconds) {
  return new Promise((resolve) => {
    const socket = net.connect(port, address);
    let closedAt = null;
    let buffer = "";
    const started = Date.now();
    socket.on("close", () => (closedAt = Date.now()));
    socket.on("error", () => {});
    socket.on("data", (c) => (buffer += c));
    socket.write("GET /health HTTP/1.1\r\nHost: app\r\n\r\n");
    setTimeout(
      () => {
        if (closedAt)
          return resolve({
            ok: false,
            detail: `the app closed the idle connection after ${((closedAt - started) / 1000).toFixed(1)}s; the balancer keeps it ${idleSeconds}s`,
          });
        buffer = "";
        socket.write("GET /health HTTP/1.1\r\nHost: app\r\n\r\n");
        setTimeout(() => {
          socket.destroy();
          resolve({ ok: /^HTTP\/1\.1 200/.test(buffer), detail: buffer.split("\r\n")[0] || "no answer on the reused connection" });
        }, 1000);
      },
      (idleSeconds + 1) * 1000,
    );
  });
}

class Stop extends Error {}

async function main() {
  const t0 = Date.now();
  const work = fs.mkdtempSync("/var/tmp/webapp-fleet-");
  cleanups.push(() => {
    if (!process.env.REHEARSAL_KEEP) fs.rmSync(work, { recursive: true, force: true });
  });
  say(`work ${work}, rootfs ${ROOTFS}, environment ${ENV}, ${RATE} requests/s`);

  // ------------------------------------------------------------ the stack, as synthesized
  const stack = parts.synthesizedStack(ENV);
  const boot = parts.bootFromStack(stack);
  const NAMES = parts.serviceNames(ENV, boot.bundle.bucket);
  const alb = albSettings(stack);
  const groupConfig = groupSettings(stack);
  const health = alb.targetGroup.health;
  say(
    `stack: group ${groupConfig.name} ${groupConfig.minSize}-${groupConfig.maxSize}, grace ${groupConfig.graceSeconds}s, hooks ${JSON.stringify(groupConfig.hooks)}, refresh ${JSON.stringify(groupConfig.refresh)}; ` +
      `balancer idle ${alb.idleTimeoutSeconds}s, deregistration delay ${alb.targetGroup.deregistrationDelaySeconds}s, health ${health.path} every ${health.intervalSeconds}s (timeout ${health.timeoutSeconds}s, healthy ${health.healthyThreshold}, unhealthy ${health.unhealthyThreshold})`,
  );
  const tls = certificates(path.join(work, "tls"), [...Object.values(NAMES).flat(), ADDRESSES.aws, LB], "webapp rehearsal CA");
  const caPem = fs.readFileSync(tls.ca, "utf8");
  fs.chmodSync(path.join(work, "tls"), 0o755);
  for (const f of ["ca.pem", "server.pem", "server.key"]) fs.chmodSync(path.join(work, "tls", f), 0o644);

  // ------------------------------------------------------------ what the first apply leaves: data stores, secret containers
  const master = { username: "dbadmin", password: "rehearsal-master-pw" };
  const cacheToken = "rehearsal-cache-token-0123456789abcdef";
  const postgres = await startPostgres({ tls, host: ADDRESSES.db, port: 5432 });
  cleanups.push(() => postgres.stop());
  // The RDS master user: rds_superuser-like (creates roles and databases, owns the app's database), not a superuser.
  postgres.psql(`CREATE ROLE ${master.username} LOGIN CREATEROLE CREATEDB PASSWORD '${master.password}'`);
  postgres.psql(`CREATE DATABASE app OWNER ${master.username}`);
  let redis = await startRedis({ tls, password: cacheToken, host: ADDRESSES.cache, port: 6379 });
  cleanups.push(() => redis.stop());
  const motoPort = await parts.startMoto();
  // The apply's part: the boot bundle in its versioned bucket, the jobs table.
  const bundleVersion = await parts.storeBundle(motoPort, boot.bundle);
  await parts.createJobsTable(motoPort, boot.jobsTable);
  const secret = (name, value) =>
    parts.moto(
      motoPort,
      "secretsmanager",
      "secretsmanager.CreateSecret",
      value === undefined ? { Name: name } : { Name: name, SecretString: value },
    );
  // The targeted apply of runbook 2, step 3: the secret containers, without values except the cache token's.
  const arns = {
    appEnv: (await secret(`webapp-${ENV}/app-env`)).ARN,
    repo: (await secret(`webapp-${ENV}/repository-credential`)).ARN,
    db: (await secret(`webapp-${ENV}/database-app-user`)).ARN,
    cache: (await secret(`webapp-${ENV}/redis-auth-token`, cacheToken)).ARN,
    master: (await secret("rds!db-rehearsal-0001", JSON.stringify(master))).ARN,
  };
  say(
    `postgres ${ADDRESSES.db}:5432 (TLS only), redis ${ADDRESSES.cache}:6379 (TLS, AUTH), moto on ${motoPort}; secrets ${Object.keys(arns).join(", ")}`,
  );

  // ------------------------------------------------------------ git: this working tree as a tagged release
  const repoToken = "rehearsal-repo-token";
  const gitRoot = path.join(work, "git");
  const bare = path.join(gitRoot, "example-org", "cdktf-webapp-platform.git");
  execFileSync("git", ["init", "-q", "--bare", bare]);
  const tree = execFileSync("git", ["-C", ROOT, "stash", "create"], { encoding: "utf8" }).trim() || "HEAD";
  execFileSync("git", ["-C", ROOT, "push", "-q", bare, `${tree}:refs/heads/main`]);
  const currentTag = pinnedTag(boot.bundle.script);
  execFileSync("git", ["-C", bare, "tag", currentTag, "main"]);
  const head = execFileSync("git", ["-C", bare, "rev-parse", "main"], { encoding: "utf8" }).trim();

  // ------------------------------------------------------------ the AWS front, metadata, git, trust store, balancer
  const metadata = {};
  const balancer = await new Balancer(alb, {
    dir: path.join(work, "balancer"),
    address: LB,
    certificate: pemOf(tls, work),
    log: say,
  }).start();
  cleanups.push(() => balancer.stop());
  const group = new Group(groupConfig, {
    balancer,
    targetGroupArn: TARGET_GROUP_ARN,
    work,
    efs: makeEfs(work),
    caPem,
    names: NAMES,
    metadata,
    netns: NETNS,
    log: say,
  });
  cleanups.push(() => group.stop());
  await servers.awsFront({
    host: ADDRESSES.aws,
    tls,
    target: { host: "127.0.0.1", port: motoPort },
    intercept: (body, req) => group.intercept(body, req),
  });
  await servers.imds({ host: ADDRESSES.imds, instances: metadata, log: say });
  await servers.gitServer({ host: ADDRESSES.git, tls, root: gitRoot, token: repoToken });
  await servers.trustStore({ host: ADDRESSES.truststore, tls, bundle: tls.ca });
  say(`git: main = ${head.slice(0, 12)} tagged ${currentTag}; balancer on ${LB}:80/443 (HAProxy)`);

  const fill = (userData, bundleVersionId) =>
    parts.fillHeader(userData, {
      BOOT_BUNDLE_BUCKET: boot.bundle.bucket,
      BOOT_BUNDLE_VERSION: bundleVersionId,
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
    });

  // The operator: the runbook's commands in bash, the real AWS CLI, psql and jq; stand-ins for terraform output and the SSM port forward.
  const outputs = { database_endpoint: `${NAMES.db[0]}:5432`, database_master_secret_arn: arns.master };
  const operator = operatorShell(work, { env: ENV, tls, outputs, group, names: NAMES });

  const scenarios = [];
  const scenario = async (number, title, body) => {
    const entry = { number, title, from: Date.now(), launched: [] };
    scenarios.push(entry);
    say(`==== scenario ${number}: ${title}`);
    try {
      await body(entry);
    } catch (err) {
      check(false, `scenario ${number} (${title}): ${err.message}`);
    }
    entry.to = Date.now();
    // What follows builds on this scenario: after a failure the run ends here, with its figures.
    // FLEET_KEEP_GOING=1 runs on regardless, to see every scenario's figures on a product with a defect.
    if (failures.length > 0 && process.env.FLEET_KEEP_GOING !== "1") throw new Stop();
  };
  const serving = (instances) =>
    until(`${instances.map((i) => i.id).join(", ")} serving`, () => instances.every((i) => i.servingAt || /^Terminat/.test(i.state)), 600);
  let attack = null;
  const output = path.join(work, "results.bin");
  const targets = load.writeTargets(path.join(work, "load"), `https://${LB}`, UPLOADS);

  try {
    // ------------------------------------------------------------ 1. first deploy, by the book
    await scenario(1, "first deploy by the book (docs/runbooks.md 2 and 3, docs/secrets.md)", async (entry) => {
      const [variables] = shellBlocks("docs/runbooks.md", "# Runbooks");
      const [secretsBlock] = shellBlocks("docs/secrets.md", "# Secrets").filter((b) => /put-secret-value/.test(b));
      const [userBlock] = shellBlocks("docs/runbooks.md", "### The app's database user");
      const appEnv = JSON.stringify({ REDIS_CACERT: "/etc/ssl/certs/ca-certificates.crt", GREETING: "first deploy" });
      const filled = secretsBlock
        .replace(/^ENV=dev\b/m, `ENV=${ENV}`)
        .replace(/^\{ "APP_KEY": "<value>", "MAIL_PASSWORD": "<value>" \}$/m, appEnv)
        .replace("'<token>'", `'${repoToken}'`);
      const code = filled
        .split("\n")
        .map((line) => line.replace(/(^|\s)#.*$/, ""))
        .join("\n");
      if (/<[a-z ]+>/.test(code))
        throw new Error(`the secrets block of docs/secrets.md has a placeholder the rehearsal does not fill: ${/<[a-z ]+>/.exec(code)[0]}`);
      const setSecrets = await runBlock("docs/secrets.md", filled, operator);
      check(
        setSecrets.code === 0,
        "the secrets block of docs/secrets.md sets the app's settings and the repository credential",
        setSecrets.output,
      );
      // terraform apply full.tfplan: the group is created and launches its minimum, from template v1.
      group.setTemplate(fill(boot.userData, bundleVersion));
      group.setDesired(groupConfig.minSize);
      const first = group.active();
      entry.launched.push(...first);
      // Runbook 2, step 4: while the apply waits, the database user block runs in a second shell.
      const waiting = await until(
        "an instance waiting for the app's database user, or an abandoned launch",
        () =>
          first.find((i) => /waiting for the app's database user/.test(readInside(i, "var/log/webapp-boot/env.log"))) ||
          first.find((i) => i.launchResult?.result === "ABANDON"),
        420,
      );
      if (waiting.launchResult?.result === "ABANDON") {
        throw new Error(
          `${waiting.id} abandoned its launch before the runbook's database user step could run:\n${readInside(waiting, "var/log/webapp-boot/env.log").split("\n").slice(-6).join("\n")}`,
        );
      }
      say(`runbook: ${waiting.id} waits for webapp-${ENV}/database-app-user; running "The app's database user" from a second shell`);
      const userStep = await runBlock(
        "The app's database user",
        `${variables.replace(/^ENV=dev\b/m, `ENV=${ENV}`)}\n${userBlock}`,
        operator,
      );
      check(
        userStep.code === 0 && /app_user\s*\|\s*f\s*\|\s*f\s*\|\s*f\s*\|\s*f\s*\|\s*t\b/.test(userStep.output),
        "the runbook's database user block created the role through a booting instance and stored its secret",
        userStep.output,
      );
      await until(
        "the minimum fleet in service",
        () => first.every((i) => i.state === "InService") || first.find((i) => i.launchResult?.result === "ABANDON"),
        600,
      );
      for (const i of first)
        check(
          i.launchResult?.result === "CONTINUE",
          `${i.id} completed its launch with CONTINUE`,
          i.launchResult ? JSON.stringify(i.launchResult) : group.bootLog(i),
        );
      // The load starts once the balancer has a healthy target, as users would arrive.
      await until("a healthy target", () => first.some((i) => i.servingAt), 300);
      const seeded = await put(`http://${first.find((i) => i.servingAt).address}:8080/uploads/seed.txt`, "seed\n");
      check(seeded.status === 201, "seeded the upload the load reads");
      // A client waits as long as the balancer does: past its idle timeout the balancer answers 504 itself.
      attack = load.attack({ targets: targets.file, rate: RATE, output, ca: tls.ca, timeoutSeconds: alb.idleTimeoutSeconds + 5, log: say });
      await serving(first);
      const redirect = await httpHead(`http://${LB}/status?x=1`);
      check(
        redirect.status === 301 && redirect.location === `https://${LB}/status?x=1`,
        `the HTTP listener redirects to HTTPS with a 301 (${redirect.status} ${redirect.location})`,
      );
    });

    // ------------------------------------------------------------ 2. steady load on the minimum fleet; the app's keep-alive
    let probe;
    await scenario(2, "steady load on the minimum fleet", async () => {
      const [target] = group.inService();
      probe = keepAliveProbe(target.address, alb.targetGroup.port, alb.idleTimeoutSeconds);
      await sleep(20000);
    });

    // ------------------------------------------------------------ 3. scale out under load
    await scenario(3, "scale out under load", async (entry) => {
      const before = new Set(group.active());
      group.setDesired(groupConfig.minSize + 1);
      const added = group.active().filter((i) => !before.has(i));
      entry.launched.push(...added);
      await serving(added);
      await sleep(5000);
      const kept = await probe;
      check(
        kept.ok,
        `an idle connection to the app is still open after the balancer's idle timeout (${alb.idleTimeoutSeconds}s) and serves the next request`,
        kept.detail,
      );
    });

    // ------------------------------------------------------------ 4. a rolling deploy of a new commit (the ref bump)
    await scenario(4, "rolling deploy of a new app commit (ref bump, instance refresh)", async (entry) => {
      const clone = path.join(work, "release");
      execFileSync("git", ["clone", "-q", "-b", "main", bare, clone]);
      fs.appendFileSync(path.join(clone, "examples/app/README.md"), "\nReleased by the fleet rehearsal.\n");
      execFileSync("git", [
        "-C",
        clone,
        "-c",
        "user.name=rehearsal",
        "-c",
        "user.email=rehearsal@example.com",
        "commit",
        "-qam",
        "release",
      ]);
      const next = bumped(currentTag);
      execFileSync("git", ["-C", clone, "tag", next]);
      execFileSync("git", ["-C", clone, "push", "-q", "origin", "HEAD:refs/heads/main", `refs/tags/${next}`]);
      const commit = execFileSync("git", ["-C", clone, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
      const newStack = parts.synthesizedStack(ENV, {
        compute: { repository: { ref: `refs/tags/${next}` } },
        outdir: path.join(work, "synth-next"),
      });
      // The apply stores the new bundle (its own key) and the new template version pins it.
      const release = parts.bootFromStack(newStack);
      check(
        pinnedTag(release.bundle.script) === next && release.bundle.key !== boot.bundle.key,
        `the synthesized boot bundle pins refs/tags/${next}, under a key of its own (${release.bundle.key})`,
      );
      const releaseVersion = await parts.storeBundle(motoPort, release.bundle);
      const before = new Set(group.active());
      const replaced = await group.refresh(fill(release.userData, releaseVersion));
      const now = group.active();
      entry.launched.push(...now.filter((i) => !before.has(i)));
      check(
        replaced.every((i) => i.state === "Terminated") && now.every((i) => i.version === group.version),
        `the refresh replaced ${replaced.length} instances with ${now.length} on refs/tags/${next}`,
      );
      for (const i of now) check(readInside(i, "var/log/webapp-boot/code.log").includes(commit), `${i.id} runs ${commit.slice(0, 12)}`);
      for (const i of replaced)
        check(
          i.terminateResult?.by === "the instance",
          `${i.id} drained and completed its terminate hook itself`,
          JSON.stringify(i.terminateResult),
        );
    });

    // ------------------------------------------------------------ 11. a Spot interruption: two minutes' notice
    await scenario(11, "Spot interruption notice (2 minutes) under load", async (entry) => {
      // The newest instance: above the on-demand base (compute.purchaseMix), so a Spot Instance.
      const victim = group.inService().at(-1);
      const replacement = group.interrupt(victim);
      entry.launched.push(replacement);
      await victim.terminated;
      const took = (victim.terminateResult?.at - victim.interruptedAt) / 1000;
      check(
        victim.terminateResult?.by === "the instance" && !victim.reclaimed && took < 120,
        `${victim.id} drained and completed its terminate hook ${took.toFixed(0)}s into the 2-minute notice, before EC2 reclaimed it`,
        JSON.stringify(victim.terminateResult),
      );
      const log = readInside(victim, "var/log/webapp-boot/lifecycle.log");
      check(
        /Spot interruption notice: \{"action":"terminate"[\s\S]*timed jobs: drained[\s\S]*app stopped/.test(log),
        `${victim.id}'s lifecycle watcher logged the notice, drained the timed jobs and stopped the app`,
        log,
      );
      await serving([replacement]);
    });

    // ------------------------------------------------------------ 6. scale-in with drain
    await scenario(6, "scale-in with drain under load", async () => {
      const [victim] = group.setDesired(groupConfig.minSize);
      await victim.terminated;
      check(
        victim.terminateResult?.by === "the instance" && victim.terminateResult?.result === "CONTINUE",
        `${victim.id} drained, stopped its app and completed the drain hook with CONTINUE`,
        JSON.stringify(victim.terminateResult),
      );
      const log = readInside(victim, "var/log/webapp-boot/lifecycle.log");
      check(
        /Terminated: draining[\s\S]*timed jobs: drained[\s\S]*balancer drained after[\s\S]*app stopped/.test(log),
        `${victim.id}'s lifecycle watcher drained the timed jobs, waited out the delay, stopped the app`,
        log,
      );
      check(
        /SIGTERM, closing[\s\S]*stopped cleanly/.test(readInside(victim, "var/log/webapp/app.log")),
        `${victim.id}'s app stopped cleanly`,
      );
    });

    // ------------------------------------------------------------ 5. a secret rotation reaching every instance
    await scenario(5, "secret rotation reaching every instance (every refresh timer at once)", async () => {
      const rotated = JSON.stringify({ REDIS_CACERT: "/etc/ssl/certs/ca-certificates.crt", GREETING: "rotated" });
      await parts.moto(motoPort, "secretsmanager", "secretsmanager.PutSecretValue", { SecretId: arns.appEnv, SecretString: rotated });
      const fleet = group.inService();
      const pids = await Promise.all(fleet.map(async (i) => JSON.parse((await get(`http://${i.address}:8080/status`)).body || "{}").pid));
      const callsFrom = group.calls.length;
      const runs = await Promise.all(fleet.map((i) => insideAsync(i, ["systemctl", "start", "webapp-env-refresh.service"])));
      runs.forEach((r, n) =>
        check(
          r.code === 0,
          `${fleet[n].id}: the refresh service ran`,
          r.output + readInside(fleet[n], "var/log/webapp-boot/refresh.log").split("\n").slice(-8).join("\n"),
        ),
      );
      for (const [n, i] of fleet.entries()) {
        const status = JSON.parse((await get(`http://${i.address}:8080/status`)).body || "{}");
        check(status.pid && status.pid !== pids[n], `${i.id}: the app restarted with the new environment`);
        check(/GREETING='rotated'/.test(readInside(i, "etc/webapp/app.env")), `${i.id}: the env file has the rotated value`);
      }
      // One at a time: no instance left the target group while another was out.
      const moves = group.calls.slice(callsFrom).filter((c) => c.action === "DeregisterTargets" || c.action === "RegisterTargets");
      let out = 0;
      let most = 0;
      for (const m of moves) {
        out += m.action === "DeregisterTargets" ? 1 : -1;
        most = Math.max(most, out);
      }
      check(
        moves.length === 2 * fleet.length && most === 1,
        `the instances left and rejoined the target group one at a time (${moves.map((m) => `${m.action === "DeregisterTargets" ? "out" : "in"} ${m.instance}`).join(", ")})`,
      );
    });

    // ------------------------------------------------------------ 7. an instance killed without warning
    await scenario(7, "an instance killed without warning", async (entry) => {
      const [victim] = group.inService();
      const before = new Set(group.active());
      group.kill(victim);
      entry.killedAt = victim.killedAt;
      await until(`${victim.id} found unhealthy`, () => victim.unhealthyAt, 300);
      entry.detectedSeconds = (victim.unhealthyAt - victim.killedAt) / 1000;
      await sleep(5000);
      entry.replacement = group.active().filter((i) => !before.has(i));
      entry.launched.push(...entry.replacement);
    });

    // ------------------------------------------------------------ 8. Redis and PostgreSQL restarted under load
    await scenario(8, "Redis restarted, then PostgreSQL restarted, under load", async (entry) => {
      const fleet = new Set(group.inService());
      const redisDown = Date.now();
      redis.stop();
      redis = await startRedis({ tls, password: cacheToken, host: ADDRESSES.cache, port: 6379 });
      entry.redisDownSeconds = (Date.now() - redisDown) / 1000;
      await sleep(10000);
      const pgDown = Date.now();
      postgres.restart();
      entry.postgresDownSeconds = (Date.now() - pgDown) / 1000;
      await sleep(10000);
      const still = group.inService().filter((i) => fleet.has(i));
      check(
        still.length === fleet.size,
        `no instance was replaced: the app reconnected by itself (${still.length}/${fleet.size} still in service)`,
      );
    });

    // The killed instance's replacement serves before the logs rotate on every instance.
    await serving(scenarios.find((s) => s.number === 7).replacement || []);

    // ------------------------------------------------------------ 9. log rotation as the timer runs it, the app writing
    await scenario(9, "log rotation as the timer runs it, with the app writing", async () => {
      for (const i of group.inService()) {
        // A day has passed since the last rotation: the state file says so (daily rotation).
        const yesterday = new Date(Date.now() - 86400000);
        const stamp = `${yesterday.getUTCFullYear()}-${yesterday.getUTCMonth() + 1}-${yesterday.getUTCDate()}-0:0:0`;
        const state = `logrotate state -- version 2\n"/var/log/webapp/app.log" ${stamp}\n"/var/log/webapp-boot/install.log" ${stamp}\n`;
        fs.writeFileSync(path.join(i.root, "var/lib/logrotate/status"), state, { mode: 0o640 });
        const before = fs.statSync(path.join(i.root, "var/log/webapp/app.log")).size;
        const run = await insideAsync(i, ["systemctl", "start", "logrotate.service"]);
        const journal = await insideAsync(i, ["journalctl", "-u", "logrotate.service", "-n", "20", "--no-pager"]);
        check(run.code === 0, `${i.id}: logrotate.service succeeded`, `${run.output}\n${journal.output}`);
        const rotated = readInside(i, "var/log/webapp/app.log.1");
        check(rotated.length > 0 && rotated.length >= before * 0.9, `${i.id}: app.log was rotated (app.log.1 ${rotated.length} bytes)`);
        const appLog = path.join(i.root, "var/log/webapp/app.log");
        await until(`${i.id} writing to the new app.log`, () => fs.statSync(appLog).size > 0, 20).catch(() => {});
        const current = fs.readFileSync(appLog);
        check(
          current.length > 0 && current.length < before && !current.includes(0),
          `${i.id}: the app keeps writing to the new app.log (${current.length} bytes, no NUL gap)`,
        );
      }
    });
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
  }

  // ------------------------------------------------------------ the end of the load; 10: uploads and the timed job
  await sleep(5000);
  const loadEnd = Date.now();
  await attack?.stop();
  const all = fs.existsSync(output) ? load.results(output) : [];
  const fleet = group.inService();
  let unread = [];
  const written = [...new Set(all.filter((r) => r.method === "PUT" && r.code === 201).map((r) => r.url.split("/").pop()))];
  for (const name of written) {
    for (const i of fleet) {
      const read = await get(`http://${i.address}:8080/uploads/${name}`);
      if (read.body !== targets.written[name]) unread.push(`${name} via ${i.id}: ${read.status}`);
    }
  }
  check(
    (attack === null || written.length > 0) && unread.length === 0,
    `10: every upload written through the balancer (${written.length}) reads back through every instance (${fleet.length})`,
    unread.slice(0, 10).join("\n"),
  );
  const jobs = await timedJobSlots({ postgres, motoPort, table: boot.jobsTable.name, from: scenarios[0].to, to: loadEnd });
  const slotText = jobs.slots
    .map((s) => `${s.slot.slice(11, 16)} ${s.status ?? "none"}${s.attempt > 1 ? ` attempt ${s.attempt}` : ""}`)
    .join(", ");
  check(
    jobs.slots.length > 0 && jobs.bad.length === 0,
    `10: the timed job ran once per slot through every scenario, each slot done and recorded once by the claim that finished it (${slotText})`,
    JSON.stringify(jobs.bad),
  );

  // ------------------------------------------------------------ figures
  const bounds = {
    7: health.intervalSeconds * health.unhealthyThreshold + health.timeoutSeconds,
  };
  const s8 = scenarios.find((s) => s.number === 8);
  if (s8) bounds[8] = Math.ceil((s8.redisDownSeconds || 0) + (s8.postgresDownSeconds || 0)) + 2 * health.timeoutSeconds;
  console.log("");
  console.log(
    `scenario                                                          requests  non-2xx  conn-err  p50 ms  p95 ms  p99 ms  launch-to-serving        error window / bound`,
  );
  for (const s of [...scenarios].sort((a, b) => a.number - b.number)) {
    const f = load.figures(all, s.from, s.to);
    const serve = s.launched.map((i) => (i.servingAt ? `${((i.servingAt - i.launchedAt) / 1000).toFixed(0)}s` : "-")).join(" ");
    const planned = ![7, 8].includes(s.number);
    const windowText = planned ? "" : `${f.errorWindowSeconds.toFixed(1)}s / ${bounds[s.number]}s`;
    console.log(
      `${`${s.number} ${s.title}`.slice(0, 64).padEnd(64)}  ${String(f.requests).padStart(8)}  ${String(f.non2xx).padStart(7)}  ${String(f.connectionErrors).padStart(8)}  ${f.p50.toFixed(0).padStart(6)}  ${f.p95.toFixed(0).padStart(6)}  ${f.p99.toFixed(0).padStart(6)}  ${serve.padEnd(22)}  ${windowText}`,
    );
    const sample = f.failures
      .slice(0, 5)
      .map((r) => `${new Date(r.at).toISOString().slice(11, 23)} ${r.method} ${r.url} ${r.code} ${r.error}`)
      .join("\n");
    if (planned) check(f.failures.length === 0, `scenario ${s.number} dropped no request (${f.requests} requests)`, sample);
    else
      check(
        f.errorWindowSeconds <= bounds[s.number],
        `scenario ${s.number}: errors for ${f.errorWindowSeconds.toFixed(1)}s, within ${bounds[s.number]}s`,
        sample,
      );
  }
  const total = load.figures(all, 0, Infinity);
  console.log(`all: ${total.requests} requests at ${RATE}/s, ${total.non2xx} non-2xx, ${total.connectionErrors} connection errors`);
  for (const i of group.instances.values()) say(`${group.describe(i)}`);
  say(`fleet rehearsal: ${((Date.now() - t0) / 1000).toFixed(0)}s`);
}

/** The tag the boot bundle's script fetches (compute.repository.ref). */
function pinnedTag(script) {
  const ref = /REPO_REF='refs\/tags\/([^']+)'/.exec(script);
  if (!ref) throw new Error(`${ENV} does not pin a tag`);
  return ref[1];
}

function bumped(tag) {
  const m = /^v(\d+)\.(\d+)\.(\d+)$/.exec(tag);
  return m ? `v${m[1]}.${Number(m[2]) + 1}.0` : `${tag}-next`;
}

function httpHead(url) {
  return new Promise((resolve) => {
    require("node:http")
      .get(url, { timeout: 3000 }, (res) => {
        res.resume();
        resolve({ status: res.statusCode, location: res.headers.location });
      })
      .on("error", (err) => resolve({ status: 0, location: err.message }));
  });
}

parts.runRehearsal("fleet rehearsal", main, failures);
