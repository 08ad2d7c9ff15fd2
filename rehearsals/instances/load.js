// The fleet rehearsal's load: vegeta (a maintained load generator, built by scripts/setup-tools.sh) at a
// constant rate over keep-alive connections through the load balancer, every request's start, status,
// latency and error recorded; and the figures per time window.
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

/**
 * Writes vegeta's targets (http format): reads of the status page (database and Redis), uploads written
 * and read back, and the health path, in turn. Returns the upload names and bodies it writes.
 */
function writeTargets(dir, base, uploads) {
  fs.mkdirSync(dir, { recursive: true });
  const lines = [];
  const written = {};
  for (let i = 0; i < uploads; i++) {
    const name = `load-${String(i).padStart(3, "0")}.txt`;
    const body = path.join(dir, name);
    fs.writeFileSync(body, `upload ${name} through the load balancer\n`);
    written[name] = fs.readFileSync(body, "utf8");
    lines.push(
      `GET ${base}/status`,
      "",
      `PUT ${base}/uploads/${name}`,
      `@${body}`,
      "",
      `GET ${base}/uploads/seed.txt`,
      "",
      `GET ${base}/health`,
      "",
    );
  }
  const file = path.join(dir, "targets.http");
  fs.writeFileSync(file, lines.join("\n"));
  return { file, written };
}

/**
 * Starts `vegeta attack` at `rate` per second until stop(); results go to `output` (vegeta's binary format).
 * `args` are more of vegeta's flags, after these (a later flag wins).
 */
function attack({ targets, rate, output, ca, timeoutSeconds = 30, log, args = [] }) {
  const child = spawn(
    "vegeta",
    [
      "attack",
      `-targets=${targets}`,
      "-format=http",
      `-rate=${rate}/s`,
      "-duration=0",
      "-keepalive=true",
      "-http2=false",
      `-root-certs=${ca}`,
      `-timeout=${timeoutSeconds}s`,
      "-max-workers=200",
      `-output=${output}`,
      ...args,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let err = "";
  child.stderr.on("data", (c) => (err += c));
  child.on("exit", (code, signal) => log?.(`vegeta exited ${code ?? signal}${err ? `: ${err.trim()}` : ""}`));
  return {
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGINT");
        setTimeout(() => child.kill("SIGKILL"), 10000).unref();
      });
    },
  };
}

/** Every request: { at (ms), code, latencyMs, error, method, url, body }. */
function results(output) {
  const text = execFileSync("vegeta", ["encode", "--to=json", output], { encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const r = JSON.parse(line);
      return {
        at: Date.parse(r.timestamp),
        code: r.code,
        latencyMs: r.latency / 1e6,
        error: r.error,
        method: r.method,
        url: r.url,
        body: Buffer.from(r.body || "", "base64").toString(),
      };
    });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Figures of the requests started in [from, to): counts, failures, latency percentiles, the error window. */
function figures(all, from, to) {
  const inside = all.filter((r) => r.at >= from && r.at < to);
  const failed = inside.filter((r) => r.code < 200 || r.code > 299);
  const connection = failed.filter((r) => r.code === 0);
  const latencies = inside.map((r) => r.latencyMs).sort((a, b) => a - b);
  const window =
    failed.length === 0 ? 0 : (Math.max(...failed.map((r) => r.at + r.latencyMs)) - Math.min(...failed.map((r) => r.at))) / 1000;
  return {
    requests: inside.length,
    non2xx: failed.length - connection.length,
    connectionErrors: connection.length,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    errorWindowSeconds: window,
    failures: failed,
  };
}

module.exports = { writeTargets, attack, results, figures };
