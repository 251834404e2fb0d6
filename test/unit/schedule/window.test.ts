import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/shared/errors.js';
import { resolveZone, windowState } from '../../../src/schedule/window.js';
import type { SendWindow, Weekday, WindowState } from '../../../src/schedule/window.js';

const at = (text: string) => Date.parse(text);
const all: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const win = (start: string, end: string, days: Weekday[] = all): SendWindow => ({ start, end, days });
const opens = (text: string): WindowState => ({ open: false, opensAt: at(text) });
const closes = (text: string): WindowState => ({ open: true, closesAt: at(text) });

describe('windowState edges (start inclusive, end exclusive)', () => {
  const office = win('09:00', '20:30', ['mon', 'tue', 'wed', 'thu', 'fri', 'sat']);
  const ny = 'America/New_York';

  it('opens at exactly 09:00 and closes at exactly 20:30 in the recipient zone', () => {
    // Wednesday 2026-03-04, EST (UTC-5).
    expect(windowState(office, at('2026-03-04T13:59:59.999Z'), ny)).toEqual(opens('2026-03-04T14:00:00Z'));
    expect(windowState(office, at('2026-03-04T14:00:00Z'), ny)).toEqual(closes('2026-03-05T01:30:00Z'));
    expect(windowState(office, at('2026-03-05T01:29:59.999Z'), ny)).toEqual(closes('2026-03-05T01:30:00Z'));
    expect(windowState(office, at('2026-03-05T01:30:00Z'), ny)).toEqual(opens('2026-03-05T14:00:00Z'));
  });

  it('skips days not listed: Saturday evening waits for Monday', () => {
    expect(windowState(office, at('2026-03-08T01:30:00Z'), ny)).toEqual(opens('2026-03-09T13:00:00Z')); // Mon 09:00 EDT
  });

  it('judges the day in the recipient zone, not UTC', () => {
    const mondays = win('09:00', '17:00', ['mon']);
    const instant = at('2026-06-08T01:00:00Z'); // Monday in UTC
    expect(windowState(mondays, instant, 'America/Los_Angeles')).toEqual(opens('2026-06-08T16:00:00Z')); // Sunday 18:00 there
    expect(windowState(mondays, instant, 'Asia/Kolkata')).toEqual(opens('2026-06-08T03:30:00Z')); // Monday 06:30 there
    expect(windowState(mondays, instant, 'Asia/Tokyo')).toEqual(closes('2026-06-08T08:00:00Z')); // Monday 10:00 there
  });

  it('handles a half-hour offset (Asia/Kolkata)', () => {
    const w = win('09:00', '21:00');
    expect(windowState(w, at('2026-01-15T03:29:59.999Z'), 'Asia/Kolkata')).toEqual(opens('2026-01-15T03:30:00Z'));
    expect(windowState(w, at('2026-01-15T03:30:00Z'), 'Asia/Kolkata')).toEqual(closes('2026-01-15T15:30:00Z'));
  });

  it('an end of 00:00 means midnight', () => {
    expect(windowState(win('09:00', '00:00'), at('2026-01-15T22:00:00Z'), 'UTC')).toEqual(closes('2026-01-16T00:00:00Z'));
  });
});

describe('windows that span midnight', () => {
  const fridayNight = win('20:00', '02:00', ['fri']);
  const ny = 'America/New_York'; // EDT (UTC-4) in June 2026

  it('open from Friday 20:00 to Saturday 02:00, keyed on the day it opens', () => {
    expect(windowState(fridayNight, at('2026-06-05T23:59:00Z'), ny)).toEqual(opens('2026-06-06T00:00:00Z')); // Fri 19:59
    expect(windowState(fridayNight, at('2026-06-06T00:00:00Z'), ny)).toEqual(closes('2026-06-06T06:00:00Z'));
    expect(windowState(fridayNight, at('2026-06-06T05:00:00Z'), ny)).toEqual(closes('2026-06-06T06:00:00Z')); // Sat 01:00
    expect(windowState(fridayNight, at('2026-06-06T06:00:00Z'), ny)).toEqual(opens('2026-06-13T00:00:00Z'));
  });

  it('the early hours of Friday belong to Thursday night, which is not listed', () => {
    expect(windowState(fridayNight, at('2026-06-05T05:00:00Z'), ny)).toEqual(opens('2026-06-06T00:00:00Z')); // Fri 01:00
  });
});

describe('windows across daylight-saving changes', () => {
  it('a 09:00 start on the day clocks change opens at 09:00 new time (New York, London, Sydney)', () => {
    const w = win('09:00', '20:30');
    expect(windowState(w, at('2026-03-08T05:00:00Z'), 'America/New_York')).toEqual(opens('2026-03-08T13:00:00Z')); // EDT
    expect(windowState(w, at('2026-11-01T04:00:00Z'), 'America/New_York')).toEqual(opens('2026-11-01T14:00:00Z')); // EST
    expect(windowState(w, at('2026-03-29T00:00:00Z'), 'Europe/London')).toEqual(opens('2026-03-29T08:00:00Z')); // BST
    expect(windowState(w, at('2026-10-25T00:00:00Z'), 'Europe/London')).toEqual(opens('2026-10-25T09:00:00Z')); // GMT
    expect(windowState(w, at('2026-10-03T13:00:00Z'), 'Australia/Sydney')).toEqual(opens('2026-10-03T22:00:00Z')); // AEDT
    expect(windowState(w, at('2026-04-04T14:00:00Z'), 'Australia/Sydney')).toEqual(opens('2026-04-04T23:00:00Z')); // AEST
  });

  it('an end inside the skipped hour closes at the jump', () => {
    const lateNight = win('20:00', '02:30');
    // Saturday 2026-03-07 21:00 CST; clocks jump 02:00 CST → 03:00 CDT at 08:00Z.
    expect(windowState(lateNight, at('2026-03-08T03:00:00Z'), 'America/Chicago')).toEqual(closes('2026-03-08T08:00:00Z'));
    expect(windowState(lateNight, at('2026-03-08T08:00:00Z'), 'America/Chicago')).toEqual(opens('2026-03-09T01:00:00Z'));
  });

  it('a start inside the skipped hour opens at the jump', () => {
    const early = win('02:30', '06:00');
    expect(windowState(early, at('2026-03-08T06:00:00Z'), 'America/Chicago')).toEqual(opens('2026-03-08T08:00:00Z'));
    expect(windowState(early, at('2026-03-08T08:00:00Z'), 'America/Chicago')).toEqual(closes('2026-03-08T11:00:00Z'));
  });

  it('an end inside the repeated hour is judged by the clock both times round', () => {
    const w = win('20:00', '01:30');
    const chicago = 'America/Chicago';
    expect(windowState(w, at('2026-11-01T02:00:00Z'), chicago)).toEqual(closes('2026-11-01T06:30:00Z')); // 01:30 CDT
    expect(windowState(w, at('2026-11-01T06:30:00Z'), chicago)).toEqual(opens('2026-11-01T07:00:00Z')); // back to 01:00 CST
    expect(windowState(w, at('2026-11-01T07:00:00Z'), chicago)).toEqual(closes('2026-11-01T07:30:00Z')); // 01:30 CST
    expect(windowState(w, at('2026-11-01T07:30:00Z'), chicago)).toEqual(opens('2026-11-02T02:00:00Z')); // 20:00 CST
  });

  it('agrees with a reading of the recipient clock at every sampled instant, and its change instants are exact', () => {
    const cases: Array<[SendWindow, string, string]> = [
      [win('09:00', '20:30', ['mon', 'tue', 'wed', 'thu', 'fri', 'sat']), 'America/New_York', '2026-03-05T00:00:00Z'],
      [win('20:00', '02:30', ['fri', 'sat', 'sun']), 'America/Chicago', '2026-03-05T00:00:00Z'],
      [win('20:00', '01:30'), 'America/Chicago', '2026-10-29T00:00:00Z'],
      [win('00:30', '02:45', ['sun']), 'Europe/London', '2026-10-22T00:00:00Z'],
      [win('08:00', '02:15'), 'Australia/Sydney', '2026-10-01T00:00:00Z'],
      [win('02:00', '03:00'), 'Australia/Sydney', '2026-04-02T00:00:00Z'],
      [win('09:30', '18:00', ['mon', 'wed', 'fri']), 'Asia/Kolkata', '2026-03-05T00:00:00Z'],
      [win('01:00', '02:00'), 'Australia/Lord_Howe', '2026-04-02T00:00:00Z'], // a 30-minute DST change
    ];
    for (const [w, zone, startText] of cases) {
      const start = at(startText);
      for (let t = start; t < start + 7 * 86_400_000; t += 23 * 60_000) {
        const state = windowState(w, t, zone);
        const label = `${w.start}-${w.end} ${w.days.join(',')} ${zone} at ${new Date(t).toISOString()}`;
        expect(state.open, label).toBe(openByClock(w, zone, t));
        const change = state.open ? state.closesAt : state.opensAt;
        expect(change, label).toBeGreaterThan(t);
        expect(openByClock(w, zone, change), label).toBe(!state.open);
        expect(openByClock(w, zone, change - 1), label).toBe(state.open);
        // Constant in between (sampled).
        for (let u = t; u < change; u += Math.max(60_000, Math.floor((change - t) / 20))) {
          expect(openByClock(w, zone, u), `${label} at ${new Date(u).toISOString()}`).toBe(state.open);
        }
      }
    }
  });
});

/** Reference: read the recipient's clock with Intl and apply the window literally. */
const clockFormats = new Map<string, Intl.DateTimeFormat>();
function openByClock(w: SendWindow, zone: string, t: number): boolean {
  let fmt = clockFormats.get(zone);
  if (fmt === undefined) {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', weekday: 'short', hour: '2-digit', minute: '2-digit' });
    clockFormats.set(zone, fmt);
  }
  const p = Object.fromEntries(fmt.formatToParts(t).map((x) => [x.type, x.value]));
  const minute = (Number(p.hour) % 24) * 60 + Number(p.minute);
  const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
  const today = days.indexOf(String(p.weekday).toLowerCase());
  const listed = (d: number) => w.days.includes(days[(d + 7) % 7] as Weekday);
  const toMin = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  const s = toMin(w.start);
  const e = toMin(w.end);
  if (s < e) return listed(today) && minute >= s && minute < e;
  return (minute >= s && listed(today)) || (minute < e && listed(today - 1));
}

describe('resolveZone', () => {
  const both: SendWindow = { ...win('09:00', '20:00'), timezone: 'America/New_York', timezone_field: 'tz' };
  const fieldOnly: SendWindow = { ...win('09:00', '20:00'), timezone_field: 'tz' };

  it('uses a known row zone, as written but trimmed', () => {
    expect(resolveZone(both, 'America/Chicago')).toEqual({ zone: 'America/Chicago', from: 'row' });
    expect(resolveZone(fieldOnly, ' Asia/Kolkata ')).toEqual({ zone: 'Asia/Kolkata', from: 'row' });
  });

  it('falls back to window.timezone for a blank row zone, flagging an unknown one', () => {
    expect(resolveZone(both, undefined)).toEqual({ zone: 'America/New_York', from: 'window' });
    expect(resolveZone(both, '  ')).toEqual({ zone: 'America/New_York', from: 'window' });
    expect(resolveZone(both, 'Mars/Olympus')).toEqual({ zone: 'America/New_York', from: 'window', invalidRowZone: 'Mars/Olympus' });
    expect(resolveZone(both, '+05:30')).toEqual({ zone: 'America/New_York', from: 'window', invalidRowZone: '+05:30' });
  });

  it('without a fallback, a row with no usable zone cannot be judged', () => {
    expect(resolveZone(fieldOnly, undefined)).toEqual({ zone: undefined, from: 'none' });
    expect(resolveZone(fieldOnly, 'Nowhere')).toEqual({ zone: undefined, from: 'none', invalidRowZone: 'Nowhere' });
  });
});

describe('bad input', () => {
  it('an unknown zone or a malformed window throws ERR_SCHEDULE_INVALID', () => {
    const check = (fn: () => unknown, pattern: RegExp) => {
      expect(fn).toThrow(pattern);
      try {
        fn();
      } catch (err) {
        expect(isAppError(err, 'ERR_SCHEDULE_INVALID')).toBe(true);
      }
    };
    check(() => windowState(win('09:00', '17:00'), 0, 'Nowhere/Special'), /unknown time zone "Nowhere\/Special"/);
    check(() => windowState(win('09:00', '09:00'), 0, 'UTC'), /invalid send window/);
    check(() => windowState(win('9am', '17:00'), 0, 'UTC'), /invalid send window/);
    check(() => windowState(win('09:00', '17:00', []), 0, 'UTC'), /invalid send window/);
  });
});
