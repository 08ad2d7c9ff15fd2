// Environment configs for tests: the real ones, and a way to change a few fields of one.
import { dev } from "../../environments/dev";
import type { EnvironmentConfig } from "../../environments/schema/types";

type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

function merge<T>(base: T, patch: DeepPartial<T> | undefined): T {
  if (patch === undefined) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    const current = out[key];
    out[key] =
      value && typeof value === "object" && !Array.isArray(value) && current && typeof current === "object" && !Array.isArray(current)
        ? merge(current, value as DeepPartial<typeof current>)
        : value;
  }
  return out as T;
}

/** `base` (dev by default) with `patch` deep-merged in; arrays are replaced whole. */
export function environment(patch?: DeepPartial<EnvironmentConfig>, base: EnvironmentConfig = dev): EnvironmentConfig {
  return merge(base, patch);
}
