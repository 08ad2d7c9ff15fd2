import { parseDailyWindow, parseWeeklyWindow, windowMinutes, windowsOverlap, checkWindows } from "../modules/primitives/time-windows";
import { Problems } from "../modules/primitives/validation";

describe("time windows", () => {
  it("parses daily and weekly windows, wrapping past midnight and the end of the week", () => {
    expect(parseDailyWindow("02:00-03:00")).toEqual({ start: 120, end: 180, period: 1440 });
    expect(windowMinutes(parseDailyWindow("23:30-00:30")!)).toBe(60);
    expect(parseWeeklyWindow("sun:04:00-sun:05:00")).toEqual({ start: 240, end: 300, period: 10080 });
    expect(parseWeeklyWindow("Mon:00:00-Mon:03:00")).toEqual({ start: 1440, end: 1620, period: 10080 });
    expect(windowMinutes(parseWeeklyWindow("sat:23:00-sun:01:00")!)).toBe(120);
    for (const bad of ["24:00-01:00", "2:00-3:00", "02:00 - 03:00", "02:60-03:00"]) expect(parseDailyWindow(bad)).toBeUndefined();
    for (const bad of ["sun:24:00-mon:01:00", "sunday:01:00-sunday:02:00", "sun:01:00", "xyz:01:00-xyz:02:00"])
      expect(parseWeeklyWindow(bad)).toBeUndefined();
  });

  it("finds overlaps on any day, across midnight and across the end of the week", () => {
    const overlap = (daily: string, weekly: string) => windowsOverlap(parseDailyWindow(daily)!, parseWeeklyWindow(weekly)!);
    expect(overlap("02:00-03:00", "wed:02:30-wed:03:30")).toBe(true);
    expect(overlap("02:00-03:00", "wed:03:00-wed:04:00")).toBe(false);
    expect(overlap("23:30-00:30", "sun:00:00-sun:01:00")).toBe(true);
    expect(overlap("23:30-00:30", "sat:23:00-sat:23:30")).toBe(false);
    expect(overlap("01:00-02:00", "sat:23:00-sun:01:30")).toBe(true);
    expect(overlap("22:00-23:00", "sat:23:00-sun:01:30")).toBe(false);
  });

  it("reports format, minimum length and overlap against the field paths", () => {
    const problems = Problems.create("db");
    checkWindows(
      problems,
      { field: "backupWindow", value: "02:00-02:10" },
      { field: "maintenanceWindow", value: "sun:02:00-sun:02:10" },
      30,
    );
    expect(problems.list.map((p) => `${p.path}: ${p.message}`)).toEqual([
      "db.backupWindow: must last at least 30 minutes and at most 24 hours",
      "db.maintenanceWindow: must last at least 30 minutes and at most 24 hours",
      "db.maintenanceWindow: overlaps backupWindow 02:00-02:10; AWS requires the two windows not to overlap",
    ]);
  });
});
