// What the fleet and migration rehearsals share to run the documents as an operator would: the fenced sh
// blocks under a heading, run as written in bash (one block at a time, or a shell kept open across blocks as
// an operator's terminal), and the operator's machine: a folder with the repository's scripts, the real AWS CLI
// against the emulator, psql and jq, and named stand-ins on PATH for `terraform output` and the Session
// Manager port forward (operator/).
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { ROOT, ROOTFS, REGION, ADDRESSES, cleanups, say, sleep } = require("./parts");

async function until(what, fn, seconds, every = 1000) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds}s waiting for ${what}`);
    await sleep(every);
  }
}

/** The fenced sh blocks of `file` under the heading `heading` (up to the next heading of its level or above). */
function shellBlocks(file, heading) {
  const level = heading.split(" ")[0].length;
  const blocks = [];
  let inside = false;
  let fence = null;
  for (const line of fs.readFileSync(path.join(ROOT, file), "utf8").split("\n")) {
    if (fence !== null) {
      if (/^\s*```\s*$/.test(line)) {
        if (inside && fence.sh) blocks.push(fence.lines.join("\n") + "\n");
        fence = null;
      } else fence.lines.push(line);
      continue;
    }
    const open = /^\s*```(\w*)/.exec(line);
    if (open) {
      fence = { sh: open[1] === "sh", lines: [] };
      continue;
    }
    const title = /^(#+) /.exec(line);
    if (title && line === heading) inside = true;
    else if (title && inside && title[1].length <= level) break;
  }
  if (blocks.length === 0) throw new Error(`${file} has no sh block under ${heading}`);
  return blocks;
}

/** Runs a runbook block as written, in bash with -euo pipefail, as the operator (operator/ on PATH). */
function runBlock(name, text, operator) {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-euo", "pipefail", "-c", text], {
      cwd: operator.cwd,
      env: operator.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c) => (output += c));
    child.stderr.on("data", (c) => (output += c));
    child.on("exit", (code) => {
      say(`runbook: ${name} exited ${code}`);
      resolve({ code, output });
    });
  });
}

/**
 * A shell kept open across blocks, as an operator's terminal is (`set -euo pipefail`, so a failing command ends
 * it): `run(name, text)` writes the block to a file in `dir` (as seen from this process) and sources it as
 * `inside` (the same file as the shell sees it), stdin from /dev/null; resolves with { code, output, seconds }.
 * `command` starts the shell (bash by default, in `cwd` with `env`).
 */
function terminal({ name, command = ["bash", "--norc", "--noprofile"], cwd, env, dir, inside = dir }) {
  fs.mkdirSync(dir, { recursive: true });
  const child = spawn(command[0], command.slice(1), { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  let waiting = null;
  let exited = null;
  const settle = () => {
    if (!waiting) return;
    const marker = `__block_${waiting.n}_done__`;
    const at = output.indexOf(marker);
    if (at >= 0 || exited !== null) {
      const text = output.slice(waiting.from, at >= 0 ? at : undefined);
      const done = waiting;
      waiting = null;
      done.resolve({ code: at >= 0 ? 0 : exited, output: text, seconds: (Date.now() - done.started) / 1000 });
    }
  };
  child.stdout.on("data", (c) => {
    output += c;
    settle();
  });
  child.stderr.on("data", (c) => {
    output += c;
    settle();
  });
  child.on("exit", (code) => {
    exited = code ?? 1;
    settle();
  });
  cleanups.push(() => child.exitCode === null && child.kill("SIGKILL"));
  child.stdin.write("set -euo pipefail\n");
  let n = 0;
  return {
    run(title, text) {
      if (exited !== null) return Promise.resolve({ code: exited, output: "(the shell had ended)", seconds: 0 });
      n += 1;
      const file = `block-${n}.sh`;
      fs.writeFileSync(path.join(dir, file), text);
      return new Promise((resolve) => {
        waiting = {
          n,
          from: output.length,
          started: Date.now(),
          resolve: (r) => (say(`runbook (${name}): ${title} exited ${r.code} after ${r.seconds.toFixed(1)}s`), resolve(r)),
        };
        child.stdin.write(`source ${path.posix.join(inside, file)} </dev/null\necho __block_${n}_done__\n`);
      });
    },
    close() {
      if (exited === null) child.stdin.end("exit 0\n");
    },
  };
}

/**
 * The operator's machine: a folder with the repository's scripts, the AWS CLI and the stand-ins on PATH.
 * `outputs` are what `terraform output` answers; `group` lists the instances the port forward reaches;
 * `names` maps service kinds to the names the instances resolve (ADDRESSES).
 */
function operatorShell(work, { env, tls, outputs, group, names }) {
  const cwd = path.join(work, "operator");
  fs.mkdirSync(path.join(cwd, "cdktf.out", "stacks", env), { recursive: true });
  fs.symlinkSync(path.join(ROOT, "scripts"), path.join(cwd, "scripts"));
  const outputsFile = path.join(work, "terraform-outputs.json");
  fs.writeFileSync(outputsFile, JSON.stringify(outputs));
  const instancesFile = path.join(work, "operator-instances.json");
  const writeInstances = () => {
    const instances = Object.fromEntries(
      [...group.instances.values()].filter((i) => !/^Terminat/.test(i.state)).map((i) => [i.id, { netns: i.netns }]),
    );
    const hosts = Object.fromEntries(Object.entries(names).flatMap(([k, list]) => list.map((n) => [n, ADDRESSES[k]])));
    fs.writeFileSync(instancesFile, JSON.stringify({ instances, hosts }));
  };
  const timer = setInterval(writeInstances, 500);
  cleanups.push(() => clearInterval(timer));
  writeInstances();
  const site = path.join(ROOTFS, "opt/awscli/lib", fs.readdirSync(path.join(ROOTFS, "opt/awscli/lib"))[0], "site-packages");
  return {
    cwd,
    env: {
      PATH: `${path.join(__dirname, "operator")}:${process.env.PATH}`,
      HOME: cwd,
      AWS_ACCESS_KEY_ID: "AKIAREHEARSALOPERATOR",
      AWS_SECRET_ACCESS_KEY: "rehearsal-operator-secret",
      AWS_ENDPOINT_URL: `https://${ADDRESSES.aws}`,
      AWS_CA_BUNDLE: tls.ca,
      AWS_DEFAULT_REGION: REGION,
      REHEARSAL_AWSCLI_SITE_PACKAGES: site,
      REHEARSAL_TERRAFORM_OUTPUTS: outputsFile,
      REHEARSAL_INSTANCES_FILE: instancesFile,
    },
  };
}

/** The balancer's certificate and key in one PEM (HAProxy's format). */
function pemOf(tls, work) {
  const pem = path.join(work, "tls", "balancer.pem");
  fs.writeFileSync(pem, fs.readFileSync(tls.cert, "utf8") + fs.readFileSync(tls.key, "utf8"), { mode: 0o600 });
  return pem;
}

/**
 * The EFS stand-in: one directory every instance bind-mounts. Through the uploads access point every client acts
 * as its one POSIX user (whoever writes, root's copies included, the app may change it): here a default ACL
 * gives every user full access to what any of them creates.
 */
function makeEfs(work) {
  const efs = path.join(work, "efs");
  fs.mkdirSync(efs, { mode: 0o777 });
  fs.chmodSync(efs, 0o777);
  execFileSync("setfacl", ["-d", "-m", "u::rwx,g::rwx,o::rwx", efs]);
  return efs;
}

module.exports = { until, shellBlocks, runBlock, terminal, operatorShell, pemOf, makeEfs };
