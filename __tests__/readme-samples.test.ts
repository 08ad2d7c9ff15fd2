// The samples of bad-input output in the documentation (docs/synth.md, linked from the README's "The two
// commands") are what the real validator prints for the configs they describe, so they cannot drift from the code.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bootstrap } from "../environments";
import { dev } from "../environments/dev";
import { prod } from "../environments/prod";
import { staging } from "../environments/staging";
import { run } from "../main";
import { environment } from "./support/fixtures";

const page = fs.readFileSync(path.join(__dirname, "..", "docs", "synth.md"), "utf8");

/** The first ```text block after the paragraph that starts with `lead`. */
function sampleAfter(lead: string): string {
  const at = page.indexOf(lead);
  expect(at).toBeGreaterThan(-1);
  const block = /```text\n([\s\S]*?)```/.exec(page.slice(at));
  return block?.[1] ?? "";
}

it("the bad-input sample is the validator's output for the configs docs/synth.md describes", () => {
  const environments = [
    environment({ network: { vpcCidr: "10.10.0.0/16", natGateways: "per_az" as "per-az" }, compute: { rootVolumeGib: 30 } as object }, dev),
    environment({ network: { vpcCidr: "10.30.0.0/16" } }, staging),
    environment({ network: { vpcCidr: "10.30.0.0/16", natGateways: "single" } }, prod),
  ];
  const lines: string[] = [];
  const outdir = path.join(os.tmpdir(), "readme-sample-never-written");
  expect(run({ environments, bootstrap: { ...bootstrap, ci: undefined }, outdir, log: (l) => lines.push(l) })).toBe(1);
  expect(fs.existsSync(outdir)).toBe(false);
  expect(sampleAfter("Bad input stops the run")).toBe(`${lines.join("\n")}\n`);
});

it("the sample of what is refused before apply is the validator's output for the configs docs/synth.md describes", () => {
  const night = dev.compute.scheduledActions?.[0];
  const environments = [
    environment({ database: { maxAllocatedStorageGib: 21 }, compute: { scheduledActions: [{ ...night!, timeZone: "US/Eastern" }] } }, dev),
    environment({ project: "shop-" }, staging),
    environment({ compute: { repository: { ...prod.compute.repository, ref: "refs/heads/main", allowBranchRef: true } } }, prod),
  ];
  const lines: string[] = [];
  const outdir = path.join(os.tmpdir(), "readme-sample-never-written");
  expect(run({ environments, bootstrap: { ...bootstrap, ci: undefined }, outdir, log: (l) => lines.push(l) })).toBe(1);
  expect(fs.existsSync(outdir)).toBe(false);
  expect(sampleAfter("For example, a project named `shop-`")).toBe(`${lines.join("\n")}\n`);
});
