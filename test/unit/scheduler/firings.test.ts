import { describe, expect, it } from 'vitest';
import { formatDuration, formatLocal, upcomingFirings } from '../../../src/scheduler/firings.js';

describe('firings', () => {
  it('formats an instant on a zone clock with the zone abbreviation', () => {
    expect(formatLocal(Date.parse('2026-07-04T02:00:00Z'), 'America/Chicago')).toBe('Fri 2026-07-03 21:00:00 CDT');
    expect(formatLocal(Date.parse('2026-01-01T00:00:00Z'), 'UTC')).toBe('Thu 2026-01-01 00:00:00 UTC');
    expect(formatLocal(Date.parse('2026-01-01T00:30:05Z'), 'Asia/Kolkata')).toBe('Thu 2026-01-01 06:00:05 GMT+5:30');
  });

  it('lists the next firings across the spring-forward gap once each', () => {
    // 02:30 does not exist on 2026-03-08 in Chicago: that night fires at the jump (03:00 CDT).
    const f = upcomingFirings({ cron: '30 2 * * *', timezone: 'America/Chicago', catch_up: 0 }, Date.parse('2026-03-07T00:00:00Z'), 3);
    expect(f.map((x) => x.local)).toEqual(['Sat 2026-03-07 02:30:00 CST', 'Sun 2026-03-08 03:00:00 CDT', 'Mon 2026-03-09 02:30:00 CDT']);
    expect(f.map((x) => x.iso)).toEqual(['2026-03-07T08:30:00.000Z', '2026-03-08T08:00:00.000Z', '2026-03-09T07:30:00.000Z']);
  });

  it('writes durations in job-file units', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(129_600_000)).toBe('1d12h');
    expect(formatDuration(250)).toBe('250ms');
  });
});
