// The known environments and how a run picks among them.
import { bootstrap, BOOTSTRAPS } from "./bootstrap";
import { dev } from "./dev";
import { prod } from "./prod";
import { staging } from "./staging";
import type { EnvironmentConfig } from "./schema/types";

export { bootstrap, BOOTSTRAPS };
export type { BootstrapConfig, EnvironmentConfig } from "./schema/types";

/**
 * Every environment's file and the environment it exports, in promotion order. The validator names these
 * files in its messages (an entry that is not an environment is a copied file still exporting its old name).
 */
export const ENVIRONMENT_FILES: Readonly<Record<string, EnvironmentConfig>> = {
  "environments/dev.ts": dev,
  "environments/staging.ts": staging,
  "environments/prod.ts": prod,
};

/** Every environment, in promotion order. */
export const ENVIRONMENTS: readonly EnvironmentConfig[] = Object.values(ENVIRONMENT_FILES);

/**
 * The environments named in `spec` (comma- or space-separated, for example `staging,prod`), or all of
 * them when `spec` is empty. Throws on an unknown name, listing the known ones.
 */
export function selectEnvironments(spec: string | undefined, known: readonly EnvironmentConfig[] = ENVIRONMENTS): EnvironmentConfig[] {
  const names = (spec ?? "").split(/[\s,]+/).filter(Boolean);
  if (names.length === 0) return [...known];
  const unknown = names.filter((n) => !known.some((e) => e.name === n));
  if (unknown.length > 0) {
    throw new Error(
      `ENVIRONMENTS names unknown environment(s) ${unknown.map((n) => JSON.stringify(n)).join(", ")}; known: ${known.map((e) => e.name).join(", ")}`,
    );
  }
  return known.filter((e) => names.includes(e.name));
}
