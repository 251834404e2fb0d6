import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeIssues } from '../../../src/config/job-spec.js';
import {
  durationSchema,
  expiresAfterSchema,
  parseDuration,
  scheduleSchema,
  timeZoneSchema,
  windowSchema,
} from '../../../src/config/schedule-spec.js';

/** The three keys as the job spec holds them, to see the messages an operator would get. */
const jobPart = z.strictObject({
  schedule: scheduleSchema.optional(),
  window: windowSchema.optional(),
  expires_after: expiresAfterSchema.optional(),
});
const problems = (doc: unknown): string => {
  const r = jobPart.safeParse(doc);
  return r.success ? '' : describeIssues(r.error);
};

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['1d12h', 129_600_000],
    ['0s', 0],
    [' 45m ', 2_700_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(durationSchema.parse(text)).toBe(ms);
  });

  it.each(['', '1.5h', '30m1h', '10', 'h', '5 m', '1w', '-5m', '1H'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
    expect(durationSchema.safeParse(text).success).toBe(false);
  });

  it('refuses a bare number, asking for a unit', () => {
    expect(problems({ expires_after: 3600 })).toBe('expires_after: 3600 needs a unit: write it as e.g. 3600s, 3600m or 3600h (units d, h, m, s)');
  });

  it('expires_after must be longer than zero', () => {
    expect(problems({ expires_after: '0m' })).toBe('expires_after: must be longer than 0s');
    expect(expiresAfterSchema.parse('12h')).toBe(43_200_000);
  });
});

describe('scheduleSchema', () => {
  it('parses the issue example with catch_up in ms', () => {
    expect(scheduleSchema.parse({ cron: '0 21 * * *', timezone: 'America/Chicago', catch_up: '1h' })).toEqual({
      cron: '0 21 * * *',
      timezone: 'America/Chicago',
      catch_up: 3_600_000,
    });
  });

  it('defaults catch_up to 1m and accepts 6-field and nickname patterns', () => {
    expect(scheduleSchema.parse({ cron: '*/30  *  * * * *', timezone: 'UTC' })).toEqual({ cron: '*/30 * * * * *', timezone: 'UTC', catch_up: 60_000 });
    expect(scheduleSchema.parse({ cron: '@daily', timezone: 'Asia/Kolkata' }).cron).toBe('@daily');
  });

  it('names a bad cron expression and says why', () => {
    expect(problems({ schedule: { cron: '0 25 * * *', timezone: 'UTC' } })).toBe(
      'schedule.cron: "0 25 * * *" is not a valid cron expression: CronPattern: Invalid value for hour: 25',
    );
    expect(problems({ schedule: { cron: '0 0 30 2 *', timezone: 'UTC' } })).toBe(
      'schedule.cron: "0 0 30 2 *" is not a valid cron expression: never matches any date',
    );
    expect(problems({ schedule: { cron: '0 9 ? * *', timezone: 'UTC' } })).toMatch(/must not use "\?"/);
  });

  it('requires a known IANA zone and refuses unknown keys', () => {
    expect(problems({ schedule: { cron: '0 21 * * *', timezone: 'Central' } })).toBe(
      'schedule.timezone: "Central" is not a known IANA time zone such as America/Chicago',
    );
    expect(problems({ schedule: { cron: '0 21 * * *' } })).toMatch(/^schedule\.timezone: /);
    expect(problems({ schedule: { cron: '0 21 * * *', timezone: 'UTC', catchup: '1h' } })).toBe('unknown key schedule.catchup');
    expect(timeZoneSchema.safeParse('+05:30').success).toBe(false);
  });
});

describe('windowSchema', () => {
  it('parses the issue example, normalising times and ordering days', () => {
    expect(
      windowSchema.parse({ start: '9:00', end: '20:30', days: ['sat', 'Mon', 'tue', 'mon'], timezone: 'America/New_York' }),
    ).toEqual({ start: '09:00', end: '20:30', days: ['mon', 'tue', 'sat'], timezone: 'America/New_York' });
  });

  it('days default to every day; shorthands everyday, weekdays, weekends', () => {
    const base = { start: '09:00', end: '17:00', timezone: 'UTC' };
    expect(windowSchema.parse(base).days).toEqual(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
    expect(windowSchema.parse({ ...base, days: 'weekdays' }).days).toEqual(['mon', 'tue', 'wed', 'thu', 'fri']);
    expect(windowSchema.parse({ ...base, days: 'weekends' }).days).toEqual(['sat', 'sun']);
    expect(windowSchema.parse({ ...base, days: 'Everyday' }).days).toHaveLength(7);
  });

  it('accepts a window over midnight and a per-row zone with or without fallback', () => {
    expect(windowSchema.parse({ start: '20:00', end: '02:00', timezone_field: 'tz' })).toMatchObject({ start: '20:00', end: '02:00', timezone_field: 'tz' });
    expect(windowSchema.parse({ start: '20:00', end: '02:00', timezone_field: 'tz', timezone: 'UTC' }).timezone).toBe('UTC');
  });

  it('names each problem', () => {
    expect(problems({ window: { start: '09:00', end: '09:00', timezone: 'UTC' } })).toBe(
      'window.end: must differ from start (09:00); the window would be empty',
    );
    expect(problems({ window: { start: '09:00', end: '17:00' } })).toBe('window.timezone: is required unless timezone_field names a per-row zone');
    expect(problems({ window: { start: '24:00', end: '9pm', timezone: 'UTC' } })).toBe(
      'window.start: "24:00" is not a 24-hour time HH:MM such as 09:00 or 20:30\nwindow.end: "9pm" is not a 24-hour time HH:MM such as 09:00 or 20:30',
    );
    expect(problems({ window: { start: '09:00', end: '17:00', timezone: 'UTC', days: ['mon', 'funday'] } })).toBe(
      'window.days.1: "funday" is not a day: use mon, tue, wed, thu, fri, sat or sun',
    );
    expect(problems({ window: { start: '09:00', end: '17:00', timezone: 'UTC', days: [] } })).toBe('window.days: must name at least one day');
    expect(problems({ window: { start: '09:00', end: '17:00', timezone: 'UTC', days: 'sometimes' } })).toMatch(/^window\.days: "sometimes" is not everyday/);
    expect(problems({ window: { start: '09:00', end: '17:00', timezone: 'UTC', quiet: true } })).toBe('unknown key window.quiet');
  });
});
