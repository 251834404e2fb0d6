import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/shared/errors.js';
import { decideMissedSlots, latestSlots, nextSlots, slotKey, slotsAfter, slotsBetween } from '../../../src/schedule/slots.js';

const iso = (ms: number) => new Date(ms).toISOString();
const at = (text: string) => Date.parse(text);
const H = 3_600_000;

/** The slots in (from, to], by walking the generator from well before the range. */
function walk(cron: string, timezone: string, from: string, to: string): string[] {
  return slotsBetween({ cron, timezone }, at(from), at(to)).map(iso);
}

describe('daylight-saving changes fire every wall-clock slot exactly once', () => {
  it('America/Chicago spring-forward (2026-03-08): 02:30 does not exist and fires once, at the 03:00 jump', () => {
    expect(walk('30 2 * * *', 'America/Chicago', '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z')).toEqual([
      '2026-03-07T08:30:00.000Z', // 02:30 CST
      '2026-03-08T08:00:00.000Z', // clocks jump 02:00 CST → 03:00 CDT
      '2026-03-09T07:30:00.000Z', // 02:30 CDT
    ]);
  });

  it('America/Chicago fall-back (2026-11-01): 01:30 happens twice and fires once, the first time', () => {
    expect(walk('30 1 * * *', 'America/Chicago', '2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z')).toEqual([
      '2026-10-31T06:30:00.000Z', // 01:30 CDT
      '2026-11-01T06:30:00.000Z', // 01:30 CDT, not again at 01:30 CST (07:30Z)
      '2026-11-02T07:30:00.000Z', // 01:30 CST
    ]);
  });

  it('the 21:00 nightly job keeps its wall-clock time across both Chicago changes', () => {
    const spring = walk('0 21 * * *', 'America/Chicago', '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z');
    expect(spring).toEqual(['2026-03-07T03:00:00.000Z', '2026-03-08T03:00:00.000Z', '2026-03-09T02:00:00.000Z']);
    const fall = walk('0 21 * * *', 'America/Chicago', '2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z');
    expect(fall).toEqual(['2026-10-31T02:00:00.000Z', '2026-11-01T02:00:00.000Z', '2026-11-02T03:00:00.000Z']);
  });

  it('America/New_York hourly: 02:00 and 03:00 merge at the spring jump; the repeated 01:00 fires once', () => {
    expect(walk('0 * * * *', 'America/New_York', '2026-03-08T05:30:00Z', '2026-03-08T08:30:00Z')).toEqual([
      '2026-03-08T06:00:00.000Z', // 01:00 EST
      '2026-03-08T07:00:00.000Z', // 02:00 (skipped) and 03:00 EDT: one firing
      '2026-03-08T08:00:00.000Z', // 04:00 EDT
    ]);
    expect(walk('0 * * * *', 'America/New_York', '2026-11-01T03:30:00Z', '2026-11-01T08:30:00Z')).toEqual([
      '2026-11-01T04:00:00.000Z', // 00:00 EDT
      '2026-11-01T05:00:00.000Z', // 01:00 EDT
      '2026-11-01T07:00:00.000Z', // 02:00 EST (01:00 EST at 06:00Z is the same reading again)
      '2026-11-01T08:00:00.000Z', // 03:00 EST
    ]);
  });

  it('Europe/London (2026-03-29, 2026-10-25)', () => {
    expect(walk('30 1 * * *', 'Europe/London', '2026-03-28T00:00:00Z', '2026-03-31T00:00:00Z')).toEqual([
      '2026-03-28T01:30:00.000Z', // 01:30 GMT
      '2026-03-29T01:00:00.000Z', // 01:30 skipped: the 01:00 GMT → 02:00 BST jump
      '2026-03-30T00:30:00.000Z', // 01:30 BST
    ]);
    expect(walk('30 1 * * *', 'Europe/London', '2026-10-24T00:00:00Z', '2026-10-27T00:00:00Z')).toEqual([
      '2026-10-24T00:30:00.000Z', // 01:30 BST
      '2026-10-25T00:30:00.000Z', // first 01:30 (BST); not 01:30Z (GMT)
      '2026-10-26T01:30:00.000Z', // 01:30 GMT
    ]);
  });

  it('Australia/Sydney (southern hemisphere: ends 2026-04-05, starts 2026-10-04)', () => {
    expect(walk('30 2 * * *', 'Australia/Sydney', '2026-04-03T00:00:00Z', '2026-04-06T00:00:00Z')).toEqual([
      '2026-04-03T15:30:00.000Z', // 02:30 AEDT
      '2026-04-04T15:30:00.000Z', // first 02:30 (AEDT), not 16:30Z (AEST)
      '2026-04-05T16:30:00.000Z', // 02:30 AEST
    ]);
    expect(walk('30 2 * * *', 'Australia/Sydney', '2026-10-02T00:00:00Z', '2026-10-05T00:00:00Z')).toEqual([
      '2026-10-02T16:30:00.000Z', // 02:30 AEST
      '2026-10-03T16:00:00.000Z', // skipped: the 02:00 AEST → 03:00 AEDT jump
      '2026-10-04T15:30:00.000Z', // 02:30 AEDT
    ]);
  });

  it('Asia/Kolkata (UTC+05:30, no DST): 21:00 is 15:30Z every day', () => {
    expect(walk('0 21 * * *', 'Asia/Kolkata', '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z')).toEqual([
      '2026-03-07T15:30:00.000Z',
      '2026-03-08T15:30:00.000Z',
      '2026-03-09T15:30:00.000Z',
    ]);
  });

  it('6-field second-level cron across the fall-back hour and the spring jump', () => {
    // Every 30 minutes at second 0: the repeated 01:00 and 01:30 fire once.
    expect(walk('0 */30 * * * *', 'America/Chicago', '2026-11-01T05:45:00Z', '2026-11-01T08:45:00Z')).toEqual([
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T06:30:00.000Z',
      '2026-11-01T08:00:00.000Z',
      '2026-11-01T08:30:00.000Z',
    ]);
    // 02:30:15 does not exist on 2026-03-08; it fires once at the jump.
    expect(walk('15 30 2 * * *', 'America/Chicago', '2026-03-07T12:00:00Z', '2026-03-09T12:00:00Z')).toEqual([
      '2026-03-08T08:00:00.000Z',
      '2026-03-09T07:30:15.000Z',
    ]);
  });

  it('matches a brute-force reading of the zone clock at every minute of each change day', () => {
    // Reference: a minute-by-minute walk over real instants, firing when the zone's clock first
    // shows a reading the pattern matches, or jumps over one (fires at the jump). Independent of
    // slots.ts; uses only Intl.
    const cases: Array<[string, string, string]> = [
      ['America/Chicago', '2026-03-08T00:00:00Z', '30 2 * * *'],
      ['America/Chicago', '2026-11-01T00:00:00Z', '*/20 1 * * *'],
      ['America/New_York', '2026-03-08T00:00:00Z', '0,45 * * * *'],
      ['America/New_York', '2026-11-01T00:00:00Z', '*/15 * * * *'],
      ['Europe/London', '2026-03-29T00:00:00Z', '30 1 * * *'],
      ['Europe/London', '2026-10-25T00:00:00Z', '10 * * * *'],
      ['Australia/Sydney', '2026-04-04T10:00:00Z', '*/30 * * * *'],
      ['Australia/Sydney', '2026-10-03T10:00:00Z', '30 2 * * *'],
      ['Asia/Kolkata', '2026-03-08T00:00:00Z', '*/30 * * * *'],
    ];
    for (const [zone, startText, cron] of cases) {
      const start = at(startText);
      const end = start + 12 * H;
      const expected = referenceSlots(cron, zone, start, end);
      expect(expected.length).toBeGreaterThan(0);
      expect(slotsBetween({ cron, timezone: zone }, start, end).map(iso), `${cron} ${zone}`).toEqual(expected.map(iso));
      // And nextSlots from any minute agrees with the sequence (croner 9 alone does not).
      for (let from = start; from < end; from += 60_000) {
        const want = expected.find((s) => s > from);
        if (want === undefined) break;
        expect(nextSlots({ cron, timezone: zone }, from, 1)[0], `${cron} ${zone} from ${iso(from)}`).toBe(want);
      }
    }
  });
});

/** Minute-resolution reference for 5-field patterns with literal/step minute and hour fields. */
function referenceSlots(cron: string, zone: string, start: number, end: number): number[] {
  const [minField, hourField] = cron.split(' ') as [string, string];
  const matches = (field: string, v: number, max: number) =>
    field.split(',').some((part) => {
      if (part === '*') return true;
      const step = /^\*\/(\d+)$/.exec(part);
      if (step !== null) return v % Number(step[1]) === 0;
      return Number(part) === v && v < max;
    });
  const fmt = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit', day: '2-digit' });
  const read = (t: number) => {
    const p = Object.fromEntries(fmt.formatToParts(t).map((x) => [x.type, x.value]));
    return { day: Number(p.day), minuteOfDay: Number(p.hour) * 60 + Number(p.minute) };
  };
  const out: number[] = [];
  const seen = new Set<string>();
  let prev = read(start);
  for (let t = start + 60_000; t <= end; t += 60_000) {
    const now = read(t);
    // Every reading passed over since the previous minute: one, or the skipped stretch of a jump.
    const readings: Array<{ day: number; minuteOfDay: number }> = [];
    if (now.day === prev.day && now.minuteOfDay > prev.minuteOfDay) {
      for (let m = prev.minuteOfDay + 1; m <= now.minuteOfDay; m++) readings.push({ day: now.day, minuteOfDay: m });
    } else if (now.day !== prev.day) {
      readings.push(now);
    } // else the clock went back: readings already seen
    for (const r of readings) {
      const key = `${r.day}:${r.minuteOfDay}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (matches(minField, r.minuteOfDay % 60, 60) && matches(hourField, Math.floor(r.minuteOfDay / 60), 24)) {
        if (out.at(-1) !== t) out.push(t);
      }
    }
    prev = now;
  }
  return out;
}

describe('starting points inside a change (where croner 9 alone misfires; see src/schedule/cron.ts)', () => {
  const chicago = (cron: string) => ({ cron, timezone: 'America/Chicago' });

  it('from the second pass of the repeated hour, 01:30 is not due again today', () => {
    // 07:00Z is 01:00 CST; 01:30 CDT (06:30Z) already fired. croner 9.1 answers 06:30Z here.
    expect(nextSlots(chicago('30 1 * * *'), at('2026-11-01T07:00:00Z'), 1).map(iso)).toEqual(['2026-11-02T07:30:00.000Z']);
  });

  it('from just before the jump, the skipped 02:30 is still due at the jump', () => {
    expect(nextSlots(chicago('30 2 * * *'), at('2026-03-08T07:59:59.999Z'), 1).map(iso)).toEqual(['2026-03-08T08:00:00.000Z']);
    expect(nextSlots(chicago('30 2 * * *'), at('2026-03-08T08:00:00Z'), 1).map(iso)).toEqual(['2026-03-09T07:30:00.000Z']);
  });
});

describe('slot lists', () => {
  const nightly = { cron: '0 21 * * *', timezone: 'America/Chicago' };

  it('nextSlots is strictly after from, including when from is exactly a slot', () => {
    const slot = at('2026-06-10T02:00:00Z'); // 21:00 CDT on 06-09
    expect(nextSlots(nightly, slot - 1, 2).map(iso)).toEqual(['2026-06-10T02:00:00.000Z', '2026-06-11T02:00:00.000Z']);
    expect(nextSlots(nightly, slot, 1).map(iso)).toEqual(['2026-06-11T02:00:00.000Z']);
    expect(nextSlots(nightly, slot, 0)).toEqual([]);
  });

  it('slotsBetween is (from, to] and honours limit', () => {
    const from = at('2026-06-10T02:00:00Z');
    const to = at('2026-06-13T02:00:00Z');
    expect(slotsBetween(nightly, from, to).map(iso)).toEqual([
      '2026-06-11T02:00:00.000Z',
      '2026-06-12T02:00:00.000Z',
      '2026-06-13T02:00:00.000Z',
    ]);
    expect(slotsBetween(nightly, from, to, 2)).toHaveLength(2);
    expect(slotsBetween(nightly, to, from)).toEqual([]);
  });

  it('6-field patterns fire on seconds; ms in from are respected', () => {
    const s = { cron: '*/20 * * * * *', timezone: 'Asia/Kolkata' };
    expect(nextSlots(s, at('2026-04-03T12:00:00.500Z'), 3).map(iso)).toEqual([
      '2026-04-03T12:00:20.000Z',
      '2026-04-03T12:00:40.000Z',
      '2026-04-03T12:01:00.000Z',
    ]);
    expect(slotsBetween(s, at('2026-04-03T12:00:00Z'), at('2026-04-03T12:01:00Z'))).toHaveLength(3);
  });

  it('slotKey is the ISO instant', () => {
    expect(slotKey(at('2026-03-08T08:00:00Z'))).toBe('2026-03-08T08:00:00.000Z');
  });

  it('an invalid cron or zone throws ERR_SCHEDULE_INVALID naming it', () => {
    const bad = () => nextSlots({ cron: '0 25 * * *', timezone: 'UTC' }, 0, 1);
    expect(bad).toThrow(/cron expression "0 25 \* \* \*" is invalid/);
    try {
      bad();
    } catch (err) {
      expect(isAppError(err, 'ERR_SCHEDULE_INVALID')).toBe(true);
    }
    expect(() => nextSlots({ cron: '0 9 * * *', timezone: 'Mars/Olympus' }, 0, 1)).toThrow(/unknown time zone "Mars\/Olympus"/);
    expect(() => nextSlots({ cron: '0 9 ? * *', timezone: 'UTC' }, 0, 1)).toThrow(/"\?"/);
  });

  it('a generator can be consumed lazily', () => {
    const it = slotsAfter({ cron: '0 0 1 1 *', timezone: 'Australia/Sydney' }, at('2026-06-01T00:00:00Z'));
    expect(iso(it.next().value as number)).toBe('2026-12-31T13:00:00.000Z'); // 00:00 AEDT Jan 1
  });
});

describe('the host time zone does not leak in', () => {
  const saved = process.env.TZ;
  beforeAll(() => {
    process.env.TZ = 'America/Chicago'; // a host whose own clock skips 02:00–03:00 on 2026-03-08
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  });

  it('computes the same slots under a DST-observing host zone', () => {
    expect(new Date(2026, 0, 1).getTimezoneOffset()).toBe(360); // the override took effect
    expect(walk('30 2 * * *', 'UTC', '2026-03-07T12:00:00Z', '2026-03-09T12:00:00Z')).toEqual([
      '2026-03-08T02:30:00.000Z',
      '2026-03-09T02:30:00.000Z',
    ]);
    expect(walk('30 2 * * *', 'Asia/Kolkata', '2026-03-07T12:00:00Z', '2026-03-09T12:00:00Z')).toEqual([
      '2026-03-07T21:00:00.000Z',
      '2026-03-08T21:00:00.000Z',
    ]);
  });
});

describe('decideMissedSlots', () => {
  const nightly = { cron: '0 21 * * *', timezone: 'America/Chicago', catch_up: H };
  const june9 = at('2026-06-10T02:00:00Z'); // 21:00 CDT 2026-06-09

  it('an on-time tick runs the slot that just passed', () => {
    expect(decideMissedSlots(nightly, june9 - 1000, june9 + 250)).toEqual({ run: june9, missed: [], moreMissed: false });
  });

  it('nothing due: nothing to do', () => {
    expect(decideMissedSlots(nightly, june9, june9 + 10 * 60_000)).toEqual({ missed: [], moreMissed: false });
    expect(decideMissedSlots(nightly, june9 + 5, june9)).toEqual({ missed: [], moreMissed: false });
  });

  it('after downtime runs only the latest slot within catch_up and records the older ones', () => {
    const down = june9 - 3 * 24 * H - 60_000; // just before the 06-06 slot
    const d = decideMissedSlots(nightly, down, june9 + 30 * 60_000);
    expect(d.run).toBe(june9);
    expect(d.missed.map(iso)).toEqual(['2026-06-07T02:00:00.000Z', '2026-06-08T02:00:00.000Z', '2026-06-09T02:00:00.000Z']);
    expect(d.moreMissed).toBe(false);
  });

  it('catch_up is inclusive: exactly catch_up late runs, 1 ms later is missed', () => {
    expect(decideMissedSlots(nightly, june9 - 1, june9 + H).run).toBe(june9);
    const late = decideMissedSlots(nightly, june9 - 1, june9 + H + 1);
    expect(late).toEqual({ missed: [june9], moreMissed: false });
  });

  it('catchUpMs overrides schedule.catch_up; 0 runs only a slot due this very millisecond', () => {
    expect(decideMissedSlots(nightly, june9 - 1, june9 + 1, 0)).toEqual({ missed: [june9], moreMissed: false });
    expect(decideMissedSlots(nightly, june9 - 1, june9, 0).run).toBe(june9);
  });

  it('a long downtime with a per-second pattern keeps only the latest maxMissed', () => {
    const s = { cron: '* * * * * *', timezone: 'Europe/London', catch_up: 5000 };
    const now = at('2026-10-25T12:00:00.400Z');
    const d = decideMissedSlots(s, now - 10 * 24 * H, now, undefined, { maxMissed: 3 });
    expect(d.run).toBe(at('2026-10-25T12:00:00Z'));
    expect(d.missed.map(iso)).toEqual(['2026-10-25T11:59:57.000Z', '2026-10-25T11:59:58.000Z', '2026-10-25T11:59:59.000Z']);
    expect(d.moreMissed).toBe(true);
  });

  it('latestSlots reports whether older slots were left out', () => {
    const from = june9 - 3 * 24 * H - 60_000; // four slots in range
    expect(latestSlots(nightly, from, june9, 4)).toEqual({ slots: slotsBetween(nightly, from, june9), more: false });
    const three = latestSlots(nightly, from, june9, 3);
    expect(three.slots).toHaveLength(3);
    expect(three.more).toBe(true);
    expect(latestSlots(nightly, from, june9, 10).more).toBe(false);
  });
});
