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
    return "needs five fields: minute hour day-of-month month day-of-week (for example \"*/15 * * * *\")";
  }
  for (let i = 0; i < 5; i++) {
    const problem = fieldProblem(parts[i] ?? "", FIELDS[i] as CronField);
    if (problem) return problem;
  }
  return undefined;
}
