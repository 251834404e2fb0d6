/**
 * Send windows (quiet hours are everything outside them), judged by the recipient's clock.
 *
 * The window is open at an instant exactly when the clock in the recipient's zone reads a time in
 * [start, end) on one of `days`. When end is before start the window spans midnight (20:00–02:00)
 * and `days` names the day it opens on: Friday 20:00–02:00 includes Saturday 00:00–02:00. An end of
 * 00:00 means midnight. Because it is the clock reading that counts, daylight-saving changes fall
 * out directly: a 09:00 start opens at 09:00 new time; an end inside the skipped hour closes at the
 * jump; an hour that repeats is judged twice, so a 01:30 end on a fall-back night closes at 01:30,
 * reopens when clocks go back to 01:00, and closes again at the second 01:30.
 */
import { AppError } from '../shared/errors.js';
import { knownZone, offsetAt, splitWall, transitionBetween, weekdayOf, DAY_MS } from './zone-time.js';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** Weekday names indexed as Date#getUTCDay numbers them (0 = Sunday). */
export const weekdayNames: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export interface SendWindow {
  /** "HH:MM", 24-hour clock; inclusive. */
  start: string;
  /** "HH:MM", 24-hour clock; exclusive. Before `start`: the window spans midnight. */
  end: string;
  /** Days the window opens on. */
  days: readonly Weekday[];
  /** Zone for rows without a usable zone of their own. */
  timezone?: string | undefined;
  /** Row field holding each recipient's IANA zone. */
  timezone_field?: string | undefined;
}

export type WindowState = { open: true; closesAt: number } | { open: false; opensAt: number };

/** Milliseconds after midnight of an "H:MM" or "HH:MM" 24-hour time, or undefined if malformed. */
export function parseClockTime(text: string): number | undefined {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (m === null) return undefined;
  return (Number(m[1]) * 60 + Number(m[2])) * 60_000;
}

interface Rule {
  start: number;
  end: number;
  days: ReadonlySet<number>;
}

function ruleOf(window: SendWindow): Rule {
  const start = parseClockTime(window.start);
  const end = parseClockTime(window.end);
  if (start === undefined || end === undefined || start === end || window.days.length === 0) {
    throw new AppError('ERR_SCHEDULE_INVALID', `invalid send window ${window.start}–${window.end} on [${window.days.join(', ')}]`);
  }
  return { start, end, days: new Set(window.days.map((d) => weekdayNames.indexOf(d))) };
}

function isOpen(rule: Rule, wall: number): boolean {
  const { day, msOfDay } = splitWall(wall);
  const weekday = weekdayOf(day);
  if (rule.start < rule.end) return rule.days.has(weekday) && msOfDay >= rule.start && msOfDay < rule.end;
  return (msOfDay >= rule.start && rule.days.has(weekday)) || (msOfDay < rule.end && rule.days.has((weekday + 6) % 7));
}

/** The first start or end reading strictly after `wall`; the state can change only there (or at a clock change). */
function nextEdge(rule: Rule, wall: number): number {
  const { day } = splitWall(wall);
  const edges = [day, day + 1].flatMap((d) => [d * DAY_MS + rule.start, d * DAY_MS + rule.end]);
  return Math.min(...edges.filter((e) => e > wall));
}

/**
 * Whether the window is open at `now` for a recipient in `zone`, and the instant that changes
 * (closesAt exclusive: the first instant it is closed; opensAt: the first instant it is open).
 * Walks edge to edge, checking the zone's offset at each; a clock change between two edges is
 * found by bisection. (Two clock changes that cancel out within one day would go unseen; no zone
 * has them.)
 */
export function windowState(window: SendWindow, now: number, zone: string): WindowState {
  const rule = ruleOf(window);
  let t = now;
  let offset = offsetAt(zone, t);
  const open = isOpen(rule, t + offset);
  // At most 7 days of edges (two a day) plus a few clock changes before the state must change.
  for (let step = 0; step < 40; step++) {
    let next = nextEdge(rule, t + offset) - offset;
    if (offsetAt(zone, next) !== offset) next = transitionBetween(zone, t, next);
    t = next;
    offset = offsetAt(zone, t);
    if (isOpen(rule, t + offset) !== open) return open ? { open: true, closesAt: t } : { open: false, opensAt: t };
  }
  throw new AppError('ERR_INTERNAL', `send window ${window.start}–${window.end} in ${zone} never changes state`);
}

export type ZoneChoice =
  | { zone: string; from: 'row' }
  | { zone: string; from: 'window'; invalidRowZone?: string }
  | { zone: undefined; from: 'none'; invalidRowZone?: string };

/**
 * The zone to judge a row's window in: the row's own zone (the value of `timezone_field`) when
 * Intl knows it, else `window.timezone`. An unknown row zone is returned as `invalidRowZone` for
 * the caller to report; a blank one counts as absent. With neither, `zone` is undefined and the
 * row cannot be judged (the caller skips it rather than guess the recipient's hours).
 */
export function resolveZone(window: SendWindow, rowZone: string | undefined): ZoneChoice {
  const given = rowZone?.trim() ?? '';
  const fromRow = given === '' ? undefined : knownZone(given);
  if (fromRow !== undefined) return { zone: fromRow, from: 'row' };
  const invalid = given === '' ? {} : { invalidRowZone: given };
  const fallback = window.timezone === undefined ? undefined : knownZone(window.timezone);
  if (fallback !== undefined) return { zone: fallback, from: 'window', ...invalid };
  return { zone: undefined, from: 'none', ...invalid };
}
