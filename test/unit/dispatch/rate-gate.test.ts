import { describe, expect, it } from 'vitest';
import { claimWire, RateGate, type Permit } from '../../../src/dispatch/rate-gate.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the window allows the write and records it (`sent()` in the same synchronous step as the check). */
async function write(permit: Permit): Promise<void> {
  expect(await claimWire([permit])).toBe(true);
}

/** A permit whose window opens at `at` (performance.now() time), counting its `sent()` calls. */
function opensAt(at: number): Permit & { sentAt: number[] } {
  const sentAt: number[] = [];
  return { sentAt, wireWait: () => Math.max(0, at - performance.now()), sent: () => void sentAt.push(performance.now()), done() {}, release() {} };
}

describe('claimWire', () => {
  it('records the write at once, synchronously, when every window allows it', () => {
    const p = opensAt(0);
    expect(claimWire([p])).toBe(true);
    expect(p.sentAt).toHaveLength(1);
  });

  it('waits for the last of several windows to open, then records the write on each', async () => {
    const t0 = performance.now();
    const a = opensAt(t0 + 30);
    const b = opensAt(t0 + 60);
    expect(await claimWire([a, b])).toBe(true);
    expect(a.sentAt).toHaveLength(1);
    expect(b.sentAt[0]! - t0).toBeGreaterThanOrEqual(59);
  });

  it('gives up when stopped while waiting: false, and nothing is recorded', async () => {
    const stop = new AbortController();
    const t0 = performance.now();
    setTimeout(() => stop.abort(new Error('stop')), 20);
    const p = opensAt(t0 + 5_000);
    expect(await claimWire([p], stop.signal)).toBe(false);
    expect(p.sentAt).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });
});

/** Most timestamps in any half-open window of `windowMs`. */
function fullestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

describe('RateGate', () => {
  it('holds the window where the far end counts, even when the first request is counted late', { timeout: 10_000 }, async () => {
    // 50/s over a 200 ms window: at most 10 messages in any 200 ms at the far end.
    const gate = new RateGate({ ratePerSecond: 50, windowMs: 200 });
    const counted: number[] = [];
    const one = async (i: number) => {
      const permit = await gate.take();
      await write(permit);
      // The far end counts the request somewhere between our write and its answer: the first one late
      // (a cold connection), the others at once.
      await sleep(i === 0 ? 40 : 1);
      counted.push(performance.now());
      await sleep(1);
      permit.done();
    };
    await Promise.all(Array.from({ length: 40 }, (_, i) => one(i)));
    expect(counted).toHaveLength(40);
    expect(fullestWindow(counted, 200)).toBeLessThanOrEqual(10);
    // ...and it still runs near its ceiling: 40 messages at 50/s take about 0.8 s.
    const span = Math.max(...counted) - Math.min(...counted);
    expect(span).toBeLessThan(1_100);
    gate.close(new Error('done'));
  });

  it('counts requests in flight: a ceiling-full of unanswered writes blocks the next until answers come', { timeout: 10_000 }, async () => {
    // 15/s over 200 ms: 3 units a window.
    const gate = new RateGate({ ratePerSecond: 15, windowMs: 200 });
    const permits: Permit[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await gate.take();
      await write(p);
      permits.push(p);
    }
    let grantedAt = 0;
    const fourth = gate.take().then((p) => {
      grantedAt = performance.now();
      return p;
    });
    await sleep(250); // a whole window since the writes: a log of write times would let the next one go
    expect(grantedAt).toBe(0);
    const answeredAt = performance.now();
    permits[0]!.done();
    // Answered just now: it still counts for a window after its answer.
    const permit = await fourth;
    expect(grantedAt - answeredAt).toBeGreaterThanOrEqual(199);
    expect(permit.wireWait()).toBe(0);
    gate.close(new Error('done'));
  });

  it('times an exclusive gate’s next permit from the previous answer, at the exact interval', { timeout: 10_000 }, async () => {
    const gate = new RateGate({ ratePerSecond: 20, exclusive: true }); // 50 ms apart
    const first = await gate.take();
    first.sent();
    let granted = 0;
    const next = gate.take().then((p) => {
      granted = performance.now();
      return p;
    });
    await sleep(80); // a slow answer: longer than the interval
    expect(granted).toBe(0);
    const answeredAt = performance.now();
    first.done();
    const second = await next;
    expect(granted - answeredAt).toBeGreaterThanOrEqual(49);
    expect(granted - answeredAt).toBeLessThan(90);
    second.release();
    gate.close(new Error('done'));
  });

  it('an exclusive permit released unsent gives its slot back at once', { timeout: 10_000 }, async () => {
    const gate = new RateGate({ ratePerSecond: 1, exclusive: true });
    const first = await gate.take();
    const t0 = performance.now();
    first.release();
    const second = await gate.take();
    expect(performance.now() - t0).toBeLessThan(100);
    second.release();
    gate.close(new Error('done'));
  });

  it('after a lowered ceiling, permits granted before it still get written, as the new window allows', { timeout: 10_000 }, async () => {
    const gate = new RateGate({ ratePerSecond: 1000, windowMs: 20 });
    await sleep(60);
    const permits = await Promise.all(Array.from({ length: 10 }, () => gate.take()));
    gate.setRate(250); // 5 a window now
    const writes: number[] = [];
    await Promise.all(
      permits.map(async (p) => {
        await write(p);
        writes.push(performance.now());
        await sleep(1);
        p.done();
      }),
    );
    expect(writes).toHaveLength(10);
    expect(fullestWindow(writes, 20)).toBeLessThanOrEqual(5);
    gate.close(new Error('done'));
  });

  describe('a lowered share (limits shared with other processes)', () => {
    /** 500/s over 200 ms (100 a window), filled evenly; then lowered to 250/s; writes until `more` are written after. */
    async function lowerAfterFull(hold: boolean, more: number) {
      const gate = new RateGate({ ratePerSecond: 500, windowMs: 200 });
      const writes: number[] = [];
      const send = async () => {
        const p = await gate.take();
        await write(p);
        writes.push(performance.now());
        p.done();
      };
      while (writes.length < 100) await send();
      const loweredAt = performance.now();
      gate.setShare(250, hold ? { ratePerSecond: 500, heldMs: 0, fadeMs: 200 } : undefined);
      for (let i = 0; i < more; i++) await send();
      gate.close(new Error('done'));
      return { writes, loweredAt, after: writes.slice(100) };
    }

    it('keeps pacing at the new share while its window holds what it still reserves, and never more', { timeout: 10_000 }, async () => {
      const { writes, loweredAt, after } = await lowerAfterFull(true, 20);
      // 20 at 250/s take ~80 ms: no stall while the old pace's sends leave the window.
      expect(after.at(-1)! - loweredAt).toBeLessThan(150);
      // Every window ending at a write after the lowering holds no more than the fading hold allows:
      // 100 falling to 50 over 200 ms (what the ledger still counts this process as reserving).
      for (const w of after) {
        const held = writes.filter((x) => x > w - 200 && x <= w).length;
        expect(held).toBeLessThanOrEqual(Math.floor(50 + 50 * Math.max(0, 1 - (w - loweredAt) / 200) + 1e-9));
      }
    });

    it('without a hold, waits until the window holds no more than the new share', { timeout: 10_000 }, async () => {
      const { writes, loweredAt, after } = await lowerAfterFull(false, 1);
      // Half the window's sends must leave first: a stall of about half a window.
      expect(after[0]! - loweredAt).toBeGreaterThan(60);
      expect(writes.filter((x) => x > after[0]! - 200 && x <= after[0]!).length).toBeLessThanOrEqual(50);
    });
  });

  describe('a raised share and a held old pace (limits shared with other processes)', () => {
    async function writeAll(gate: RateGate, n: number): Promise<number[]> {
      const writes: number[] = [];
      await Promise.all(
        Array.from({ length: n }, async () => {
          const p = await gate.take();
          await write(p);
          writes.push(performance.now());
          p.done();
        }),
      );
      gate.close(new Error('done'));
      return writes.sort((a, b) => a - b);
    }

    it('after a raise, the window never holds more than the ramp the other processes count it at', { timeout: 10_000 }, async () => {
      const gate = new RateGate({ ratePerSecond: 1000, windowMs: 200 });
      gate.setShare(0);
      const raisedAt = performance.now();
      // From nothing to 500/s (100 a window), ramping in over a window, as limit-shares.ts `raised` reserves it.
      gate.setShare(500, { ratePerSecond: 0, heldMs: 0, fadeMs: 200 });
      const writes = await writeAll(gate, 150);
      expect(writes).toHaveLength(150);
      for (const w of writes) {
        const held = writes.filter((x) => x > w - 200 && x <= w).length;
        expect(held).toBeLessThanOrEqual(Math.floor(100 * Math.min(1, (w - raisedAt) / 200) + 1e-9));
      }
    });

    it('keeping the old pace while it is held never lets the window outgrow the fade that follows', { timeout: 10_000 }, async () => {
      const gate = new RateGate({ ratePerSecond: 500, windowMs: 200 });
      const before = await (async () => {
        const writes: number[] = [];
        while (writes.length < 100) {
          const p = await gate.take();
          await write(p);
          writes.push(performance.now());
          p.done();
        }
        return writes;
      })();
      const loweredAt = performance.now();
      // Lowered to 250/s: 100 a window held for 40 ms (paced at the old 500/s meanwhile), then fading to 50.
      gate.setShare(250, { ratePerSecond: 500, heldMs: 40, fadeMs: 200, pacedMs: 40 });
      const after = await writeAll(gate, 60);
      const writes = [...before, ...after];
      for (const w of after) {
        const held = writes.filter((x) => x > w - 200 && x <= w).length;
        expect(held).toBeLessThanOrEqual(Math.floor(50 + 50 * Math.min(1, Math.max(0, 1 - (w - loweredAt - 40) / 200)) + 1e-9));
      }
    });
  });

  describe('what the window still counts when a process stops (leaving)', () => {
    /** A gate on a clock the test moves: 10 a 1-s window, so its log keeps 10 answers. */
    function clocked() {
      let t = 1000;
      const gate = new RateGate({ ratePerSecond: 10, now: () => t });
      return { gate, at: (ms: number) => void (t = ms) };
    }

    it('lists when each answered unit leaves the window: its answer plus the window (and the slack)', async () => {
      const { gate, at } = clocked();
      const p = await gate.take();
      expect(claimWire([p])).toBe(true);
      // Unanswered, it may still reach the far end later: the gate cannot tell.
      expect(gate.leaving(1000)).toBeUndefined();
      at(1100);
      p.done();
      at(1500);
      expect(gate.leaving(1000)).toEqual([[602, 1]]);
      // Another window than the gate's, or once it has left: nothing it can say / nothing left.
      expect(gate.leaving(60_000)).toBeUndefined();
      at(2200);
      expect(gate.leaving(1000)).toEqual([]);
    });

    it('cannot tell once its log forgot an answer that still counts, nor for an exclusive gate', async () => {
      const { gate, at } = clocked();
      // Ten answered, then the share halves without a hold: the log keeps the five newest.
      for (let i = 0; i < 10; i++) {
        at(1000 + i * 110);
        const p = await gate.take();
        expect(await claimWire([p])).toBe(true);
        p.done();
      }
      at(2000);
      expect(gate.leaving(1000)?.map(([ms]) => ms)).toEqual([2, 112, 222, 332, 442, 552, 662, 772, 882, 992]);
      gate.setShare(5);
      expect(gate.leaving(1000)).toBeUndefined();
      at(2441);
      expect(gate.leaving(1000)).toBeUndefined();
      // The forgotten ones have left (the last at 2,442): it can tell again.
      at(2443);
      expect(gate.leaving(1000)?.map(([ms]) => ms)).toEqual([109, 219, 329, 439, 549]);
      gate.close(new Error('done'));
      expect(new RateGate({ ratePerSecond: 1, exclusive: true }).leaving(1000)).toBeUndefined();
    });
  });
});
