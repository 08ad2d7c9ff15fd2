// The run-time check of the configuration's shape (environments/schema/schema.ts, a zod schema): zod's issues
// become the validator's problems, one line each, in the order of the keys (an object's unknown keys first):
// `unknown setting; did you mean ...?`, `must be one of ...`, `must be a string|number|boolean|list|object`,
// `required`.
import { z } from "zod";
import { closest, type Problems } from "../../modules/primitives/validation";

/** Records one problem per place where `value` does not fit `schema`. */
export function checkShape(value: unknown, schema: z.ZodType, problems: Problems): void {
  const result = schema.safeParse(value);
  if (result.success) return;
  for (const m of mismatches(result.error.issues, schema, value, [])) problems.add(pathText(m.path), m.value, m.message);
}

type Path = readonly PropertyKey[];

interface Mismatch {
  readonly path: Path;
  readonly value: unknown;
  readonly message: string;
}

function mismatches(issues: readonly z.core.$ZodIssue[], schema: z.ZodType, value: unknown, base: Path): Mismatch[] {
  const found: Mismatch[] = [];
  for (const issue of issues) {
    const at = [...base, ...issue.path];
    const here = valueAt(value, issue.path);
    if (issue.code !== "unrecognized_keys" && required(schema, issue.path, here)) {
      found.push({ path: at, value: here, message: "required" });
      continue;
    }
    switch (issue.code) {
      case "unrecognized_keys": {
        // zod lists an object's unknown keys after its fields' issues; they come first here, as the keys are read.
        const known = Object.keys(objectAt(schema, issue.path)?.shape ?? {});
        const unknown = issue.keys.map((key) => {
          const near = closest(key, known);
          return {
            path: [...at, key],
            value: (here as Record<string, unknown>)[key],
            message: `unknown setting${near ? `; did you mean ${near}?` : `; known: ${known.join(", ")}`}`,
          };
        });
        let first = found.length;
        while (first > 0 && startsWith(found[first - 1]!.path, at)) first--;
        found.splice(first, 0, ...unknown);
        break;
      }
      case "invalid_type":
        found.push({ path: at, value: here, message: `must be ${TYPE_NAMES[issue.expected] ?? `a ${issue.expected}`}` });
        break;
      case "invalid_value":
        found.push({ path: at, value: here, message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}` });
        break;
      case "invalid_union": {
        // The option the value comes closest to explains what is wrong.
        const options = unwrap(schemaAt(schema, issue.path)) as z.ZodUnion;
        let best: Mismatch[] | undefined;
        issue.errors.forEach((optionIssues, i) => {
          const option = mismatches(optionIssues, options.options[i] as z.ZodType, here, at);
          if (!best || option.length < best.length) best = option;
        });
        found.push(...(best ?? []));
        break;
      }
      default:
        found.push({ path: at, value: here, message: issue.message });
    }
  }
  return found;
}

const TYPE_NAMES: Readonly<Record<string, string>> = { array: "a list", object: "an object", record: "an object" };

/** Whether the issue is a missing field of an object (rather than an undefined list entry or map value). */
function required(schema: z.ZodType, path: Path, value: unknown): boolean {
  return value === undefined && path.length > 0 && objectAt(schema, path.slice(0, -1)) !== undefined;
}

function objectAt(schema: z.ZodType, path: Path): z.ZodObject | undefined {
  const found = unwrap(schemaAt(schema, path));
  return found instanceof z.ZodObject ? found : undefined;
}

/** The schema that checks the value at `path` (through objects, records, lists and optionals). */
function schemaAt(schema: z.ZodType | undefined, path: Path): z.ZodType | undefined {
  let at = schema;
  for (const key of path) {
    const s = unwrap(at);
    if (s instanceof z.ZodObject) at = s.shape[key as string] as z.ZodType | undefined;
    else if (s instanceof z.ZodRecord) at = s.valueType as z.ZodType;
    else if (s instanceof z.ZodArray) at = s.element as z.ZodType;
    else return undefined;
  }
  return at;
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  return schema instanceof z.ZodOptional ? unwrap(schema.unwrap() as z.ZodType) : schema;
}

function valueAt(value: unknown, path: Path): unknown {
  let at = value;
  for (const key of path) at = at === null || typeof at !== "object" ? undefined : (at as Record<PropertyKey, unknown>)[key];
  return at;
}

function startsWith(path: Path, prefix: Path): boolean {
  return prefix.every((key, i) => path[i] === key);
}

/** `network.availabilityZones[2]`. */
function pathText(path: Path): string {
  return path.reduce<string>(
    (text, key) => (typeof key === "number" ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)),
    "",
  );
}
