import { CronExpressionParser } from 'cron-parser';
import { parseTimeSpan } from './host-config';

export interface Schedule {
  /** The first occurrence strictly after `after`. */
  next(after: Date): Date;
  /** The latest occurrence at or before `at`, if any within a year. */
  previous(at: Date): Date | undefined;
  readonly text: string;
}

/** Replaces a whole-value `%Name%` with the named app setting, as the Azure host resolves binding expressions. */
export function resolveSetting(value: string, settings: Record<string, string | undefined>): string {
  const match = /^%([^%]+)%$/.exec(value.trim());
  if (!match) return value;
  const resolved = settings[match[1]!] ?? process.env[match[1]!];
  if (resolved === undefined || resolved === '') throw new Error(`app setting "${match[1]}" is not set`);
  return resolved;
}

/**
 * NCRONTAB as the Azure timer trigger reads it: six fields
 * `{second} {minute} {hour} {day} {month} {day-of-week}`, evaluated in UTC. The TimeSpan form
 * (`hh:mm:ss`, App Service plans only) is accepted too: an interval counted from midnight UTC.
 */
export function parseSchedule(schedule: string, settings: Record<string, string | undefined> = {}): Schedule {
  const text = resolveSetting(schedule, settings).trim();
  if (/^\d+(\.\d+)?:\d+:\d+$|^\d+\.\d+:\d+:\d+/.test(text)) {
    const interval = parseTimeSpan(text);
    if (interval <= 0) throw new Error(`timer interval must be positive: ${text}`);
    return {
      text,
      next: (after) => new Date((Math.floor(after.getTime() / interval) + 1) * interval),
      previous: (at) => new Date(Math.floor(at.getTime() / interval) * interval),
    };
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 6) {
    throw new Error(`NCRONTAB needs six fields {second} {minute} {hour} {day} {month} {day-of-week}, got "${text}"`);
  }
  CronExpressionParser.parse(text, { tz: 'UTC' }); // throws on a bad expression
  return {
    text,
    next: (after) => CronExpressionParser.parse(text, { tz: 'UTC', currentDate: after }).next().toDate(),
    previous: (at) => {
      const expr = CronExpressionParser.parse(text, {
        tz: 'UTC',
        currentDate: new Date(at.getTime() + 1),
        startDate: new Date(at.getTime() - 366 * 24 * 3600 * 1000),
      });
      try {
        return expr.prev().toDate();
      } catch {
        return undefined;
      }
    },
  };
}
