// The fleet rehearsal's load balancer stand-in: its HAProxy configuration comes from the synthesized stack,
// and what haproxy itself accepts (`haproxy -c`) is checked on each environment's.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENVIRONMENTS } from "../environments";
import { prod } from "../environments/prod";
import { staging } from "../environments/staging";
import { environment } from "./support/fixtures";
import { synthEnvironment } from "./support/synth";

interface AlbSettings {
  idleTimeoutSeconds: number;
  https: { port: number; headers: Record<string, string | undefined>; serverHeader: boolean };
  redirect: { port: number; protocol: string; toPort: number; status: number };
  targetGroup: {
    port: number;
    deregistrationDelaySeconds: number;
    slowStartSeconds: number;
    health: {
      path: string;
      matcher: string;
      intervalSeconds: number;
      timeoutSeconds: number;
      healthyThreshold: number;
      unhealthyThreshold: number;
    };
  };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const balancer = require("../rehearsals/instances/balancer.js") as {
  albSettings: (stack: unknown) => AlbSettings;
  matcherRegex: (matcher: string) => string;
  haproxyConfig: (settings: AlbSettings, options: { address: string; certificate: string; socket: string; slots: number }) => string;
};

const options = { address: "10.99.0.30", certificate: "/tmp/lb.pem", socket: "/tmp/admin.sock", slots: 4 };

describe("the load balancer stand-in, from the synthesized stack", () => {
  test("reads the listeners, the target group and the idle timeout of staging", () => {
    expect(balancer.albSettings(synthEnvironment(staging).json)).toEqual({
      idleTimeoutSeconds: 60,
      https: {
        port: 443,
        tlsPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
        headers: { "Strict-Transport-Security": "max-age=31536000; includeSubDomains", "X-Content-Type-Options": "nosniff" },
        serverHeader: false,
      },
      redirect: { port: 80, protocol: "HTTPS", toPort: 443, status: 301 },
      targetGroup: {
        port: 8080,
        deregistrationDelaySeconds: 30,
        slowStartSeconds: 0,
        health: { path: "/health", matcher: "200", intervalSeconds: 15, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
      },
    });
  });

  test("every setting reaches haproxy.cfg: timeouts, reuse, redirect, TLS, headers, health check, slow start", () => {
    const settings = balancer.albSettings(synthEnvironment(prod).json);
    const cfg = balancer.haproxyConfig(settings, options);
    expect(cfg).toMatch(/^ {2}timeout client 60s$/m);
    expect(cfg).toMatch(/^ {2}timeout http-keep-alive 60s$/m);
    expect(cfg).toMatch(/^ {2}http-reuse always$/m);
    expect(cfg).toMatch(/^ {2}retries 0$/m);
    expect(cfg).toMatch(/^ {2}bind 10\.99\.0\.30:80\n {2}http-request redirect scheme https code 301$/m);
    expect(cfg).toMatch(/^ {2}bind 10\.99\.0\.30:443 ssl crt \/tmp\/lb\.pem ssl-min-ver TLSv1\.2$/m);
    expect(cfg).toMatch(/^ {2}http-response set-header Strict-Transport-Security "max-age=31536000; includeSubDomains"$/m);
    expect(cfg).toMatch(/^ {2}http-response del-header Server$/m);
    expect(cfg).toMatch(/^ {2}http-check send meth GET uri \/health ver HTTP\/1\.1/m);
    expect(cfg).toMatch(/^ {2}http-check expect rstatus \^\(200\)\$$/m);
    expect(cfg).toMatch(/^ {2}timeout check 5s$/m);
    // prod: 10 s interval, 2 to become healthy, 3 to become unhealthy, 60 s slow start.
    expect(cfg).toMatch(/^ {2}default-server pool-purge-delay 60s inter 10s fastinter 10s downinter 10s rise 2 fall 3 slowstart 60s$/m);
    expect(cfg).toMatch(/^ {2}server-template slot 1-4 127\.0\.0\.1:8080 check disabled$/m);
  });

  test("a changed idle timeout, deregistration delay or matcher follows the environment", () => {
    const changed = environment({
      edge: { idleTimeoutSeconds: 120, deregistrationDelaySeconds: 5, healthCheck: { matcher: "200-202,204" } },
      compute: { healthCheckPath: "/ready" },
    });
    const settings = balancer.albSettings(synthEnvironment(changed).json);
    expect(settings.idleTimeoutSeconds).toBe(120);
    expect(settings.targetGroup.deregistrationDelaySeconds).toBe(5);
    const cfg = balancer.haproxyConfig(settings, options);
    expect(cfg).toMatch(/^ {2}timeout server 120s$/m);
    expect(cfg).toMatch(/rstatus \^\(200\|201\|202\|204\)\$$/m);
    expect(cfg).toMatch(/uri \/ready /);
  });

  test("matchers become anchored status expressions; bad ones are refused", () => {
    expect(balancer.matcherRegex("200")).toBe("^(200)$");
    expect(balancer.matcherRegex("200-203,302")).toBe("^(200|201|202|203|302)$");
    expect(() => balancer.matcherRegex("199")).toThrow(/bad matcher/);
  });

  test.each(ENVIRONMENTS.map((e) => [e.name, e] as const))("haproxy accepts the configuration of %s (haproxy -c)", (_name, env) => {
    if (spawnSync("haproxy", ["-v"]).status !== 0) {
      throw new Error("haproxy is not installed (scripts/setup-tools.sh installs Debian's haproxy)");
    }
    const dir = mkdtempSync(join(tmpdir(), "fleet-balancer-"));
    try {
      const cfg = join(dir, "haproxy.cfg");
      // A certificate is needed only to bind: check the configuration with the TLS listener's file present.
      spawnSync("openssl", [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=lb",
        "-keyout",
        join(dir, "k"),
        "-out",
        join(dir, "c"),
      ]);
      const pem = join(dir, "lb.pem");
      writeFileSync(pem, spawnSync("cat", [join(dir, "c"), join(dir, "k")], { encoding: "utf8" }).stdout);
      writeFileSync(
        cfg,
        balancer.haproxyConfig(balancer.albSettings(synthEnvironment(env).json), {
          ...options,
          certificate: pem,
          socket: join(dir, "admin.sock"),
        }),
      );
      const result = spawnSync("haproxy", ["-c", "-f", cfg], { encoding: "utf8" });
      expect({ status: result.status, output: result.status === 0 ? "" : `${result.stdout}${result.stderr}` }).toEqual({
        status: 0,
        output: "",
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
