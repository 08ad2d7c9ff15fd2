// Throwaway real services for tests: a test certificate authority (openssl), a PostgreSQL cluster that
// accepts only TLS connections with SCRAM passwords, and redis-server with TLS and AUTH. Each listens on a
// free loopback port (or the address given), lives in a temporary directory and is stopped by its PID.
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

const asRoot = process.getuid && process.getuid() === 0;

function freePort(host = "127.0.0.1") {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A CA and a server certificate for `names` (DNS names and IP addresses). */
function certificates(dir, names, cn = "webapp test CA") {
  fs.mkdirSync(dir, { recursive: true });
  const file = (n) => path.join(dir, n);
  const run = (...args) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  run(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${cn}`,
    "-keyout",
    file("ca.key"),
    "-out",
    file("ca.pem"),
  );
  const san = names.map((n) => (net.isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
  fs.writeFileSync(
    file("ext.cnf"),
    `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
  );
  run("req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${names[0]}`, "-keyout", file("server.key"), "-out", file("server.csr"));
  run(
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    file("ca.pem"),
    "-CAkey",
    file("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    file("ext.cnf"),
    "-out",
    file("server.pem"),
  );
  return { ca: file("ca.pem"), cert: file("server.pem"), key: file("server.key") };
}

function postgresBin(name) {
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((v) => fs.existsSync(path.join(root, v, "bin", name)))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL ${name} under ${root} (scripts/setup-tools.sh installs the Debian package)`);
  return path.join(root, versions[0], "bin", name);
}

function asPostgres(bin, args, options = {}) {
  const [cmd, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
  return execFileSync(cmd, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...options });
}

/**
 * PostgreSQL on `host:port` (port free by default), TLS only (hostssl + scram-sha-256), superuser `postgres`
 * over the cluster's Unix socket for setup. Returns { host, port, psql(sql), stop() }.
 */
async function startPostgres({ tls, host = "127.0.0.1", port }) {
  port = port || (await freePort(host));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "webapp-pg-"));
  const data = path.join(dir, "data");
  fs.copyFileSync(tls.cert, path.join(dir, "server.pem"));
  fs.copyFileSync(tls.key, path.join(dir, "server.key"));
  fs.chmodSync(path.join(dir, "server.key"), 0o600);
  if (asRoot) execFileSync("chown", ["-R", "postgres:", dir]);
  asPostgres(postgresBin("initdb"), ["-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=reject", "-E", "UTF8", "--no-sync"]);
  fs.appendFileSync(
    path.join(data, "postgresql.conf"),
    [
      `listen_addresses = '${host}'`,
      `port = ${port}`,
      `unix_socket_directories = '${dir}'`,
      "ssl = on",
      `ssl_cert_file = '${dir}/server.pem'`,
      `ssl_key_file = '${dir}/server.key'`,
      "password_encryption = 'scram-sha-256'",
      "fsync = off",
      "",
    ].join("\n"),
  );
  fs.writeFileSync(
    path.join(data, "pg_hba.conf"),
    "local all postgres trust\nhostssl all all 0.0.0.0/0 scram-sha-256\nhostnossl all all 0.0.0.0/0 reject\n",
  );
  asPostgres(postgresBin("pg_ctl"), ["-D", data, "-l", path.join(dir, "log"), "-w", "-t", "30", "start"]);
  const pid = Number(fs.readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n")[0]);
  const psql = (sql, database = "postgres") =>
    asPostgres(postgresBin("psql"), [
      "-h",
      dir,
      "-p",
      String(port),
      "-U",
      "postgres",
      "-d",
      database,
      "-v",
      "ON_ERROR_STOP=1",
      "-Atqc",
      sql,
    ]).trim();
  const ctl = (...args) => asPostgres(postgresBin("pg_ctl"), ["-D", data, "-l", path.join(dir, "log"), ...args]);
  const server = {
    host,
    port,
    pid,
    dir,
    psql,
    /** A fast restart (pg_ctl restart -m fast): open connections are cut, the data stays. */
    restart() {
      ctl("-w", "-t", "30", "-m", "fast", "restart");
      server.pid = Number(fs.readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n")[0]);
    },
    stop() {
      const pid = server.pid;
      try {
        process.kill(pid, "SIGINT");
      } catch {
        return;
      }
      for (let i = 0; i < 100 && alive(pid); i++) execFileSync("sleep", ["0.1"]);
      if (alive(pid)) process.kill(pid, "SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** redis-server on `host:port`, TLS only, AUTH with `password`. Returns { host, port, pid, stop() }. */
async function startRedis({ tls, password, host = "127.0.0.1", port }) {
  port = port || (await freePort(host));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "webapp-redis-"));
  const child = spawn(
    "redis-server",
    [
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--bind",
      host,
      "--tls-cert-file",
      tls.cert,
      "--tls-key-file",
      tls.key,
      "--tls-ca-cert-file",
      tls.ca,
      "--tls-auth-clients",
      "no",
      "--requirepass",
      password,
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
    const poll = setInterval(() => {
      if (/Ready to accept connections/.test(output)) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve();
      }
    }, 50);
    child.once("exit", (code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`redis-server exited ${code}:\n${output}`));
    });
  });
  return {
    host,
    port,
    pid: child.pid,
    stop() {
      if (child.exitCode === null) child.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

module.exports = { certificates, freePort, startPostgres, startRedis };
