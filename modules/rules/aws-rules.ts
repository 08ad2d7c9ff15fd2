// Reads the pinned rule tables of modules/rules/aws-rules.generated.ts: AWS's length and pattern rules for a value,
// the database classes and cache node types a region and engine offer, and the IANA time zones. Pure
// functions; the checks that use them live with the settings they check.
import {
  CACHE_NODE_TYPE_LISTS,
  CACHE_NODE_TYPES_BY_REGION,
  RDS_CLASS_LISTS,
  RDS_CLASSES_BY_REGION,
  RDS_CLASSES_BY_VERSION,
  TIME_ZONE_LINKS,
  TIME_ZONES,
  type ValueRule,
} from "./aws-rules.generated";

export type { ValueRule } from "./aws-rules.generated";

const compiled = new Map<string, RegExp>();

/**
 * A rule's pattern as a JavaScript expression that must match the whole value. AWS states patterns in Java
 * syntax and checks the whole value against them; the constructs the tables use (`\p{L}`, `\uXXXX`, classes,
 * lookaheads) read the same with the `u` flag.
 */
export function rulePattern(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`, "u");
    compiled.set(pattern, re);
  }
  return re;
}

/** What `value` breaks of `rules` (its length bounds, then its pattern), naming the rule's source; undefined if nothing. */
export function valueRuleProblem(value: string, rules: readonly ValueRule[]): string | undefined {
  // Lengths in characters (code points), as AWS counts them.
  const length = [...value].length;
  for (const rule of rules) {
    if (rule.max !== undefined && length > rule.max)
      return `longer than the ${rule.max} characters AWS allows (${rule.source}; this one has ${length})`;
    if (rule.min !== undefined && length < rule.min) return `shorter than the ${rule.min} characters AWS requires (${rule.source})`;
    if (rule.pattern !== undefined && !rulePattern(rule.pattern).test(value))
      return `does not match AWS's pattern ${rule.pattern} (${rule.source})`;
  }
  return undefined;
}

const decoded = new Map<string, ReadonlySet<string>>();

/** `db.m5:large,xlarge db.t3:micro` -> {db.m5.large, db.m5.xlarge, db.t3.micro}. */
export function unpack(text: string): ReadonlySet<string> {
  let set = decoded.get(text);
  if (!set) {
    set = new Set(
      text
        .split(" ")
        .filter(Boolean)
        .flatMap((group) => {
          const [family, sizes = ""] = group.split(":");
          return sizes.split(",").map((size) => `${family}.${size}`);
        }),
    );
    decoded.set(text, set);
  }
  return set;
}

/** Every RDS class the tables name anywhere (the classes they know at all). */
let rdsKnown: ReadonlySet<string> | undefined;
function knownRdsClasses(): ReadonlySet<string> {
  rdsKnown ??= new Set(RDS_CLASS_LISTS.flatMap((text) => [...unpack(text)]));
  return rdsKnown;
}

/** The RDS classes `engine` is offered with in `region`, or undefined where the table does not know the region or engine. */
export function rdsClassesIn(region: string, engine: string): ReadonlySet<string> | undefined {
  const index = RDS_CLASSES_BY_REGION[region]?.[engine];
  return index === undefined ? undefined : unpack(RDS_CLASS_LISTS[index] ?? "");
}

/**
 * The RDS classes some engine offers at a version with prefix `major` (`16`, `8.0`): a superset of what one
 * engine offers (the source keys versions across engines), or undefined where the table has no such version.
 */
export function rdsClassesAtVersion(major: string): ReadonlySet<string> | undefined {
  const index = RDS_CLASSES_BY_VERSION[major];
  return index === undefined ? undefined : unpack(RDS_CLASS_LISTS[index] ?? "");
}

/** Whether the tables name `instanceClass` at all (a class newer than them is left to the plan). */
export function isKnownRdsClass(instanceClass: string): boolean {
  return knownRdsClasses().has(instanceClass);
}

/** The ElastiCache node types offered in `region`, or undefined where the table does not know the region. */
export function cacheNodeTypesIn(region: string): ReadonlySet<string> | undefined {
  const index = CACHE_NODE_TYPES_BY_REGION[region];
  return index === undefined ? undefined : unpack(CACHE_NODE_TYPE_LISTS[index] ?? "");
}

let cacheKnown: ReadonlySet<string> | undefined;
/** Whether the tables name `nodeType` in any region. */
export function isKnownCacheNodeType(nodeType: string): boolean {
  cacheKnown ??= new Set(CACHE_NODE_TYPE_LISTS.flatMap((text) => [...unpack(text)]));
  return cacheKnown.has(nodeType);
}

const ZONE_SET = new Set(TIME_ZONES);
/** The IANA areas whose names are places: a link there (Europe/Kiev, Asia/Calcutta) is an older spelling of a place. */
const GEOGRAPHIC = /^(Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia|Europe|Indian|Pacific)\//;

/**
 * What is wrong with `timeZone` as a scheduled action's time zone, or undefined. Auto Scaling takes the
 * canonical IANA names as Joda-Time knows them
 * (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutScheduledUpdateGroupAction.html):
 * accepted are the IANA zones, the places' older spellings (links within a geographic area), and `UTC`
 * (Joda-Time's own id for it, and this module's default); refused are names the database lacks and the
 * legacy aliases (`US/Eastern`, `GMT`, `EST5EDT`, `Etc/Universal`), each with the zone to write instead.
 */
export function timeZoneProblem(timeZone: string): string | undefined {
  if (timeZone === "UTC" || ZONE_SET.has(timeZone)) return undefined;
  const target = TIME_ZONE_LINKS[timeZone];
  if (target !== undefined) {
    return GEOGRAPHIC.test(timeZone) ? undefined : `a legacy alias in the IANA time zone database; write the zone it names, ${target}`;
  }
  const lower = timeZone.toLowerCase();
  const sameLetters = TIME_ZONES.find((zone) => zone.toLowerCase() === lower);
  const hint = sameLetters ?? TIME_ZONES.find((zone) => zone.toLowerCase().endsWith(`/${lower.split("/").pop() ?? ""}`));
  return `not an IANA time zone (modules/rules/aws-rules.generated.ts, tzdata)${hint ? `; did you mean ${hint}?` : " (for example Europe/London)"}`;
}
