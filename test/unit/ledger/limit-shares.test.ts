import { describe, expect, it } from 'vitest';
import { fairShares, lowered, reserved, settleShare, SLACK_MS, type ShareRow } from '../../../src/ledger/limit-shares.js';

const row = (holder: string, o: Partial<ShareRow> = {}): ShareRow => ({
  holder, capacity: 10, windowMs: 1000, demand: 10, share: 0, peak: 0, peakUntil: 0, aliveUntil: 10_000, ...o,
});

describe('how processes divide a limit', () => {
  it('water-fills whole units and rotates the leftover unit', () => {
    expect(fairShares([row('a'), row('b'), row('c')], 10, 0)).toEqual(new Map([['a', 4], ['b', 3], ['c', 3]]));
    expect(fairShares([row('a', { demand: 2 }), row('b')], 10, 0)).toEqual(new Map([['a', 2], ['b', 8]]));
    // A 1/s sender shared by two: theirs in turns.
    const one = [row('a', { capacity: 1, demand: 1 }), row('b', { capacity: 1, demand: 1 })];
    expect(fairShares(one, 1, 0)).toEqual(new Map([['a', 1], ['b', 0]]));
    expect(fairShares(one, 1, 5000)).toEqual(new Map([['a', 0], ['b', 1]]));
    expect(fairShares([row('a', { demand: 0 }), row('b')], 10, 0)).toEqual(new Map([['b', 10]]));
  });

  it('lowers at once but keeps the old share reserved while it still counts; raises only into room', () => {
    const a = row('a', { share: 10 });
    const b = row('b');
    const lowered = settleShare([a, b], a, 1000);
    expect(lowered).toMatchObject({ share: 5, peak: 10, peakUntil: 1000 + 1000 + SLACK_MS });
    // b may not take 5 while a's old pace fills the window (the slack) ...
    expect(settleShare([lowered, b], b, 1000).share).toBe(0);
    expect(settleShare([lowered, b], b, 1050).share).toBe(0);
    // ... then at once: b's sends enter the window no faster than a's old ones leave it.
    expect(settleShare([lowered, b], b, 1100).share).toBe(5);
    expect(settleShare([lowered, b], b, 2100).share).toBe(5);
    // At every instant of the coming window, a's shrinking reservation and what b's new share can have
    // put in the window together stay within the capacity.
    for (let t = 1100; t <= 2200; t += 10) expect(reserved(lowered, t) + 5 * Math.min(1, (t - 1100) / 1000)).toBeLessThanOrEqual(10 + 1e-9);
    expect(reserved(lowered, 1000) + reserved(b, 1000)).toBeLessThanOrEqual(10);
  });

  it('a dead holder keeps its share until a window after its fence, then it is free', () => {
    const dead = row('a', { share: 10, aliveUntil: 1000 });
    const b = row('b');
    expect(settleShare([dead, b], b, 1500).share).toBe(0);
    expect(settleShare([dead, b], b, 2000).share).toBe(10);
  });

  it('lowering again keeps what it reserves now, not its first pace: newcomers find room while others join', () => {
    const a = row('a', { share: 10 });
    const once = lowered(a, 5, 1000);
    // Half a window after the first lowering (past the slack) a's old pace counts for less ...
    expect(reserved(once, 1600)).toBeCloseTo(7.5, 6);
    // ... and a third process joining lowers it again, from there, not from 10.
    const twice = lowered(once, 3, 1600);
    expect(twice).toMatchObject({ share: 3, peak: 7.5, peakUntil: 1600 + 1000 + SLACK_MS });
    // What an evenly paced a can still have in the window never exceeds what it keeps: at 10/s until
    // 1000, 5/s until 1600, 3/s after, the window ending at t holds (sent in [t - 1000, t]).
    const sent = (t: number) => {
      const rate = (x: number) => (x < 1000 ? 10 : x < 1600 ? 5 : 3);
      let units = 0;
      for (let x = t - 1000; x < t; x += 1) units += rate(x) / 1000;
      return units;
    };
    for (let t = 1600; t <= 3000; t += 50) expect(sent(t)).toBeLessThanOrEqual(reserved(twice, t) + 1e-6);
  });

  it('a holder that left keeps only what its last sends still count, shrinking; then it is forgotten', () => {
    const left = { ...lowered(row('a', { share: 10 }), 0, 1000), demand: 0, aliveUntil: 1000 + SLACK_MS };
    const b = row('b');
    expect(settleShare([left, b], b, 1000).share).toBe(0);
    expect(settleShare([left, b], b, 1100).share).toBeCloseTo(10, 3);
    expect(settleShare([left, b], b, 1600).share).toBe(10);
    // A holder killed while holding a share keeps it all until a window after its fence.
    const killed = row('a', { share: 10, aliveUntil: 1000 });
    expect(settleShare([killed, b], b, 1600).share).toBe(0);
  });
});
