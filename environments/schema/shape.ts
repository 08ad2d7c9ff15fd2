// The run-time check of the configuration's shape: unknown keys, values outside a union and wrong types,
// which synth would otherwise never see (it transpiles without type-checking). The shapes themselves are
// generated from environments/schema/types.ts (config-shape.generated.ts), so they cannot drift from the types.
import { closest, type Problems } from "../../modules/primitives/validation";

/** The vocabulary of config-shape.generated.ts. */
export type Shape =
  | { readonly kind: "string" | "number" | "boolean" | "any" }
  | { readonly kind: "enum"; readonly values: readonly (string | number | boolean)[] }
  | { readonly kind: "array"; readonly element: Shape }
  | { readonly kind: "record"; readonly value: Shape }
  | { readonly kind: "object"; readonly fields: Readonly<Record<string, Field>> }
  | { readonly kind: "union"; readonly options: readonly Shape[] };

export interface Field {
  readonly optional: boolean;
  readonly shape: Shape;
}

/** Records one problem per place where `value` does not fit `shape`, under `field`. */
export function checkShape(value: unknown, shape: Shape, problems: Problems, field = ""): void {
  for (const [path, bad, message] of mismatches(value, shape, field)) problems.add(path, bad, message);
}

type Mismatch = readonly [path: string, value: unknown, message: string];

function mismatches(value: unknown, shape: Shape, field: string): Mismatch[] {
  switch (shape.kind) {
    case "any":
      return [];
    case "string":
    case "number":
    case "boolean":
      return typeof value === shape.kind ? [] : [[field, value, `must be a ${shape.kind}`]];
    case "enum":
      return shape.values.includes(value as string) ? [] : [[field, value, `must be one of ${shape.values.map((v) => JSON.stringify(v)).join(", ")}`]];
    case "array":
      if (!Array.isArray(value)) return [[field, value, "must be a list"]];
      return value.flatMap((element, i) => mismatches(element, shape.element, `${field}[${i}]`));
    case "record":
      if (!isPlainObject(value)) return [[field, value, "must be an object"]];
      return Object.entries(value).flatMap(([key, v]) => mismatches(v, shape.value, join(field, key)));
    case "object":
      return objectMismatches(value, shape.fields, field);
    case "union": {
      // The option the value comes closest to explains what is wrong; any exact fit is fine.
      let best: Mismatch[] | undefined;
      for (const option of shape.options) {
        const found = mismatches(value, option, field);
        if (found.length === 0) return [];
        if (!best || found.length < best.length) best = found;
      }
      return best ?? [];
    }
  }
}

function objectMismatches(value: unknown, fields: Readonly<Record<string, Field>>, field: string): Mismatch[] {
  if (!isPlainObject(value)) return [[field, value, "must be an object"]];
  const found: Mismatch[] = [];
  const known = Object.keys(fields);
  for (const [key, v] of Object.entries(value)) {
    if (key in fields) continue;
    const near = closest(key, known);
    found.push([join(field, key), v, `unknown setting${near ? `; did you mean ${near}?` : `; known: ${known.join(", ")}`}`]);
  }
  for (const [key, { optional, shape }] of Object.entries(fields)) {
    const v = value[key];
    if (v === undefined) {
      if (!optional) found.push([join(field, key), v, "required"]);
      continue;
    }
    found.push(...mismatches(v, shape, join(field, key)));
  }
  return found;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function join(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}
