/**
 * Cron patterns parsed by croner, matched against wall-clock readings.
 *
 * croner's own time-zone handling (`new Cron(p, { timezone }).nextRun(d)`) is not used: in croner
 * 9.1 its answer around daylight-saving changes depends on the starting instant. Measured on
 * 2026-11-01 America/Chicago, "30 1 * * *" from 07:00Z (01:00 CST) returns 06:30Z, an instant in the
 * past (a second firing); on 2026-03-08 from 08:00Z (03:00 CDT) it returns the next day, skipping
 * the shifted 02:30 slot; and it picks the second 01:30 in Europe/London but the first in Chicago.
 * So croner only answers "which wall-clock reading matches next", in a fixed UTC frame (a CronDate
 * with a numeric offset of 0, which is pure UTC arithmetic and ignores the host's TZ), and
 * zone-time.ts maps readings to instants.
 */
import { CronDate, CronPattern } from 'croner';
import type { CronOptions } from 'croner';
import { AppError } from '../shared/errors.js';

const patterns = new Map<string, CronPattern>();

/** Vixie semantics: when both day-of-month and day-of-week are restricted, either may match. */
const matchOptions: CronOptions = { legacyMode: true, interval: 0 };

/** The reason `expression` is not a usable cron pattern, or undefined when it is. */
export function cronProblem(expression: string): string | undefined {
  // croner replaces "?" with the current time's fields, which would make slots depend on when the
  // job file was read.
  if (expression.includes('?')) return 'must not use "?" (croner fills it with the time of parsing); use "*"';
  let pattern: CronPattern;
  try {
    pattern = new CronPattern(expression);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  // A pattern such as "0 0 30 2 *" parses but never matches; look across a leap cycle and more.
  if (nextWallMatch(pattern, Date.UTC(2000, 0, 1)) === undefined) return 'never matches any date';
  return undefined;
}

/** The parsed pattern; throws ERR_SCHEDULE_INVALID naming the expression when it is unusable. */
export function parseCron(expression: string): CronPattern {
  const cached = patterns.get(expression);
  if (cached !== undefined) return cached;
  const problem = cronProblem(expression);
  if (problem !== undefined) {
    throw new AppError('ERR_SCHEDULE_INVALID', `cron expression "${expression}" is invalid: ${problem}`, {
      details: { cron: expression },
    });
  }
  const pattern = new CronPattern(expression);
  patterns.set(expression, pattern);
  return pattern;
}

/**
 * The first wall-clock reading after `wall` (exclusive, both as fake-UTC epoch ms) that the
 * pattern matches, or undefined if none before the year 3000. Matches fall on whole seconds.
 */
export function nextWallMatch(pattern: CronPattern, wall: number): number | undefined {
  const next = new CronDate(new Date(wall), 0).increment(pattern, matchOptions, false);
  if (next === null) return undefined;
  const ms = next.getTime();
  // Callers loop on this; a result that does not advance would loop forever.
  if (!(ms > wall)) throw new AppError('ERR_INTERNAL', `cron match did not advance past ${new Date(wall).toISOString()}`);
  return ms;
}
