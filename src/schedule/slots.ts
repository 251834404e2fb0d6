/**
 * Cron slots: the instants a schedule fires, in epoch milliseconds.
 *
 * A slot is a wall-clock reading in the schedule's zone that matches the cron pattern, turned into
 * an instant by `instantAt`: across daylight-saving changes every reading fires once. A reading in
 * the hour that clocks skip (02:30 on a spring-forward night) fires at the jump (03:00 new time);
 * a reading that occurs twice (01:30 on a fall-back night) fires at its first occurrence only.
 * Readings that land on the same instant (02:00 and 03:00 at a spring-forward jump) fire once.
 */
import { nextWallMatch, parseCron } from './cron.js';
import { instantAt, wallTime } from './zone-time.js';

export interface SlotSchedule {
  /** croner pattern, 5 fields or 6 with seconds first. */
  cron: string;
  /** IANA zone the pattern's readings are in. */
  timezone: string;
}

/** A slot's identity (for the ledger and logs): its instant as an ISO-8601 UTC string. */
export function slotKey(slot: number): string {
  return new Date(slot).toISOString();
}

/** Slots strictly after `from`, in order, without end (until the year 3000). */
export function* slotsAfter(schedule: SlotSchedule, from: number): Generator<number, void, undefined> {
  const pattern = parseCron(schedule.cron);
  const zone = schedule.timezone;
  // The reading at `from` maps back to `from` or earlier (the first of a repeated reading), and
  // the mapping never decreases, so no reading up to it can give a slot after `from`.
  let wall: number | undefined = wallTime(zone, from);
  let last = from;
  for (;;) {
    wall = nextWallMatch(pattern, wall);
    if (wall === undefined) return;
    const slot = instantAt(zone, wall);
    // slot <= last: a repeated reading whose first occurrence was at or before `from`, or a
    // reading that lands on an instant already yielded (the spring-forward jump).
    if (slot > last) {
      last = slot;
      yield slot;
    }
  }
}

/** The next `n` slots strictly after `from`. */
export function nextSlots(schedule: SlotSchedule, from: number, n: number): number[] {
  return slotsBetween(schedule, from, Number.POSITIVE_INFINITY, n);
}

/**
 * Every slot in (fromExclusive, toInclusive], oldest first. The work is proportional to the slots
 * in the range; `limit` caps the answer at its first `limit` slots (a result of exactly `limit`
 * slots may be cut short).
 */
export function slotsBetween(
  schedule: SlotSchedule,
  fromExclusive: number,
  toInclusive: number,
  limit = Number.POSITIVE_INFINITY,
): number[] {
  const out: number[] = [];
  if (toInclusive <= fromExclusive || limit <= 0) return out;
  for (const slot of slotsAfter(schedule, fromExclusive)) {
    if (slot > toInclusive) break;
    out.push(slot);
    if (out.length >= limit) break;
  }
  return out;
}

/**
 * The latest `n` (at least 1) slots in (fromExclusive, toInclusive], oldest first, and whether older
 * ones in the range were left out. Searches back from `toInclusive` over a doubling span, so a long
 * downtime with a frequent pattern costs about as much as the slots returned, not every slot missed.
 */
export function latestSlots(
  schedule: SlotSchedule,
  fromExclusive: number,
  toInclusive: number,
  n: number,
): { slots: number[]; more: boolean } {
  const want = Math.max(1, Math.floor(n));
  for (let span = 60_000; ; span *= 2) {
    const lo = Math.max(fromExclusive, toInclusive - span);
    const found = slotsBetween(schedule, lo, toInclusive);
    if (found.length < want && lo > fromExclusive) continue;
    const slots = found.slice(-want);
    const oldest = slots[0];
    let more = found.length > want;
    if (!more && oldest !== undefined && lo > fromExclusive) {
      const first = nextSlots(schedule, fromExclusive, 1)[0];
      more = first !== undefined && first < oldest;
    }
    return { slots, more };
  }
}

export interface MissedSlots {
  /** The latest slot due, when it is at most `catchUpMs` old: run it now. */
  run?: number;
  /** Older due slots (and the latest, when too old), oldest first: record them as missed. */
  missed: number[];
  /** True when more slots were missed than `maxMissed`; `missed` then holds the latest ones. */
  moreMissed: boolean;
}

/**
 * What to do with the slots that fell due in (lastCheckedAt, now]. The scheduler calls this on
 * every tick, so it covers the on-time case (one slot just passed) and downtime alike: only the
 * latest due slot may run, and only if it is at most `catchUpMs` late (inclusive); every other due
 * slot is missed. Slots never run twice because the caller advances `lastCheckedAt` to `now`.
 * `maxMissed` (at least 1) @default 1000
 */
export function decideMissedSlots(
  schedule: SlotSchedule & { catch_up?: number },
  lastCheckedAt: number,
  now: number,
  catchUpMs: number = schedule.catch_up ?? 0,
  options: { maxMissed?: number } = {},
): MissedSlots {
  const maxMissed = Math.max(1, Math.floor(options.maxMissed ?? 1000));
  if (now <= lastCheckedAt) return { missed: [], moreMissed: false };
  const { slots, more } = latestSlots(schedule, lastCheckedAt, now, maxMissed + 1);
  const latest = slots.at(-1);
  if (latest !== undefined && now - latest <= catchUpMs) {
    return { run: latest, missed: slots.slice(0, -1), moreMissed: more };
  }
  return { missed: slots.slice(-maxMissed), moreMissed: more || slots.length > maxMissed };
}
