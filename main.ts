// Entry point: pick the environments (ENVIRONMENTS=dev,prod; all by default), validate them all,
// and only then build and synthesize. On bad input nothing is written to the output folder.
import { AnnotationMetadataEntryType, App, TerraformStack } from "cdktf";
import { BOOTSTRAPS, ENVIRONMENT_FILES, ENVIRONMENTS, selectEnvironments } from "./environments";
import type { BootstrapConfig, EnvironmentConfig } from "./environments/types";
import { validateBootstrap, validateBootstrapLayout, validateEnvironmentList, validateEnvironments } from "./environments/validate";
import { buildBootstrap, buildEnvironment } from "./modules/environment-stack";
import { hclRefusal, pruneOutput } from "./modules/synth-output";

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
  for (const config of selected) buildEnvironment(app, config);
  app.synth();
  // Stacks of earlier runs (other environments, a stray cdk.tf) would otherwise be validated, scanned or applied.
  const written = app.node.children.filter((child) => TerraformStack.isStack(child)).map((stack) => stack.node.id);
  for (const stale of pruneOutput(app.outdir, written)) log(`removed ${stale}: not written by this synth`);
  if (options.printWarnings ?? true) {
    for (const construct of app.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type === AnnotationMetadataEntryType.WARN) log(`warning: ${construct.node.path}: ${String(entry.data)}`);
      }
    }
  }
  return 0;
}

if (require.main === module) {
  process.exitCode = run({
    spec: process.env.ENVIRONMENTS,
    printWarnings: !process.env.CDKTF_OUTDIR,
    hclOutput: process.env.SYNTH_HCL_OUTPUT,
  });
}
