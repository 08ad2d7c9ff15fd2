// Entry point: pick the environments (ENVIRONMENTS=dev,prod; all by default), validate them all,
// and only then build and synthesize. On bad input nothing is written to the output folder.
import { AnnotationMetadataEntryType, App, TerraformStack } from "cdktf";
import * as fs from "node:fs";
import * as path from "node:path";
import { BOOTSTRAPS, ENVIRONMENT_FILES, ENVIRONMENTS, selectEnvironments } from "./environments";
import type { BootstrapConfig, EnvironmentConfig } from "./environments/schema/types";
import { validateBootstrap, validateBootstrapLayout, validateEnvironmentList, validateEnvironments } from "./environments/schema/validate";
import { buildBootstrap } from "./modules/stacks/bootstrap-stack";
import { buildEnvironment } from "./modules/stacks/environment-stack";
import { hclRefusal, pruneOutput } from "./modules/cli/synth-output";
import { warningId } from "./modules/primitives/warnings";

export interface RunOptions {
  /** Names to synthesize, comma- or space-separated; empty means all. */
  readonly spec?: string;
  readonly environments?: readonly EnvironmentConfig[];
  /** One bootstrap stack (shorthand for `bootstraps: [bootstrap]`). */
  readonly bootstrap?: BootstrapConfig;
  /** The bootstrap stacks, one per account. @default BOOTSTRAPS */
  readonly bootstraps?: readonly BootstrapConfig[];
  /** @default CDKTF_OUTDIR or cdktf.out */
  readonly outdir?: string;
  /** Print construct warnings (the cdktf CLI prints them itself). @default true */
  readonly printWarnings?: boolean;
  /** `SYNTH_HCL_OUTPUT`, which `cdktf synth --hcl` sets for the app; HCL output is refused. @default none */
  readonly hclOutput?: string;
  /** End with one line per stack: its resources and where it was written. @default printWarnings */
  readonly printSummary?: boolean;
  readonly log?: (line: string) => void;
}

/** Validates, builds and synthesizes; returns the process exit code. */
export function run(options: RunOptions = {}): number {
  const log = options.log ?? ((line: string) => console.error(line));
  const known = options.environments ?? ENVIRONMENTS;
  const bootstraps = options.bootstraps ?? (options.bootstrap ? [options.bootstrap] : BOOTSTRAPS);
  const refusal = hclRefusal(options.hclOutput);
  if (refusal) {
    log(refusal);
    return 2;
  }
  const files = options.environments ? {} : ENVIRONMENT_FILES;
  const report = (problems: readonly string[]): number => {
    log(`Configuration has ${problems.length} problem(s); nothing was synthesized:`);
    for (const line of problems) log(`  ${line}`);
    return 1;
  };
  // Selection reads every entry's name: an entry that is no environment is reported first.
  const listed = validateEnvironmentList(known, files);
  if (listed.length > 0) return report(listed);
  let selected: EnvironmentConfig[];
  try {
    selected = selectEnvironments(options.spec, known);
  } catch (error) {
    log((error as Error).message);
    return 2;
  }
  const problems = [
    ...bootstraps.flatMap((b) => validateBootstrap(b, known)),
    ...validateBootstrapLayout(bootstraps, known),
    ...validateEnvironments(selected, known, files),
  ];
  if (problems.length > 0) return report(problems);
  // Stack traces in metadata would write this machine's paths into the output.
  const app = new App({ stackTraces: false, ...(options.outdir ? { outdir: options.outdir } : {}) });
  for (const bootstrap of bootstraps) buildBootstrap(app, bootstrap, known);
  for (const config of selected) buildEnvironment(app, config, known);
  app.synth();
  // Stacks of earlier runs (other environments, a stray cdk.tf) would otherwise be validated, scanned or applied.
  const written = app.node.children.filter((child) => TerraformStack.isStack(child)).map((stack) => stack.node.id);
  for (const stale of pruneOutput(app.outdir, written)) log(`removed ${stale}: not written by this synth`);
  if (options.printWarnings ?? true) printWarnings(app, selected, log);
  if (options.printSummary ?? options.printWarnings ?? true) {
    for (const stack of written) log(stackSummary(app.outdir, stack));
  }
  return 0;
}

/**
 * Prints each construct warning, except those the environment acknowledges with a reason (keyed
 * `<construct path in the stack>.<the warning's id>`, for example `network.natGateways`; see
 * modules/primitives/warnings.ts), which are counted; an acknowledgement that matches no warning is reported
 * so it does not go stale.
 */
export function printWarnings(app: App, selected: readonly EnvironmentConfig[], log: (line: string) => void): void {
  const used = new Set<string>();
  let acknowledged = 0;
  for (const construct of app.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== AnnotationMetadataEntryType.WARN) continue;
      const message = String(entry.data);
      const [stack, ...inStack] = construct.node.path.split("/");
      const id = warningId(construct, message);
      const field = id === undefined ? undefined : [...inStack, id].join(".");
      if (field !== undefined && selected.find((c) => c.name === stack)?.acknowledgements?.[field] !== undefined) {
        used.add(`${stack}:${field}`);
        acknowledged++;
        continue;
      }
      log(`warning: ${construct.node.path}: ${message}`);
    }
  }
  for (const config of selected) {
    for (const field of Object.keys(config.acknowledgements ?? {})) {
      if (!used.has(`${config.name}:${field}`)) log(`warning: ${config.name}: acknowledgements["${field}"] matches no warning; remove it`);
    }
  }
  if (acknowledged > 0) log(`${acknowledged} acknowledged warning(s) not shown (acknowledgements in environments/<env>.ts)`);
}

/** `synth: <stack> <n> resources, <m> data sources -> <file>`, read back from what was written. */
function stackSummary(outdir: string, stack: string): string {
  const file = path.join(outdir, "stacks", stack, "cdk.tf.json");
  const json = JSON.parse(fs.readFileSync(file, "utf8")) as { resource?: Record<string, object>; data?: Record<string, object> };
  const count = (blocks: Record<string, object> | undefined) =>
    Object.values(blocks ?? {}).reduce((n, byName) => n + Object.keys(byName).length, 0);
  const where = path.relative(process.cwd(), file) || file;
  return `synth: ${stack.padEnd(10)} ${String(count(json.resource)).padStart(4)} resources, ${String(count(json.data)).padStart(2)} data sources -> ${where.startsWith("..") ? file : where}`;
}

if (require.main === module) {
  process.exitCode = run({
    spec: process.env.ENVIRONMENTS,
    printWarnings: !process.env.CDKTF_OUTDIR,
    hclOutput: process.env.SYNTH_HCL_OUTPUT,
  });
}
