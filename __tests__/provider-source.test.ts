// Where the AWS provider comes from (scripts/tools-env.sh): the public registry when a bounded probe reaches
// it, else the local build; PLATFORM_USE_REGISTRY=0|1 forces either. The unreachable case is the real
// network of this machine; the reachable one needs a registry, so a stand-in `curl` (named as such below)
// answers as registry.terraform.io does.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const root = path.join(__dirname, "..");
let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "provider-source-"));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function bash(script: string, env: Record<string, string> = {}) {
  const result = spawnSync("bash", ["-c", `. scripts/tools-env.sh && ${script}`], {
    cwd: root,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", PLATFORM_TOOLS_DIR: work, ...env },
  });
  return { status: result.status, out: `${result.stdout}${result.stderr}`.trim() };
}

describe("platform_registry_probe", () => {
  it("says the registry is unreachable, and why, within its bound (the real network here)", () => {
    const started = Date.now();
    const result = bash("platform_registry_probe registry.terraform.io linux_amd64");
    expect(result.status).toBe(1);
    expect(result.out).toMatch(/^registry\.terraform\.io did not answer within 4 s \(.+\)$/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("says both hosts answered when the registry serves a download URL (stand-in curl)", () => {
    const bin = path.join(work, "stand-in-bin");
    fs.mkdirSync(bin, { recursive: true });
    // Stand-in for curl: answers the registry's download endpoint as the registry does, and HEAD with success.
    fs.writeFileSync(
      path.join(bin, "curl"),
      '#!/bin/sh\ncase "$*" in\n  *" -I "*) exit 0 ;;\n  *registry.terraform.io/v1/providers/hashicorp/aws/6.25.0/download/linux_amd64*)\n' +
        '    echo \'{"os":"linux","arch":"amd64","download_url":"https://releases.hashicorp.com/terraform-provider-aws/6.25.0/terraform-provider-aws_6.25.0_linux_amd64.zip"}\' ;;\n' +
        "  *) exit 6 ;;\nesac\n",
      { mode: 0o755 },
    );
    const result = bash("platform_registry_probe registry.terraform.io linux_amd64", { PATH: `${bin}:${process.env.PATH}` });
    expect(result).toEqual({ status: 0, out: "registry.terraform.io and releases.hashicorp.com answered" });
  });
});

describe("platform_provider_source and the CLI configuration", () => {
  const source = (env: Record<string, string>, decided?: string) => {
    if (decided) fs.writeFileSync(path.join(work, "provider-source"), `${decided}\n`);
    else fs.rmSync(path.join(work, "provider-source"), { force: true });
    return bash('echo "$(platform_provider_source) ${TF_CLI_CONFIG_FILE:-<none>}"', env).out;
  };
  const mirror = () => `mirror ${work}/engine.tfrc`;

  it.each([
    ["auto, before setup-tools has decided", {}, undefined, "mirror"],
    ["auto, setup-tools chose the registry", {}, "registry", "registry <none>"],
    ["auto, setup-tools chose the build", {}, "mirror", "mirror"],
    ["PLATFORM_USE_REGISTRY=1 whatever was decided", { PLATFORM_USE_REGISTRY: "1" }, "mirror", "registry <none>"],
    ["PLATFORM_USE_REGISTRY=0 whatever was decided", { PLATFORM_USE_REGISTRY: "0" }, "registry", "mirror"],
  ])("%s", (_what, env: Record<string, string>, decided, expected) => {
    expect(source(env, decided)).toBe(expected === "mirror" ? mirror() : expected);
  });

  it("keeps a user's own CLI configuration when the registry is the source", () => {
    expect(source({ PLATFORM_USE_REGISTRY: "1", TF_CLI_CONFIG_FILE: "/home/me/.terraformrc" })).toBe("registry /home/me/.terraformrc");
  });
});

describe("setup-tools.sh", () => {
  it("refuses an unknown mode before installing anything", () => {
    const result = spawnSync("bash", ["scripts/setup-tools.sh"], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, PLATFORM_TOOLS_DIR: work, PLATFORM_USE_REGISTRY: "maybe" },
    });
    expect(`${result.stdout}${result.stderr}`).toContain("setup-tools: PLATFORM_USE_REGISTRY=maybe: use auto, 0 or 1");
    expect(result.status).toBe(2);
    expect(fs.readdirSync(work).filter((f) => f !== "stand-in-bin" && f !== "provider-source")).toEqual([]);
  });
});
