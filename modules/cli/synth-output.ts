// The output folder as the engine reads it: after a synth, `stacks/` holds exactly the stacks this run wrote,
// and each stack folder holds no engine configuration file but `cdk.tf.json`. The engine's own working files
// (`.terraform/`, the lock file, saved plans) stay. Creates nothing.
import * as fs from "node:fs";
import * as path from "node:path";

/** The only configuration file synth writes in a stack folder. */
export const STACK_FILE = "cdk.tf.json";

/** Files the engine loads as configuration from a working directory (Terraform and OpenTofu). */
const CONFIGURATION = /\.(tf|tf\.json|tofu|tofu\.json)$/;

/**
 * Removes stack folders of `outdir/stacks` not in `written` and stray configuration files (for example a
 * `cdk.tf` from `cdktf synth --hcl`) inside those that are. Returns what it removed, relative to `outdir`.
 */
export function pruneOutput(outdir: string, written: readonly string[]): string[] {
  const stacks = path.join(outdir, "stacks");
  if (!fs.existsSync(stacks)) return [];
  const removed: string[] = [];
  for (const entry of fs.readdirSync(stacks, { withFileTypes: true })) {
    const where = path.join(stacks, entry.name);
    if (!written.includes(entry.name)) {
      fs.rmSync(where, { recursive: true, force: true });
      removed.push(path.join("stacks", entry.name));
      continue;
    }
    if (!entry.isDirectory()) continue;
    for (const file of fs.readdirSync(where)) {
      if (file === STACK_FILE || !CONFIGURATION.test(file)) continue;
      fs.rmSync(path.join(where, file), { recursive: true, force: true });
      removed.push(path.join("stacks", entry.name, file));
    }
  }
  return removed;
}

/** Why synth refuses HCL output, or undefined when `SYNTH_HCL_OUTPUT` (set by `cdktf synth --hcl`) is off. */
export function hclRefusal(value: string | undefined): string | undefined {
  if (value !== "true" && value !== "1") return undefined;
  return (
    "HCL output (cdktf synth --hcl) is refused: cdktf 0.21 writes invalid HCL for these stacks (the dashboard's JSON " +
    "body unquoted), and a cdk.tf beside cdk.tf.json breaks terraform init; synthesize JSON (npm run synth or cdktf synth)"
  );
}
