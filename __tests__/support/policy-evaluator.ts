// A small IAM policy evaluator for tests: enough of AWS's evaluation logic to ask "may this role do that?"
// of the policy documents this project synthesizes. A stand-in for IAM, thin on purpose:
// - an explicit Deny wins, then an Allow, otherwise the request is implicitly denied;
// - Action/NotAction and Resource/NotResource with `*` and `?` wildcards (actions case-insensitively);
// - condition operators StringEquals, StringNotEquals, StringLike, StringNotLike, ArnLike, ArnNotLike, Bool
//   and Null, each optionally with ForAnyValue:/ForAllValues:; several keys or operators in a block are ANDed,
//   several values of one key are ORed (negated operators: none may match);
// - a permissions boundary or a second policy set intersects: `allowedBy(request, identity, boundary)`.
// A key missing from the request context makes a positive operator false and a negated one true, as in IAM.
// Principals are not evaluated (trust policies are asked with the claims as context keys).
import type { Json } from "./synth";

export interface Request {
  readonly action: string;
  /** The resource ARN; `*` for actions that take no resource. */
  readonly resource: string;
  /** Condition keys and their values, for example `{ "aws:ResourceTag/Environment": "prod" }`. */
  readonly context?: Readonly<Record<string, string | readonly string[] | undefined>>;
}

export type Decision = "allow" | "deny" | "implicit-deny";

const asList = (value: unknown): string[] => (value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)]);

/** IAM wildcard match: `*` any run of characters, `?` one character. */
export function wildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`, ignoreCase ? "is" : "s").test(value);
}

function matchesOne(op: string, pattern: string, value: string): boolean {
  switch (op) {
    case "StringEquals":
    case "Bool":
      return pattern === value;
    case "StringLike":
    case "ArnLike":
      return wildcard(pattern, value);
    default:
      throw new Error(`policy evaluator: unsupported condition operator ${op}`);
  }
}

const NEGATED: Record<string, string> = { StringNotEquals: "StringEquals", StringNotLike: "StringLike", ArnNotLike: "ArnLike" };

function conditionHolds(rawOp: string, key: string, patterns: string[], context: Request["context"]): boolean {
  const [qualifier, op] = rawOp.includes(":") ? (rawOp.split(":") as [string, string]) : [undefined, rawOp];
  const present = context?.[key] !== undefined;
  const values = asList(context?.[key]);
  if (op === "Null") return patterns.some((p) => (p === "true") === !present);
  const positive = NEGATED[op] ?? op;
  const negated = positive !== op;
  const matches = (value: string) => patterns.some((p) => matchesOne(positive, p, value));
  let result: boolean;
  if (qualifier === "ForAllValues") {
    result = negated ? values.every((v) => !matches(v)) : values.every(matches);
  } else if (qualifier === "ForAnyValue") {
    result = negated ? values.some((v) => !matches(v)) : values.some(matches);
  } else if (qualifier === undefined) {
    if (!present) return negated;
    if (values.length !== 1) throw new Error(`policy evaluator: ${key} is multi-valued; use ForAnyValue/ForAllValues`);
    result = negated ? !matches(values[0]!) : matches(values[0]!);
  } else {
    throw new Error(`policy evaluator: unsupported qualifier ${qualifier}`);
  }
  return result;
}

function statementApplies(statement: Json, request: Request): boolean {
  const action = request.action;
  if (statement.Action !== undefined && !asList(statement.Action).some((p) => wildcard(p, action, true))) return false;
  if (statement.NotAction !== undefined && asList(statement.NotAction).some((p) => wildcard(p, action, true))) return false;
  if (statement.Resource !== undefined && !asList(statement.Resource).some((p) => wildcard(p, request.resource))) return false;
  if (statement.NotResource !== undefined && asList(statement.NotResource).some((p) => wildcard(p, request.resource))) return false;
  for (const [op, block] of Object.entries((statement.Condition ?? {}) as Record<string, Record<string, unknown>>)) {
    for (const [key, patterns] of Object.entries(block)) {
      if (!conditionHolds(op, key, asList(patterns), request.context)) return false;
    }
  }
  return true;
}

/** The decision of one set of policy documents (all attached to the same principal) on a request. */
export function evaluate(documents: readonly Json[], request: Request): Decision {
  const statements = documents.flatMap((d) => (Array.isArray(d.Statement) ? d.Statement : [d.Statement]) as Json[]);
  const applicable = statements.filter((s) => statementApplies(s, request));
  if (applicable.some((s) => s.Effect === "Deny")) return "deny";
  if (applicable.some((s) => s.Effect === "Allow")) return "allow";
  return "implicit-deny";
}

/** True when every given set of documents (identity policies, then any boundary) allows the request. */
export function allowedBy(request: Request, ...policySets: readonly (readonly Json[])[]): boolean {
  return policySets.every((set) => evaluate(set, request) === "allow");
}
