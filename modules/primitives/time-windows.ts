// Weekly maintenance windows (`ddd:hh24:mi-ddd:hh24:mi`) and daily backup windows (`hh24:mi-hh24:mi`),
// in UTC, as RDS and ElastiCache take them: parsing, minimum length and overlap, shared by the data modules.
import { Problems } from "./validation";

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const MINUTES_PER_DAY = 24 * 60;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

/** A window as minutes since the start of its period, `end` may wrap past the period's end. */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
  /** Length of the period the window repeats in: a day or a week, in minutes. */
  readonly period: number;
}

const CLOCK = "([01]\\d|2[0-3]):([0-5]\\d)";
const DAILY = new RegExp(`^${CLOCK}-${CLOCK}$`);
const WEEKLY = new RegExp(`^(${DAYS.join("|")}):${CLOCK}-(${DAYS.join("|")}):${CLOCK}$`);

function span(start: number, end: number, period: number): TimeWindow {
  return { start, end: end <= start ? end + period : end, period };
}

/** `hh24:mi-hh24:mi` (UTC), or undefined when malformed. */
export function parseDailyWindow(text: string): TimeWindow | undefined {
  const m = DAILY.exec(text);
  if (!m) return undefined;
  const [, h1, m1, h2, m2] = m.map(Number);
  return span(h1! * 60 + m1!, h2! * 60 + m2!, MINUTES_PER_DAY);
}

/** `ddd:hh24:mi-ddd:hh24:mi` (UTC, day names in any case), or undefined when malformed. */
export function parseWeeklyWindow(text: string): TimeWindow | undefined {
  const m = WEEKLY.exec(text.toLowerCase());
  if (!m) return undefined;
  const day = (name: string | undefined) => DAYS.indexOf(name as (typeof DAYS)[number]) * MINUTES_PER_DAY;
  const start = day(m[1]) + Number(m[2]) * 60 + Number(m[3]);
  const end = day(m[4]) + Number(m[5]) * 60 + Number(m[6]);
  return span(start, end, MINUTES_PER_WEEK);
}

export function windowMinutes(window: TimeWindow): number {
  return window.end - window.start;
}

/** Whether a daily window and a weekly window share any minute in any week. */
export function windowsOverlap(daily: TimeWindow, weekly: TimeWindow): boolean {
  // Every occurrence of each window in one week, plus the previous week's, so windows that wrap past
  // Saturday midnight (or midnight) are compared too.
  const occurrences = (w: TimeWindow) =>
    Array.from({ length: MINUTES_PER_WEEK / w.period }, (_, i) => i * w.period).flatMap((offset) =>
      [0, -MINUTES_PER_WEEK].map((week) => ({ start: w.start + offset + week, end: w.end + offset + week })),
    );
  const weekly2 = occurrences(weekly);
  return occurrences(daily).some((x) => weekly2.some((y) => x.start < y.end && y.start < x.end));
}

/**
 * Checks a daily backup/snapshot window and a weekly maintenance window: format, a minimum length each
 * (`minimumMinutes`; a daily window also shorter than a day) and that they do not overlap.
 */
export function checkWindows(
  problems: Problems,
  daily: { readonly field: string; readonly value: string },
  weekly: { readonly field: string; readonly value: string },
  minimumMinutes: number,
): void {
  const d = parseDailyWindow(daily.value);
  const w = parseWeeklyWindow(weekly.value);
  problems.check(d !== undefined, daily.field, daily.value, "not a daily window hh24:mi-hh24:mi (UTC), for example 02:00-03:00");
  problems.check(
    w !== undefined,
    weekly.field,
    weekly.value,
    "not a weekly window ddd:hh24:mi-ddd:hh24:mi (UTC), for example sun:04:00-sun:05:00",
  );
  if (d) {
    problems.check(
      windowMinutes(d) >= minimumMinutes && windowMinutes(d) <= 24 * 60,
      daily.field,
      daily.value,
      `must last at least ${minimumMinutes} minutes and at most 24 hours`,
    );
  }
  if (w) {
    problems.check(
      windowMinutes(w) >= minimumMinutes && windowMinutes(w) <= MINUTES_PER_DAY,
      weekly.field,
      weekly.value,
      `must last at least ${minimumMinutes} minutes and at most 24 hours`,
    );
  }
  if (d && w) {
    problems.check(
      !windowsOverlap(d, w),
      weekly.field,
      weekly.value,
      `overlaps ${daily.field} ${daily.value}; AWS requires the two windows not to overlap`,
    );
  }
}
