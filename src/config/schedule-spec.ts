/**
 * Job-file schemas for unattended runs: `schedule` (when a run starts), `window` (when recipients
 * may be texted) and `expires_after` (when unsent rows give up). Strict zod 4 schemas; every
 * message names the bad value. They are parts of the job spec in job-spec.ts.
 */
import { z } from 'zod';
import { cronProblem } from '../schedule/cron.js';
import { parseClockTime, weekdayNames } from '../schedule/window.js';
import type { Weekday } from '../schedule/window.js';
import { knownZone } from '../schedule/zone-time.js';

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;

/**
 * Milliseconds in a duration written as whole numbers with units, largest first: "90s", "15m",
 * "1h", "1h30m", "2d", "1d12h". Undefined for anything else. A bare number is refused on purpose:
 * `catch_up: 3600` could mean seconds or milliseconds, and guessing wrong is silent.
 */
export function parseDuration(text: string): number | undefined {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  if (m === null || text.trim() === '') return undefined;
  const [, d, h, min, s] = m;
  const ms =
    Number(d ?? 0) * UNIT_MS.d + Number(h ?? 0) * UNIT_MS.h + Number(min ?? 0) * UNIT_MS.m + Number(s ?? 0) * UNIT_MS.s;
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** A duration string ("90s", "15m", "1h30m", "2d") → milliseconds (≥ 0). */
export const durationSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  if (typeof value === 'number') {
    ctx.addIssue({
      code: 'custom',
      message: `${value} needs a unit: write it as e.g. ${value}s, ${value}m or ${value}h (units d, h, m, s)`,
    });
    return z.NEVER;
  }
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration such as 90s, 15m, 1h30m or 2d` });
    return z.NEVER;
  }
  return ms;
});

/** `expires_after`: a duration longer than zero. */
export const expiresAfterSchema = durationSchema.refine((ms) => ms > 0, { message: 'must be longer than 0s' });

/**
 * `dedupe`: how far back a new run of a job looks for numbers an earlier run already texted.
 * `window` is a duration ("30d", "12h") or `slot` (only runs since the job's latest cron slot); absent,
 * a job with a schedule uses `slot` (a nightly job texts the same people every night) and one without
 * uses 30 days.
 */
export const dedupeSchema = z.strictObject({
  window: z.union([z.string(), z.number()]).transform((value, ctx): number | 'slot' => {
    if (value === 'slot') return 'slot';
    const ms = typeof value === 'string' ? parseDuration(value) : undefined;
    if (ms === undefined || ms <= 0) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not "slot" or a duration longer than 0s such as 30d, 12h or 90m` });
      return z.NEVER;
    }
    return ms;
  }),
});

/** An IANA zone name Intl knows (kept as written; Intl matches names in any case). */
export const timeZoneSchema = z.string().transform((value, ctx) => {
  const zone = knownZone(value);
  if (zone === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a known IANA time zone such as America/Chicago` });
    return z.NEVER;
  }
  return zone;
});

const cronSchema = z.string().transform((value, ctx) => {
  const expression = value.trim().replace(/\s+/g, ' ');
  const problem = cronProblem(expression);
  if (problem !== undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a valid cron expression: ${problem}` });
    return z.NEVER;
  }
  return expression;
});

export const scheduleSchema = z.strictObject({
  /** croner syntax: 5 fields (minute first) or 6 (second first); @daily etc.; L and # allowed, "?" not. */
  cron: cronSchema,
  /** IANA zone the cron times are read in. Required: "21:00" means nothing without one. */
  timezone: timeZoneSchema,
  /** A slot missed while the scheduler was down still runs if it is at most this late. @default "1m" */
  catch_up: durationSchema.prefault('1m'),
});

const clockSchema = z.string().transform((value, ctx) => {
  const ms = parseClockTime(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a 24-hour time HH:MM such as 09:00 or 20:30` });
    return z.NEVER;
  }
  const minutes = ms / 60_000;
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
});

const weekdayOrder: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const dayShorthands: Readonly<Record<string, readonly Weekday[]>> = {
  everyday: weekdayOrder,
  weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'],
  weekends: ['sat', 'sun'],
};

function isWeekday(value: string): value is Weekday {
  return (weekdayNames as readonly string[]).includes(value);
}

/** A list of mon…sun (any case), or one of the shorthands everyday, weekdays, weekends. */
const daysSchema = z.union([z.string(), z.array(z.string())]).transform((value, ctx): Weekday[] => {
  if (typeof value === 'string') {
    const days = dayShorthands[value.toLowerCase()];
    if (days === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not everyday, weekdays, weekends or a list such as [mon, tue]` });
      return z.NEVER;
    }
    return [...days];
  }
  if (value.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'must name at least one day' });
    return z.NEVER;
  }
  const chosen = new Set<Weekday>();
  value.forEach((raw, i) => {
    const day = raw.toLowerCase();
    if (isWeekday(day)) chosen.add(day);
    else ctx.addIssue({ code: 'custom', path: [i], message: `"${raw}" is not a day: use mon, tue, wed, thu, fri, sat or sun` });
  });
  return weekdayOrder.filter((d) => chosen.has(d));
});

export const windowSchema = z
  .strictObject({
    /** First minute recipients may be texted, "HH:MM" in their zone (inclusive). */
    start: clockSchema,
    /** Minute texting stops, "HH:MM" (exclusive). Earlier than start: the window spans midnight; 00:00 is midnight. */
    end: clockSchema,
    /** Days the window opens on (for one spanning midnight, the day it starts). @default "everyday" */
    days: daysSchema.prefault('everyday'),
    /** Zone for every row, or the fallback for rows whose timezone_field is blank or unknown. */
    timezone: timeZoneSchema.optional(),
    /** Row field holding each recipient's IANA zone. */
    timezone_field: z.string().min(1, 'must not be empty').optional(),
  })
  .superRefine((window, ctx) => {
    if (window.start === window.end) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: `must differ from start (${window.start}); the window would be empty` });
    }
    if (window.timezone === undefined && window.timezone_field === undefined) {
      ctx.addIssue({ code: 'custom', path: ['timezone'], message: 'is required unless timezone_field names a per-row zone' });
    }
  });

export type ScheduleSpec = z.output<typeof scheduleSchema>;
export type WindowSpec = z.output<typeof windowSchema>;
