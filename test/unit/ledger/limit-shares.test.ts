import { describe, expect, it } from 'vitest';
import { fairShares, reserved, settleShare, SLACK_MS, type ShareRow } from '../../../src/ledger/limit-shares.js';

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
    // b may not take 5 yet: a's old pace still fills the window.
    expect(settleShare([lowered, b], b, 1000).share).toBe(0);
    expect(settleShare([lowered, b], b, 1600).share).toBe(2);
    expect(settleShare([lowered, b], b, 2100).share).toBe(5);
    expect(reserved(lowered, 1000) + reserved(b, 1000)).toBeLessThanOrEqual(10);
  });

  it('a dead holder keeps its share until a window after its fence, then it is free', () => {
    const dead = row('a', { share: 10, aliveUntil: 1000 });
    const b = row('b');
    expect(settleShare([dead, b], b, 1500).share).toBe(0);
    expect(settleShare([dead, b], b, 2000).share).toBe(10);
  });
});
