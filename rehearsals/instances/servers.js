// The boot rehearsal's network services, each a small real server: instance metadata (IMDSv2, token
// required, one identity per instance address), an HTTPS front for the AWS API emulator (moto), a git
// server over HTTPS with a token (git http-backend), and the RDS trust store (the test CA as the bundle).
"use strict";
const { spawn } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const https = require("node:https");

/**
 * IMDSv2: PUT /latest/api/token, then GETs with X-aws-ec2-metadata-token. `instances` maps source IP ->
 * { id, role, metadata? }; `metadata` adds paths (a value, or a function; undefined answers 404).
 */
function imds({ host, instances, log }) {
  const tokens = new Map();
  const server = http.createServer((req, res) => {
    const ip = req.socket.remoteAddress.replace(/^::ffff:/, "");
    const instance = instances[ip];
    const reply = (code, body, type = "text/plain") => {
      res.writeHead(code, { "content-type": type });
      res.end(body);
    };
    if (!instance) return reply(403, "unknown instance");
    if (req.method === "PUT" && req.url === "/latest/api/token") {
      const ttl = Number(req.headers["x-aws-ec2-metadata-token-ttl-seconds"]);
      if (!(ttl >= 1 && ttl <= 21600)) return reply(400, "missing or invalid TTL");
      const token = crypto.randomBytes(24).toString("base64url");
      tokens.set(token, { ip, expires: Date.now() + ttl * 1000 });
      return reply(200, token);
    }
    const token = tokens.get(req.headers["x-aws-ec2-metadata-token"] || "");
    if (!token || token.ip !== ip || token.expires < Date.now()) {
      log?.(`imds: ${ip} ${req.method} ${req.url} without a valid token`);
      return reply(401, "");
    }
    const path = req.url.replace(/^\/latest\/meta-data\//, "");
    const credentials = () =>
      JSON.stringify({
        Code: "Success",
        LastUpdated: new Date().toISOString(),
        Type: "AWS-HMAC",
        AccessKeyId: "AKIAREHEARSAL0000001",
        SecretAccessKey: "rehearsal-secret-key",
        Token: "rehearsal-session-token",
        Expiration: new Date(Date.now() + 6 * 3600e3).toISOString(),
      });
    const answers = {
      "instance-id": instance.id,
      "local-ipv4": ip,
      "placement/region": "eu-west-2",
      "placement/availability-zone": "eu-west-2a",
      "iam/security-credentials/": instance.role,
      [`iam/security-credentials/${instance.role}`]: credentials,
      "iam/info": () =>
        JSON.stringify({ Code: "Success", InstanceProfileArn: `arn:aws:iam::111111111111:instance-profile/${instance.role}` }),
    };
    // More paths per instance (an Auto Scaling target lifecycle state, for example), current at each request.
    const answer = path in (instance.metadata || {}) ? instance.metadata[path] : answers[path];
    const value = typeof answer === "function" ? answer() : answer;
    if (value === undefined) return reply(404, "");
    return reply(200, value);
  });
  return listen(server, host, 80);
}

/**
 * TLS in front of the emulator: what the AWS CLI sees as <service>.<region>.amazonaws.com. `intercept(body,
 * req)` may answer a request itself ({ status, body, type? }) instead of the emulator; `log` sees every request.
 */
function awsFront({ host, tls, target, intercept, log }) {
  const server = https.createServer(credentials(tls), (req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      log?.(req, body);
      const answer = intercept?.(body.toString(), req);
      if (answer) {
        res.writeHead(answer.status, { "content-type": answer.type || "text/xml" });
        return res.end(answer.body);
      }
      const upstream = http.request(
        { host: target.host, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode, up.headers);
          up.pipe(res);
        },
      );
      upstream.on("error", (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      return upstream.end(body);
    });
  });
  return listen(server, host, 443);
}

/** Smart HTTP git over TLS: Basic auth with `token` (any user name), then git http-backend for `root`. */
function gitServer({ host, tls, root, token, log }) {
  const server = https.createServer(credentials(tls), (req, res) => {
    const [scheme, encoded] = (req.headers.authorization || "").split(" ");
    const password =
      scheme === "Basic"
        ? Buffer.from(encoded || "", "base64")
            .toString()
            .split(":")
            .slice(1)
            .join(":")
        : "";
    if (password !== token) {
      log?.(`git: ${req.method} ${req.url} refused (${password ? "wrong token" : "no credentials"})`);
      res.writeHead(401, { "www-authenticate": 'Basic realm="git"' });
      return res.end();
    }
    log?.(`git: ${req.method} ${req.url}`);
    const url = new URL(req.url, "https://git");
    const cgi = spawn("git", ["http-backend"], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method,
        CONTENT_TYPE: req.headers["content-type"] || "",
        GIT_PROTOCOL: req.headers["git-protocol"] || "",
        REMOTE_USER: "rehearsal",
        REMOTE_ADDR: req.socket.remoteAddress,
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on("data", (chunk) => {
      if (headersDone) return res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return undefined;
      headersDone = true;
      let status = 200;
      const headers = {};
      for (const line of head.subarray(0, end).toString().split("\r\n")) {
        const [name, ...rest] = line.split(":");
        if (/^status$/i.test(name)) status = Number(rest.join(":").trim().split(" ")[0]);
        else headers[name] = rest.join(":").trim();
      }
      res.writeHead(status, headers);
      return res.write(head.subarray(end + 4));
    });
    cgi.stdout.on("end", () => res.end());
    cgi.stderr.on("data", (c) => log?.(`git http-backend: ${String(c).trim()}`));
  });
  return listen(server, host, 443);
}

/** truststore.pki.rds.amazonaws.com: serves `bundle` at every path ending in .pem. */
function trustStore({ host, tls, bundle }) {
  const server = https.createServer(credentials(tls), (req, res) => {
    if (!/\.pem$/.test(req.url)) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { "content-type": "application/x-pem-file" });
    return res.end(fs.readFileSync(bundle));
  });
  return listen(server, host, 443);
}

function credentials(tls) {
  return { cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) };
}

function listen(server, host, port) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

module.exports = { awsFront, gitServer, imds, trustStore };
