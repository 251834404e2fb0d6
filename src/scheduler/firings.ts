/** A job's next firings, as instants and as the job's local clock reads them (for --list and logs). */
import type { ScheduleSpec } from '../config/schedule-spec.js';
import { nextSlots, slotKey } from '../schedule/slots.js';

export interface Firing {
  at: number;
  /** ISO-8601 UTC, as the slot is recorded. */
  iso: string;
  /** The wall clock in the schedule's zone, e.g. "Sun 2026-11-22 21:00:00 CST". */
  local: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** `t` on the zone's clock: weekday, date, 24-hour time and the zone's abbreviation (CST, CDT, GMT+1). */
export function formatLocal(t: number, zone: string): string {
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'short',
    });
    formatters.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(t).map((part) => [part.type, part.value])) as Partial<Record<Intl.DateTimeFormatPartTypes, string>>;
  const hour = p.hour === '24' ? '00' : p.hour;
  return `${p.weekday} ${p.year}-${p.month}-${p.day} ${hour}:${p.minute}:${p.second} ${p.timeZoneName}`;
}

/** The next `n` firings strictly after `from`. */
export function upcomingFirings(schedule: ScheduleSpec, from: number, n: number): Firing[] {
  return nextSlots(schedule, from, n).map((at) => ({ at, iso: slotKey(at), local: formatLocal(at, schedule.timezone) }));
}

/** "1h", "90s", "1h30m": a duration in the units job files use. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  let left = ms;
  let out = '';
  for (const [unit, size] of units) {
    const n = Math.floor(left / size);
    if (n > 0) {
      out += `${n}${unit}`;
      left -= n * size;
    }
  }
  return out === '' ? `${ms}ms` : out;
}
