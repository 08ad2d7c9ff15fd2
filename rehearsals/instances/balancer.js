// The fleet rehearsal's one named stand-in: the Application Load Balancer, played by HAProxy (Debian), set
// up from the synthesized stack and nothing else: the HTTPS listener (TLS 1.2+ with a test certificate,
// the response headers the listener adds), the HTTP listener's redirect, the target group's port,
// health check (path, interval, timeout, healthy and unhealthy thresholds, matcher), deregistration delay
// and slow start, and the load balancer's idle timeout (client connections, and idle connections to
// targets, which it reuses). Targets are registered and deregistered at run time through HAProxy's admin
// socket: a registered target starts unhealthy and receives requests after `healthyThreshold` passing
// checks, as on an ALB; a deregistered one gets no new request and is cut after the deregistration delay.
// Not modelled: availability zones, WAF, HTTP/2 to clients (the load generator speaks HTTP/1.1), access logs.
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const path = require("node:path");

function only(resources, kind) {
  const all = Object.values(resources[kind] || {});
  if (all.length !== 1) throw new Error(`expected one ${kind}, found ${all.length}`);
  return all[0];
}

/** What the ALB does, read from the synthesized stack (Terraform JSON). */
function albSettings(stack) {
  const r = stack.resource;
  const lb = only(r, "aws_lb");
  const tg = only(r, "aws_lb_target_group");
  const listeners = Object.values(r.aws_lb_listener || {});
  const forward = listeners.filter((l) => l.default_action?.[0]?.type === "forward");
  const redirect = listeners.filter((l) => l.default_action?.[0]?.type === "redirect");
  if (forward.length !== 1 || forward[0].protocol !== "HTTPS")
    throw new Error("expected one HTTPS listener forwarding to the target group");
  if (redirect.length !== 1) throw new Error("expected one redirecting listener");
  const to = redirect[0].default_action[0].redirect;
  if (tg.protocol !== "HTTP" || tg.health_check?.protocol !== "HTTP" || tg.health_check?.port !== "traffic-port") {
    throw new Error(
      `target group protocol ${tg.protocol}, health check ${tg.health_check?.protocol} on ${tg.health_check?.port}: only HTTP on the traffic port is modelled`,
    );
  }
  const hc = tg.health_check;
  const https = forward[0];
  return {
    idleTimeoutSeconds: Number(lb.idle_timeout ?? 60),
    https: {
      port: Number(https.port),
      tlsPolicy: https.ssl_policy,
      headers: {
        "Strict-Transport-Security": https.routing_http_response_strict_transport_security_header_value,
        "X-Content-Type-Options": https.routing_http_response_x_content_type_options_header_value,
      },
      serverHeader: https.routing_http_response_server_enabled !== false,
    },
    redirect: {
      port: Number(redirect[0].port),
      protocol: to.protocol,
      toPort: Number(to.port),
      status: Number(String(to.status_code).replace("HTTP_", "")),
    },
    targetGroup: {
      port: Number(tg.port),
      deregistrationDelaySeconds: Number(tg.deregistration_delay ?? 300),
      slowStartSeconds: Number(tg.slow_start ?? 0),
      health: {
        path: hc.path,
        matcher: hc.matcher ?? "200",
        intervalSeconds: Number(hc.interval ?? 30),
        timeoutSeconds: Number(hc.timeout ?? 5),
        healthyThreshold: Number(hc.healthy_threshold ?? 5),
        unhealthyThreshold: Number(hc.unhealthy_threshold ?? 2),
      },
    },
  };
}

/** An ALB matcher ("200", "200-299", "200,302") as an anchored regular expression over the status code. */
function matcherRegex(matcher) {
  const codes = [];
  for (const part of matcher.split(",")) {
    const [low, high = low] = part.split("-").map(Number);
    if (!(low >= 200 && high <= 499 && low <= high)) throw new Error(`bad matcher ${matcher}`);
    for (let c = low; c <= high; c++) codes.push(c);
  }
  return `^(${codes.join("|")})$`;
}

/**
 * The haproxy.cfg for `settings` (albSettings): listeners on `address`, `slots` server slots in the target
 * group's backend (registered at run time), the admin socket at `socket`.
 */
function haproxyConfig(settings, { address, certificate, socket, slots }) {
  const { idleTimeoutSeconds: idle, https, redirect, targetGroup: tg } = settings;
  const h = tg.health;
  if (redirect.protocol !== "HTTPS" || redirect.toPort !== https.port)
    throw new Error(`the redirect goes to ${redirect.protocol}:${redirect.toPort}, not the HTTPS listener`);
  const headers = Object.entries(https.headers)
    .filter(([, value]) => value)
    .map(([name, value]) => `  http-response set-header ${name} "${value}"`);
  // Idle connections to a target are kept (and reused) as long as the balancer's idle timeout.
  const server = [
    `pool-purge-delay ${idle}s`,
    `inter ${h.intervalSeconds}s`,
    `fastinter ${h.intervalSeconds}s`,
    `downinter ${h.intervalSeconds}s`,
    `rise ${h.healthyThreshold}`,
    `fall ${h.unhealthyThreshold}`,
  ];
  if (tg.slowStartSeconds > 0) server.push(`slowstart ${tg.slowStartSeconds}s`);
  return [
    "# Generated by rehearsals/instances/balancer.js from the synthesized stack: the ALB stand-in.",
    "global",
    `  stats socket ${socket} mode 600 level admin`,
    "  maxconn 4096",
    "",
    "defaults",
    "  mode http",
    // An ALB gives a target 10 s to accept a connection; its idle timeout bounds every idle connection,
    // on the client side and on the target side (which it keeps for reuse).
    "  timeout connect 10s",
    `  timeout client ${idle}s`,
    `  timeout http-request ${idle}s`,
    `  timeout http-keep-alive ${idle}s`,
    `  timeout server ${idle}s`,
    "  http-reuse always",
    // An ALB does not retry a request on another target: a failed connection is an error to the client.
    "  retries 0",
    "",
    `frontend redirect-${redirect.port}`,
    `  bind ${address}:${redirect.port}`,
    `  http-request redirect scheme https code ${redirect.status}`,
    "",
    `frontend https-${https.port}`,
    `  bind ${address}:${https.port} ssl crt ${certificate} ssl-min-ver TLSv1.2`,
    ...headers,
    ...(https.serverHeader ? [] : ["  http-response del-header Server"]),
    "  default_backend targets",
    "",
    "backend targets",
    "  balance roundrobin",
    "  option httpchk",
    `  http-check send meth GET uri ${h.path} ver HTTP/1.1 hdr Host ${address}`,
    `  http-check expect rstatus ${matcherRegex(h.matcher)}`,
    `  timeout check ${h.timeoutSeconds}s`,
    `  default-server ${server.join(" ")}`,
    `  server-template slot 1-${slots} 127.0.0.1:${tg.port} check disabled`,
    "",
  ].join("\n");
}

/** One admin-socket command; resolves with HAProxy's answer. */
function admin(socket, command) {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socket);
    let out = "";
    conn.on("data", (c) => (out += c));
    conn.on("end", () => resolve(out.trim()));
    conn.on("error", reject);
    conn.end(`${command}\n`);
  });
}

/** HAProxy as the load balancer: start(), register(id, address), deregister(id), states(). */
class Balancer {
  constructor(settings, { dir, address, certificate, slots = 12, log = () => {} }) {
    this.settings = settings;
    this.dir = dir;
    this.address = address;
    this.socket = path.join(dir, "admin.sock");
    this.slots = Array.from({ length: slots }, (_, i) => ({ name: `slot${i + 1}`, id: null }));
    this.log = log;
    fs.mkdirSync(dir, { recursive: true });
    this.config = path.join(dir, "haproxy.cfg");
    fs.writeFileSync(this.config, haproxyConfig(settings, { address, certificate, socket: this.socket, slots }));
  }

  async start() {
    const out = fs.openSync(path.join(this.dir, "haproxy.log"), "a");
    this.child = spawn("haproxy", ["-db", "-f", this.config], { stdio: ["ignore", out, out] });
    for (let i = 0; i < 100; i++) {
      if (this.child.exitCode !== null)
        throw new Error(`haproxy exited ${this.child.exitCode}: ${fs.readFileSync(path.join(this.dir, "haproxy.log"), "utf8")}`);
      try {
        await admin(this.socket, "show info");
        return this;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error("haproxy's admin socket did not answer");
  }

  stop() {
    if (this.child && this.child.exitCode === null) this.child.kill("SIGKILL");
  }

  command(text) {
    return admin(this.socket, text);
  }

  slotOf(id) {
    return this.slots.find((s) => s.id === id);
  }

  /** RegisterTargets: the target starts unhealthy (ALB "initial") and needs healthyThreshold passing checks. */
  async register(id, address) {
    if (this.slotOf(id)) return;
    const slot = this.slots.find((s) => s.id === null);
    if (!slot) throw new Error("no free server slot in the balancer");
    slot.id = id;
    slot.wasUp = false;
    clearTimeout(slot.cut);
    const name = `targets/${slot.name}`;
    await this.command(`set server ${name} addr ${address} port ${this.settings.targetGroup.port}`);
    // Out of maintenance HAProxy would count it up at once: weight 0 until its health is set down, so no
    // request reaches it before healthyThreshold checks have passed.
    await this.command(`set weight ${name} 0; set server ${name} state ready; set server ${name} health down; set weight ${name} 1`);
    this.log(`balancer: registered ${id} (${address}) in ${slot.name}`);
  }

  /** DeregisterTargets: no new requests at once; in-flight ones get the deregistration delay, then are cut. */
  async deregister(id) {
    const slot = this.slotOf(id);
    if (!slot) return;
    const name = `targets/${slot.name}`;
    await this.command(`set server ${name} state drain`);
    this.log(`balancer: deregistering ${id} (draining ${this.settings.targetGroup.deregistrationDelaySeconds}s)`);
    await new Promise((resolve) => {
      slot.cut = setTimeout(resolve, this.settings.targetGroup.deregistrationDelaySeconds * 1000);
    });
    if (slot.id !== id) return;
    await this.command(`set server ${name} state maint`);
    await this.command(`shutdown sessions server ${name}`);
    slot.id = null;
    this.log(`balancer: ${id} deregistered`);
  }

  /** Target health by instance id: healthy, unhealthy, initial (registered, not yet healthy), draining. */
  async states() {
    const csv = await this.command("show stat -1 4 -1");
    const [head, ...rows] = csv.split("\n");
    const cols = head.replace(/^# /, "").split(",");
    const at = (row, name) => row.split(",")[cols.indexOf(name)];
    const result = {};
    for (const row of rows) {
      const slot = this.slots.find((s) => s.name === at(row, "svname"));
      if (!slot?.id) continue;
      const status = at(row, "status");
      if (/^UP/.test(status)) slot.wasUp = true;
      result[slot.id] = /^DRAIN/.test(status) ? "draining" : /^UP/.test(status) ? "healthy" : slot.wasUp ? "unhealthy" : "initial";
    }
    return result;
  }
}

module.exports = { albSettings, matcherRegex, haproxyConfig, Balancer };
