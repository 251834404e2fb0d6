/**
 * Wall-clock arithmetic in an IANA time zone, built on Intl only (the tz database ships with
 * Node's ICU, so there is no second copy to go stale).
 *
 * A "wall" time is the reading of a clock in the zone, written as epoch milliseconds as if that
 * reading were UTC: `wallTime(zone, t) = t + offset(t)`. Day, weekday and minute arithmetic on wall
 * times is then plain UTC arithmetic, with no daylight-saving cases.
 */
import { AppError } from '../shared/errors.js';

export const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * Names Intl has accepted: building a formatter costs tens of microseconds, and the send path asks
 * for every message of a windowed run. Only valid names are kept, so the set stays as small as the
 * tz database however many bad values a source holds.
 */
const valid = new Set<string>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (f === undefined) {
    if (knownZone(zone) === undefined) {
      throw new AppError('ERR_SCHEDULE_INVALID', `unknown time zone "${zone}"`, { details: { timezone: zone } });
    }
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/**
 * `name` when Intl knows it as a time zone (any case, as Intl accepts), else undefined. The name
 * is kept as written: Intl's own canonical form would turn Asia/Kolkata into Asia/Calcutta.
 * Offsets such as "+05:30" are not zones.
 */
export function knownZone(name: string): string | undefined {
  if (valid.has(name)) return name;
  if (name.trim() === '' || name !== name.trim()) return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
  } catch {
    return undefined;
  }
  valid.add(name);
  return name;
}


/** Milliseconds to add to a UTC instant to get the zone's wall-clock reading at that instant. */
export function offsetAt(zone: string, t: number): number {
  const second = Math.floor(t / 1000) * 1000;
  const parts = formatterFor(zone).formatToParts(second);
  const field = (type: Intl.DateTimeFormatPartTypes): number => {
    const part = parts.find((p) => p.type === type);
    return part === undefined ? 0 : Number(part.value);
  };
  // Some ICU versions print midnight as 24 even with h23; treat it as 0 of the same day.
  const hour = field('hour') % 24;
  const wall = Date.UTC(field('year'), field('month') - 1, field('day'), hour, field('minute'), field('second'));
  return wall - second;
}

/** The zone's wall-clock reading at instant `t`, as fake-UTC epoch milliseconds. */
export function wallTime(zone: string, t: number): number {
  return t + offsetAt(zone, t);
}

/**
 * The first instant in (after, until] whose offset differs from the offset at `after`, found by
 * bisection to the millisecond. Call it only when the offsets at `after` and `until` differ.
 */
export function transitionBetween(zone: string, after: number, until: number): number {
  const before = offsetAt(zone, after);
  let lo = after;
  let hi = until;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (offsetAt(zone, mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The instant at which the zone's clock shows `wall`.
 * - A reading that occurs twice (clocks go back) resolves to the first occurrence.
 * - A reading that never occurs (clocks go forward) resolves to the moment the clocks jump, the
 *   first instant after the gap, as Vixie cron runs jobs whose time was skipped.
 * Both rules keep the mapping non-decreasing: later readings never map to earlier instants.
 */
export function instantAt(zone: string, wall: number): number {
  // The offsets in force a day either side cover any one transition near `wall`.
  const early = offsetAt(zone, wall - DAY_MS);
  const late = offsetAt(zone, wall + DAY_MS);
  const candidates = [wall - early, wall - late].filter((t) => offsetAt(zone, t) === wall - t);
  if (candidates.length > 0) return Math.min(...candidates);
  // In a gap: the clock reads less than `wall` at (wall - late) and more at (wall - early).
  return transitionBetween(zone, Math.min(wall - early, wall - late), Math.max(wall - early, wall - late));
}

/** Days since 1970-01-01 of a wall time, and milliseconds into that day. */
export function splitWall(wall: number): { day: number; msOfDay: number } {
  const day = Math.floor(wall / DAY_MS);
  return { day, msOfDay: wall - day * DAY_MS };
}

/** 0 = Sunday … 6 = Saturday, for a day number from splitWall (1970-01-01 was a Thursday). */
export function weekdayOf(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

