import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAdmission } from '../../../src/campaign/admission.js';
import { parseJobSpec } from '../../../src/config/job-spec.js';
import type { PendingMessage } from '../../../src/dispatch/ports.js';

const base = {
  name: 'j',
  source: { path: 'r.csv' },
  sender: { mode: 'long_code', from: '+18445550001' },
  message: { text: 'hi' },
};
const spec = (extra: Record<string, unknown>) => parseJobSpec({ ...base, ...extra }, path.join('/jobs', 'j.yaml'));
const msg = (over: Partial<PendingMessage> = {}): PendingMessage => ({
  row: 1, to: '+14155550101', sender: '+18445550001', text: 'hi', subject: null, parts: 1, attempts: 0, tz: null, ...over,
});
// Monday 2026-11-23 12:00 UTC = 07:00 in New York, 04:00 in Los Angeles.
const MON_NOON_UTC = Date.UTC(2026, 10, 23, 12, 0);

describe('createAdmission', () => {
  it('is absent when the job has no window, deadline or opt-out list', () => {
    expect(createAdmission(spec({}), 0, { wait: true })).toBeUndefined();
  });

  it('defers a recipient outside the window in their own zone until it opens there', () => {
    const a = createAdmission(spec({ window: { start: '09:00', end: '20:00', timezone_field: 'tz', timezone: 'America/New_York' } }), 0, { wait: true })!;
    const ny = a.decide(msg({ tz: 'America/New_York' }), MON_NOON_UTC);
    expect(ny).toMatchObject({ action: 'defer', until: Date.UTC(2026, 10, 23, 14, 0) });
    const la = a.decide(msg({ tz: 'America/Los_Angeles' }), MON_NOON_UTC);
    expect(la).toMatchObject({ action: 'defer', until: Date.UTC(2026, 10, 23, 17, 0) });
    expect(a.decide(msg({ tz: 'Europe/Berlin' }), MON_NOON_UTC)).toEqual({ action: 'send' });
    // No row zone: the window's own zone.
    expect(a.decide(msg(), MON_NOON_UTC)).toMatchObject({ action: 'defer', until: Date.UTC(2026, 10, 23, 14, 0) });
  });

  it('expires every row once expires_after has passed, and defers only until the deadline', () => {
    const started = MON_NOON_UTC - 3_600_000;
    const a = createAdmission(spec({ expires_after: '90m', window: { start: '09:00', end: '20:00', timezone: 'America/New_York' } }), started, { wait: true })!;
    expect(a.deadline).toBe(started + 90 * 60_000);
    expect(a.decide(msg(), MON_NOON_UTC)).toMatchObject({ action: 'defer', until: started + 90 * 60_000 });
    expect(a.decide(msg(), started + 90 * 60_000)).toMatchObject({ action: 'expire' });
  });

  it('expiry wins over an open window; a window opening after the deadline defers only until the deadline', () => {
    // Run began Tuesday 2026-06-09 02:00Z (Monday 22:00 EDT); rows expire 12 h later, 14:00Z (10:00 EDT).
    const started = Date.parse('2026-06-09T02:00:00Z');
    const deadline = Date.parse('2026-06-09T14:00:00Z');
    const window = { start: '09:00', end: '20:30', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat'], timezone_field: 'tz', timezone: 'America/New_York' };
    const a = createAdmission(spec({ expires_after: '12h', window }), started, { wait: true })!;
    const ny = msg({ tz: 'America/New_York' });
    expect(a.decide(ny, started)).toMatchObject({ action: 'defer', until: Date.parse('2026-06-09T13:00:00Z') }); // 09:00 EDT
    expect(a.decide(ny, Date.parse('2026-06-09T13:00:00Z'))).toEqual({ action: 'send' });
    expect(a.decide(ny, deadline)).toMatchObject({ action: 'expire' });
    const la = msg({ tz: 'America/Los_Angeles' }); // Monday 21:00 PDT; opens 16:00Z, after the deadline
    expect(a.decide(la, Date.parse('2026-06-09T04:00:00Z'))).toMatchObject({ action: 'defer', until: deadline });
    expect(a.decide(la, deadline)).toMatchObject({ action: 'expire' });
  });

  it('with only expires_after: rows are sent up to the deadline and expire from it on, not before', () => {
    const a = createAdmission(spec({ expires_after: '12h' }), 0, { wait: true })!;
    expect(a.decide(msg(), 12 * 3_600_000 - 1)).toEqual({ action: 'send' });
    expect(a.decide(msg(), 12 * 3_600_000)).toMatchObject({ action: 'expire' });
  });

  it('skips a number that opted out after the run began (any number of a group)', () => {
    const stopped = new Set(['+14155550102']);
    const a = createAdmission(spec({}), 0, { wait: true, optedOut: stopped })!;
    expect(a.decide(msg(), 0)).toEqual({ action: 'send' });
    expect(a.decide(msg({ to: '+14155550102' }), 0)).toMatchObject({ action: 'skip', code: 'suppressed' });
    expect(a.decide(msg({ to: '+14155550101,+14155550102' }), 0)).toMatchObject({ action: 'skip', code: 'suppressed' });
  });
});
