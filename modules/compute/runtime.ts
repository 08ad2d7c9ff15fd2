// The app's language runtime: the Amazon Linux 2023 packages an environment asks the boot to install, and the
// check that the build, start and cron commands find the commands they run.
import type { Problems } from "../primitives/validation";

/** The Amazon Linux 2023 runtimes a preset names: the packages it installs and the commands it provides. */
export const RUNTIME_PRESETS = {
  nodejs20: { packages: ["nodejs20", "nodejs20-npm"], commands: ["node", "npm", "npx"] },
  nodejs22: { packages: ["nodejs22", "nodejs22-npm"], commands: ["node", "npm", "npx"] },
  nodejs24: { packages: ["nodejs24", "nodejs24-npm"], commands: ["node", "npm", "npx"] },
} as const satisfies Readonly<Record<string, { readonly packages: readonly string[]; readonly commands: readonly string[] }>>;

export type RuntimePreset = keyof typeof RUNTIME_PRESETS;

/**
 * What the app needs from the OS beyond what the boot installs for itself (git, jq, the EFS client, the
 * Redis CLI, cron, logrotate, the CloudWatch agent, the AWS CLI): Amazon Linux 2023 ships no language
 * runtime. Installed in the boot's own package step, in the same `dnf install`.
 */
export interface RuntimeSettings {
  /** A named runtime; `nodejs22` installs `nodejs22 nodejs22-npm` (node, npm and npx on PATH). @default none */
  readonly preset?: RuntimePreset;
  /** More Amazon Linux 2023 packages (for example `ImageMagick`), by their dnf names. @default [] */
  readonly packages?: readonly string[];
}

/** The packages a runtime setting installs, preset first, without repeats. */
export function runtimePackages(runtime: RuntimeSettings | undefined): string[] {
  const preset = runtime?.preset !== undefined && runtime.preset in RUNTIME_PRESETS ? RUNTIME_PRESETS[runtime.preset].packages : [];
  return [...new Set([...preset, ...(runtime?.packages ?? [])])];
}

/** What the runtime check reads besides the runtime: the commands that may need it. */
export interface RuntimeContext {
  readonly runtime?: RuntimeSettings;
  readonly buildCommands: readonly string[];
  readonly startCommand: string;
  readonly cronJobs: readonly { readonly command: string }[];
}

// dnf package names: no option (a leading '-'), no spaces, no version globs.
const PACKAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;
const RUNTIME_COMMANDS = [...new Set(Object.values(RUNTIME_PRESETS).flatMap((p) => p.commands))];

/** One line per problem: a preset or package name that is none, or a command the runtime does not provide. */
export function checkRuntime(props: RuntimeContext, problems: Problems): void {
  const runtime = props.runtime;
  const presets = Object.keys(RUNTIME_PRESETS);
  if (runtime?.preset !== undefined) {
    problems.check(
      presets.includes(runtime.preset),
      "runtime.preset",
      runtime.preset,
      `not a runtime this platform offers: one of ${presets.join(", ")}`,
    );
  }
  const packages = runtime?.packages ?? [];
  packages.forEach((name, i) => {
    problems.check(
      PACKAGE_NAME.test(name),
      `runtime.packages[${i}]`,
      name,
      "not an Amazon Linux 2023 package name (letters, digits, . _ + -, not starting with -)",
    );
  });
  // A command that runs node or npm needs a runtime that provides it: Amazon Linux 2023 ships none.
  const provided = new Set<string>(
    runtime?.preset !== undefined && runtime.preset in RUNTIME_PRESETS ? RUNTIME_PRESETS[runtime.preset].commands : [],
  );
  if (packages.some((name) => /^nodejs/.test(name))) RUNTIME_COMMANDS.forEach((c) => provided.add(c));
  const commands = [...props.buildCommands, props.startCommand, ...props.cronJobs.map((j) => j.command)];
  const missing = RUNTIME_COMMANDS.filter(
    (c) => !provided.has(c) && commands.some((command) => new RegExp(`(^|[\\s;&|(])${c}(\\s|$)`).test(command)),
  );
  problems.check(
    missing.length === 0,
    "runtime",
    runtime,
    `the build, start or cron commands run ${missing.join(", ")}, which Amazon Linux 2023 does not ship; set runtime.preset (${presets.join(", ")})`,
  );
}
