// Five-field cron expressions (minute hour day-of-month month day-of-week), as cronie and Auto Scaling
// scheduled actions read them: `*`, numbers, ranges, lists, steps, and month/day names.

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly CronField[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] },
  { name: "day of week", min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

function value(text: string, field: CronField): number | undefined {
  if (/^\d{1,2}$/.test(text)) {
    const n = Number(text);
    return n >= field.min && n <= field.max ? n : undefined;
  }
  const index = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (index < 0) return undefined;
  return field.name === "month" ? index + 1 : index;
}

function fieldProblem(text: string, field: CronField): string | undefined {
  for (const part of text.split(",")) {
    const [range, step, extra] = part.split("/");
    if (extra !== undefined || range === undefined || range === "") return `${field.name} "${text}" is malformed`;
    if (step !== undefined && !/^[1-9]\d{0,1}$/.test(step)) return `${field.name} step "${step}" is not a whole number from 1`;
    if (range === "*") continue;
    const [from, to, more] = range.split("-");
    if (more !== undefined || from === undefined) return `${field.name} range "${range}" is malformed`;
    const low = value(from, field);
    if (low === undefined) return `${field.name} "${from}" is outside ${field.min}-${field.max}`;
    if (to === undefined) {
      if (step !== undefined) return `${field.name} "${part}": a step needs * or a range`;
      continue;
    }
    const high = value(to, field);
    if (high === undefined) return `${field.name} "${to}" is outside ${field.min}-${field.max}`;
    if (high < low) return `${field.name} range "${range}" runs backwards`;
  }
  return undefined;
}

/** Why `expression` is not a five-field cron expression, or undefined when it is one. */
export function cronProblem(expression: string): string | undefined {
  const parts = expression.trim().split(/\s+/);
  if (expression.trim() === "" || parts.length !== 5) {
    return 'needs five fields: minute hour day-of-month month day-of-week (for example "*/15 * * * *")';
  }
  for (let i = 0; i < 5; i++) {
    const problem = fieldProblem(parts[i] ?? "", FIELDS[i] as CronField);
    if (problem) return problem;
  }
  return undefined;
}

/** A parsed five-field expression: the values each field allows. */
export interface CronSchedule {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly days: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0-6, Sunday 0 (7 is folded into 0). */
  readonly weekdays: ReadonlySet<number>;
  /** cronie's rule: when either day field starts with `*`, a day must match both; otherwise either. */
  readonly anyDay: boolean;
}

function fieldValues(text: string, field: CronField): number[] {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const [range = "", stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    let first: number;
    let last: number;
    if (range === "*") {
      [first, last] = [field.min, field.max];
    } else {
      const [from = "", to] = range.split("-");
      first = value(from, field) as number;
      last = to === undefined ? first : (value(to, field) as number);
    }
    for (let n = first; n <= last; n += step) values.add(field.name === "day of week" && n === 7 ? 0 : n);
  }
  return [...values].sort((a, b) => a - b);
}

/** The expression parsed; throws on an expression `cronProblem` rejects. */
export function parseCron(expression: string): CronSchedule {
  const problem = cronProblem(expression);
  if (problem) throw new Error(`cron "${expression}": ${problem}`);
  const parts = expression.trim().split(/\s+/);
  const [minutes, hours, days, months, weekdays] = parts.map((p, i) => fieldValues(p, FIELDS[i] as CronField));
  return {
    minutes: minutes ?? [],
    hours: hours ?? [],
    days: new Set(days),
    months: new Set(months),
    weekdays: new Set(weekdays),
    anyDay: (parts[2] ?? "").startsWith("*") || (parts[4] ?? "").startsWith("*"),
  };
}

const DAY = 86400;

function dayMatches(schedule: CronSchedule, dayStart: number): boolean {
  const date = new Date(dayStart * 1000);
  if (!schedule.months.has(date.getUTCMonth() + 1)) return false;
  const dom = schedule.days.has(date.getUTCDate());
  const dow = schedule.weekdays.has(date.getUTCDay());
  return schedule.anyDay ? dom && dow : dom || dow;
}

/** Seconds into a matching day at which the expression fires, ascending. */
function timesOfDay(schedule: CronSchedule): number[] {
  return schedule.hours.flatMap((h) => schedule.minutes.map((m) => h * 3600 + m * 60));
}

/** Firing times (epoch seconds, UTC) in (after, until], ascending: the slots of a timed job. */
export function cronFirings(expression: string, after: number, until: number): number[] {
  const schedule = parseCron(expression);
  const times = timesOfDay(schedule);
  const out: number[] = [];
  for (let day = Math.floor(after / DAY) * DAY; day <= until; day += DAY) {
    if (!dayMatches(schedule, day)) continue;
    for (const t of times) if (day + t > after && day + t <= until) out.push(day + t);
  }
  return out;
}

/** Years over which `cronPeriod` looks at an expression: long enough for leap days. */
export const CRON_HORIZON_YEARS = 8;

/**
 * The shortest time between two firings over the horizon (from 2024-01-01 UTC), in seconds, and whether the
 * expression fires at all in it (`0 0 30 2 *` never does; cronie accepts it silently).
 */
export function cronPeriod(expression: string): { fires: boolean; shortestSeconds?: number } {
  const schedule = parseCron(expression);
  const times = timesOfDay(schedule);
  const start = Date.UTC(2024, 0, 1) / 1000;
  const end = Date.UTC(2024 + CRON_HORIZON_YEARS, 0, 1) / 1000;
  let within = Infinity;
  for (let i = 1; i < times.length; i++) within = Math.min(within, (times[i] as number) - (times[i - 1] as number));
  let shortest = Infinity;
  let previousLast: number | undefined;
  let fires = false;
  for (let day = start; day < end; day += DAY) {
    if (!dayMatches(schedule, day)) continue;
    if (previousLast !== undefined) shortest = Math.min(shortest, day + (times[0] as number) - previousLast);
    if (times.length > 1) shortest = Math.min(shortest, within);
    fires = true;
    previousLast = day + (times[times.length - 1] as number);
  }
  return { fires, shortestSeconds: Number.isFinite(shortest) ? shortest : undefined };
}
