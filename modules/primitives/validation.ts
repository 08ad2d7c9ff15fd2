// Problem reporting shared by the environment validator and the constructs.
// A check is a pure function that records problems against field paths; the environment validator
// runs every check before any construct exists, and each construct runs its own check again on its props.
import { Construct } from "constructs";

/** One thing wrong with the input: where it is, what it holds, and why that is wrong. */
export interface Problem {
  /** Dotted field path, for example `network.vpcCidr` or `network.availabilityZones[2]`. */
  readonly path: string;
  readonly value: unknown;
  readonly message: string;
}

/** Collects problems under a field-path prefix; `at()` returns a view that shares the same list. */
export class Problems {
  private constructor(
    private readonly prefix: string,
    private readonly sink: Problem[],
  ) {}

  static create(prefix = ""): Problems {
    return new Problems(prefix, []);
  }

  /** A view whose paths are nested under `field`. */
  at(field: string): Problems {
    return new Problems(join(this.prefix, field), this.sink);
  }

  add(field: string, value: unknown, message: string): void {
    this.sink.push({ path: join(this.prefix, field), value, message });
  }

  /** Records a problem unless `ok` holds; returns `ok` so checks can short-circuit. */
  check(ok: boolean, field: string, value: unknown, message: string): boolean {
    if (!ok) this.add(field, value, message);
    return ok;
  }

  get list(): readonly Problem[] {
    return this.sink;
  }
}

function join(prefix: string, field: string): string {
  if (!prefix) return field;
  if (!field) return prefix;
  return field.startsWith("[") ? `${prefix}${field}` : `${prefix}.${field}`;
}

/** `<where>: <path> = <value>: <message>`, one line. */
export function formatProblem(where: string, problem: Problem): string {
  return `${where}: ${problem.path} = ${formatValue(problem.value)}: ${problem.message}`;
}

export function formatValue(value: unknown): string {
  if (value === undefined) return "(unset)";
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text;
}

/** A pure check over some props, recording what is wrong. */
export type Check<P> = (props: P, problems: Problems) => void;

/** `what`, plus the nearest name of `known` when `value` looks like a typo of it. */
export function catalogueMessage(value: string, known: readonly string[], what: string): string {
  const near = closest(value, known);
  return near ? `${what}; did you mean ${near}?` : what;
}

/** Runs `check` on a construct's props and throws one line per problem, naming the construct path. */
export function assertValid<P>(scope: Construct, props: P, check: Check<P>): void {
  const problems = Problems.create();
  check(props, problems);
  if (problems.list.length > 0) {
    throw new Error(problems.list.map((p) => formatProblem(scope.node.path, p)).join("\n"));
  }
}

/** The known name a typo most likely meant: the same letters in another case, or the fewest edits away (at most a quarter of its length, and at least two). */
export function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameLetters = known.find((k) => k.toLowerCase() === lower);
  if (sameLetters) return sameLetters;
  let best: { key: string; distance: number } | undefined;
  for (const k of known) {
    const d = distance(lower, k.toLowerCase());
    if (d <= Math.max(2, Math.floor(key.length / 4)) && (!best || d < best.distance)) best = { key: k, distance: d };
  }
  return best?.key;
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}
