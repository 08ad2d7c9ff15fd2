// Values CloudWatch Logs accepts, shared by every module that creates a log group.
import { Problems } from "./validation";

/** Retention periods (days) that CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export function checkLogRetention(problems: Problems, field: string, days: number): void {
  problems.check(LOG_RETENTION_DAYS.includes(days), field, days, `CloudWatch Logs accepts only ${LOG_RETENTION_DAYS.join(", ")} days`);
}
