import { describe, expect, it } from 'vitest';
import { fairShares, lowered, reserved, settleShare, SLACK_MS, windowHold, type ShareRow } from '../../../src/ledger/limit-shares.js';

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

  it('a hand-over keeps the paces at the capacity: the lowered holder’s window keeps what it reserves, never more', () => {
    // a paced alone at 10 a window; b joins, a lowers to 5 at 1000 and b takes 5 once a's old pace allows.
    const a = lowered(row('a', { share: 10 }), 5, 1000);
    const b = settleShare([a, row('b')], row('b'), 1000 + SLACK_MS);
    expect(b.share).toBe(5);
    // What a's window may hold, as its guard is told at each sync (every 50 ms): exactly its reservation.
    const holdAt = (synced: number, t: number) => {
      const h = windowHold(a, synced);
      if (h === undefined) return a.share;
      const from = synced + h.heldMs;
      return t <= from ? h.peak : Math.max(a.share, h.peak - (h.peak - a.share) * Math.min(1, (t - from) / h.fadeMs));
    };
    // What a's window holds when it paces at its new share at once (10 a window until 1000, 5 after).
    const sentA = (t: number) => {
      let units = 0;
      for (let x = t - 1000; x < t; x += 1) units += (x < 1000 ? 10 : 5) / 1000;
      return units;
    };
    for (let synced = 1000; synced < 2200; synced += 50) {
      for (let t = synced; t < synced + 50; t += 5) {
        const allowed = holdAt(synced, t);
        expect(allowed).toBeCloseTo(reserved(a, t), 9);
        // a is never held back by its own guard: its window stays within what it may hold. (A guard
        // capped at the new share, as before, would stall a until its old sends left: half a window.)
        expect(sentA(t)).toBeLessThanOrEqual(allowed + 1e-6);
        // So the paces sum to the capacity from when b takes its share ...
        if (t >= 1000 + SLACK_MS) expect(a.share + b.share).toBe(10);
        // ... and what both windows may hold never exceeds it: a's reservation, b's share entering.
        expect(allowed + b.share * Math.min(1, (t - (1000 + SLACK_MS)) / 1000)).toBeLessThanOrEqual(10 + 1e-9);
      }
    }
    expect(sentA(1500)).toBeGreaterThan(a.share); // the old cap would have stalled a here
    expect(windowHold(a, 1000 + 1000 + SLACK_MS)).toBeUndefined();
    expect(windowHold(row('a', { share: 5 }), 1000)).toBeUndefined();
  });
});
