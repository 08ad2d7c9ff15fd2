import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Annotations, App, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { printWarnings, run } from "../main";
import { ENVIRONMENTS } from "../environments";
import type { EnvironmentConfig } from "../environments/schema/types";
import { TEMPLATE_EXAMPLE_REFS } from "../modules/compute";
import { addWarning } from "../modules/primitives/warnings";
import { environment } from "./support/fixtures";

describe("run", () => {
  let outdir: string;
  let lines: string[];
  beforeEach(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), "cdktf.outdir.main-"));
    fs.rmSync(outdir, { recursive: true });
    lines = [];
  });
  afterEach(() => fs.rmSync(outdir, { recursive: true, force: true }));
  const log = (line: string) => lines.push(line);
  const withDev = (dev: EnvironmentConfig) => ENVIRONMENTS.map((e) => (e.name === "dev" ? dev : e));

  it("writes the bootstrap stack and every environment by default", () => {
    expect(run({ outdir, log })).toBe(0);
    expect(fs.readdirSync(path.join(outdir, "stacks")).sort()).toEqual(["bootstrap", ...ENVIRONMENTS.map((e) => e.name)].sort());
    expect(fs.existsSync(path.join(outdir, "stacks", "prod", "cdk.tf.json"))).toBe(true);
    expect(fs.readFileSync(path.join(outdir, "manifest.json"), "utf8")).not.toContain(process.cwd());
  });

  it("requires an engine whose S3 backend takes the state key's alias ARN (>= 1.11) in every stack", () => {
    expect(run({ outdir, log })).toBe(0);
    for (const stack of fs.readdirSync(path.join(outdir, "stacks"))) {
      const json = JSON.parse(fs.readFileSync(path.join(outdir, "stacks", stack, "cdk.tf.json"), "utf8"));
      expect([stack, json.terraform.required_version]).toEqual([stack, ">= 1.11"]);
    }
  });

  it("writes only the selected environments", () => {
    expect(run({ spec: "prod", outdir, log })).toBe(0);
    expect(fs.readdirSync(path.join(outdir, "stacks")).sort()).toEqual(["bootstrap", "prod"]);
  });

  it("removes stack folders and configuration files it did not write, and keeps the engine's working files", () => {
    expect(run({ outdir, log })).toBe(0);
    const stacks = path.join(outdir, "stacks");
    fs.writeFileSync(path.join(stacks, "prod", "cdk.tf"), "# an HCL twin of cdk.tf.json");
    fs.mkdirSync(path.join(stacks, "prod", ".terraform"));
    fs.writeFileSync(path.join(stacks, "prod", ".terraform.lock.hcl"), "");
    fs.writeFileSync(path.join(stacks, "prod", "tfplan"), "");
    lines = [];
    expect(run({ spec: "prod", outdir, log })).toBe(0);
    expect(fs.readdirSync(stacks).sort()).toEqual(["bootstrap", "prod"]);
    expect(fs.readdirSync(path.join(stacks, "prod")).sort()).toEqual([".terraform", ".terraform.lock.hcl", "cdk.tf.json", "tfplan"]);
    expect(lines).toEqual(
      expect.arrayContaining([
        "removed stacks/dev: not written by this synth",
        "removed stacks/staging: not written by this synth",
        "removed stacks/prod/cdk.tf: not written by this synth",
      ]),
    );
  });

  it.each(["true", "1"])(
    "refuses HCL output (SYNTH_HCL_OUTPUT=%s, as cdktf synth --hcl sets it) with the reason, writing nothing",
    (value) => {
      expect(run({ hclOutput: value, outdir, log })).toBe(2);
      expect(lines).toEqual([expect.stringMatching(/^HCL output \(cdktf synth --hcl\) is refused: cdktf 0\.21 writes invalid HCL/)]);
      expect(fs.existsSync(outdir)).toBe(false);
      expect(run({ hclOutput: "false", outdir, log })).toBe(0);
    },
  );

  it("prints construct warnings", () => {
    const dev = { ...environment({ network: { natGateways: "single" } }), acknowledgements: {} };
    run({ spec: "dev", environments: withDev(dev), outdir, log });
    expect(lines).toContainEqual(expect.stringMatching(/^warning: dev\/network: natGateways is "single"/));
  });

  it("counts acknowledged warnings instead of printing them, and names an acknowledgement that matches nothing", () => {
    const reason = "one NAT gateway is enough here";
    const dev = {
      ...environment({ network: { natGateways: "single" } }),
      acknowledgements: { "network.natGateways": reason, "compute.nothing": reason },
    };
    expect(run({ spec: "dev", environments: withDev(dev), outdir, log })).toBe(0);
    expect(lines.filter((l) => l.startsWith("warning:") || l.includes("acknowledged"))).toEqual([
      'warning: dev: acknowledgements["compute.nothing"] matches no warning; remove it',
      "1 acknowledged warning(s) not shown (acknowledgements in environments/<env>.ts)",
    ]);
  });

  it("matches an acknowledgement on the warning's id, not on its text", () => {
    const app = new App({ stackTraces: false });
    const network = new Construct(new TerraformStack(app, "dev"), "network");
    addWarning(network, { id: "natGateways", message: "One NAT gateway serves both zones" });
    Annotations.of(network).addWarning("natGateways looks like an id but carries none");
    const dev = { ...environment(), acknowledgements: { "network.natGateways": "one NAT gateway is enough here" } };
    printWarnings(app, [dev], log);
    expect(lines).toEqual([
      "warning: dev/network: natGateways looks like an id but carries none",
      "1 acknowledged warning(s) not shown (acknowledgements in environments/<env>.ts)",
    ]);
  });

  it.each(TEMPLATE_EXAMPLE_REFS.map((ref) => [ref]))(
    "warns while an environment runs the template's example ref %s, which no repository has",
    (ref) => {
      const pinned = (r: string) => environment({ compute: { repository: { ref: r, allowBranchRef: false } } });
      const warned = () => lines.filter((l) => l.includes("compute.repository.ref"));
      expect(run({ spec: "dev", environments: withDev(pinned(ref)), outdir, log })).toBe(0);
      expect(warned()).toEqual([
        expect.stringMatching(
          new RegExp(
            `^warning: dev/preflight: compute\\.repository\\.ref is "${ref.replace(/\./g, "\\.")}", the template's example, which no repository has: every instance would fail to fetch the app; .* \\(README: "Making it yours"\\)$`,
          ),
        ),
      ]);
      lines = [];
      expect(run({ spec: "dev", environments: withDev(pinned("refs/tags/v0.1.0")), outdir, log })).toBe(0);
      expect(warned()).toEqual([]);
    },
  );

  it("refuses an acknowledgement without a reason", () => {
    const dev = { ...environment(), acknowledgements: { "network.natGateways": " " } };
    expect(run({ spec: "dev", environments: withDev(dev), outdir, log })).toBe(1);
    expect(lines).toContainEqual(
      '  dev: acknowledgements["network.natGateways"] = " ": an acknowledgement needs a written reason of at least 10 characters',
    );
  });

  it("ends with one line per stack: its resources and data sources, counted from what was written, and where", () => {
    expect(run({ spec: "prod", outdir, log })).toBe(0);
    const summary = lines.filter((l) => l.startsWith("synth: "));
    expect(summary).toHaveLength(2);
    expect(lines.slice(-2)).toEqual(summary);
    for (const [i, stack] of ["bootstrap", "prod"].entries()) {
      const file = path.join(outdir, "stacks", stack, "cdk.tf.json");
      const json = JSON.parse(fs.readFileSync(file, "utf8")) as { resource: Record<string, object>; data?: Record<string, object> };
      const count = (blocks?: Record<string, object>) => Object.values(blocks ?? {}).flatMap((b) => Object.keys(b)).length;
      expect(summary[i]).toMatch(
        new RegExp(`^synth: ${stack} +${count(json.resource)} resources, +${count(json.data)} data sources -> ${file}$`),
      );
    }
  });

  it("fails on an unknown environment, listing the known ones, and writes nothing", () => {
    expect(run({ spec: "nowhere", outdir, log })).toBe(2);
    expect(lines).toEqual([`ENVIRONMENTS names unknown environment(s) "nowhere"; known: ${ENVIRONMENTS.map((e) => e.name).join(", ")}`]);
    expect(fs.existsSync(outdir)).toBe(false);
  });

  it("reports an entry of the environment list that is no environment (a copied file's old export) and writes nothing", () => {
    expect(run({ environments: [...ENVIRONMENTS, undefined as never], outdir, log })).toBe(1);
    expect(lines).toEqual([
      "Configuration has 1 problem(s); nothing was synthesized:",
      `  environments: ENVIRONMENTS[${ENVIRONMENTS.length}] = (unset): not an environment: does environments/index.ts import a constant its file does not export?`,
    ]);
    expect(fs.existsSync(outdir)).toBe(false);
  });

  it("reports every problem in every environment and writes nothing", () => {
    const broken = ENVIRONMENTS.map((e) => environment({ accountId: "nope", logRetentionDays: 2 }, e));
    expect(run({ environments: broken, outdir, log })).toBe(1);
    expect(lines[0]).toBe(`Configuration has ${2 * ENVIRONMENTS.length} problem(s); nothing was synthesized:`);
    expect(lines).toContainEqual('  prod: accountId = "nope": must be 12 digits');
    expect(lines).toContainEqual(
      "  staging: logRetentionDays = 2: CloudWatch Logs accepts only 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 days",
    );
    expect(fs.existsSync(outdir)).toBe(false);
  });
});
