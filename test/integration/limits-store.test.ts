/**
 * The limits store on a real ledger file, with the clock injected: a holder that leaves with its
 * window's contents known reserves only those (limit-shares.ts `leftWith`), and one held below its fair
 * share is told when more room is due (`moreRoomAt`). And SharedLimits over real rate gates hands the
 * store what its gate's log still counts when it closes.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimWire, RateGate } from '../../src/dispatch/rate-gate.js';
import { SharedLimits } from '../../src/dispatch/shared-limits.js';
import { limitModel } from '../../src/config/limit-model.js';
import { loadJobSpec } from '../../src/config/load-job-spec.js';
import { connectionOf, Ledger } from '../../src/ledger/ledger.js';
import { reserved, SLACK_MS } from '../../src/ledger/limit-shares.js';
import { SqliteLimitsStore, type LimitClaim } from '../../src/ledger/limits-store.js';
import { writeJob } from '../helpers/logging-server.js';
import { tempDir } from '../helpers/temp.js';

let tmp: ReturnType<typeof tempDir>;
let ledger: Ledger;
beforeEach(() => {
  tmp = tempDir('bulktext-limits-');
  ledger = new Ledger(path.join(tmp.dir, 'l.db'));
});
afterEach(() => {
  ledger.close();
  tmp.cleanup();
});

const claim = (demand = 10): LimitClaim[] => [{ key: 'account:sms', windowMs: 1000, capacity: 10, demand }];

describe('the limits store', () => {
  /** Each holder syncs every 50 ms from `from` to `to`, as processes do. */
  function syncAll(store: SqliteLimitsStore, holders: string[], from: number, to: number): void {
    for (let t = from; t <= to; t += 50) for (const h of holders) store.sync(h, claim(), t);
  }
  const share = (store: SqliteLimitsStore, holder: string, at: number) => store.sync(holder, claim(), at).shares.get('account:sms')!.share;

  it('a holder that leaves with its window known frees what has left at once', () => {
    const store = new SqliteLimitsStore(ledger);
    syncAll(store, ['a'], 0, 1950);
    // b joins at 2000: a is lowered to 5 (held, then fading), b waits and is told when the fade starts.
    expect(share(store, 'b', 2000)).toBe(0);
    expect(share(store, 'a', 2000)).toBe(5);
    const b = store.sync('b', claim(), 2000);
    expect(b.shares.get('account:sms')!.share).toBe(0);
    expect(b.moreRoomAt).toBe(2000 + SLACK_MS);
    expect(share(store, 'b', 2000 + SLACK_MS)).toBeGreaterThan(0);
    syncAll(store, ['a', 'b'], 2150, 4000);
    expect(share(store, 'b', 4000)).toBe(5);
    // a stops with 2 units still in its window (leaving at 4,010 and 4,020): b raises at once, ramping
    // to nearly all of it as they leave (without the window, `lowered`: nothing more until 4,100).
    store.leave('a', 4000, new Map([['account:sms', [[4010, 1], [4020, 1]] as [number, number][]]]));
    const raised = store.sync('b', claim(), 4000).shares.get('account:sms')!;
    expect(raised.share).toBeGreaterThan(9.9);
    for (let t = 4000; t <= 5200; t += 5) expect(reserved(raised, t) + (t < 4010 ? 2 : t < 4020 ? 1 : 0)).toBeLessThanOrEqual(10 + 1e-9);
  });

  it('a holder that leaves without a known window keeps its share for the slack; the other looks again then', () => {
    const store = new SqliteLimitsStore(ledger);
    syncAll(store, ['a'], 0, 1950);
    syncAll(store, ['b', 'a'], 2000, 4000);
    expect(share(store, 'b', 4000)).toBe(5);
    store.leave('a', 4000);
    const b = store.sync('b', claim(), 4050);
    expect(b.shares.get('account:sms')!.share).toBe(5);
    expect(b.moreRoomAt).toBe(4000 + SLACK_MS);
    expect(share(store, 'b', 4000 + SLACK_MS)).toBe(10);
  });

  it('SharedLimits, closing, tells the store what its run gate still counts', { timeout: 20_000 }, async () => {
    const spec = await loadJobSpec(writeJob(tmp.dir, 'j', 1, '415', '+14155550101'));
    const model = limitModel(spec, undefined, false);
    const key = model.account.key;
    const store = new SqliteLimitsStore(ledger);
    const limits = new SharedLimits({ store, holder: 'a', model, now: () => Date.now() });
    const gate = new RateGate({ ratePerSecond: model.runCeiling });
    limits.runGate(gate);
    limits.start();
    let counted: [number, number][] | undefined;
    let closedAt = 0;
    try {
      // a paces alone for longer than its ramp (a window): settled at the whole limit, its window full.
      const until = performance.now() + 1300;
      while (performance.now() < until) {
        const p = await gate.take();
        expect(await claimWire([p])).toBe(true);
        p.done();
      }
    } finally {
      counted = gate.leaving(model.account.windowMs);
      closedAt = Date.now();
      limits.close();
    }
    const now = Date.now();
    const b = store.sync('b', [{ key, windowMs: model.account.windowMs, capacity: model.account.capacity, demand: model.account.capacity }], now);
    // a reserves what its window counts, fading from when its oldest units leave (not its whole share
    // held for the slack, as without it): b is told to look again then, and finds room.
    const left = connectionOf(ledger).prepare(`SELECT share, peak, peak_until AS peakUntil FROM limit_shares WHERE holder = 'a'`).get() as Record<string, number>;
    expect(counted!.length).toBeGreaterThan(10);
    expect(left).toMatchObject({ share: 0, peak: counted!.length });
    // The fade starts as late as the slowest unit needs: with k of n left, n × (1 − (at − start) / window) ≥ k.
    const n = counted!.length;
    const start = Math.max(0, ...counted!.map(([ms], i) => ms - model.account.windowMs * (i / n)));
    expect(Math.abs(left.peakUntil! - model.account.windowMs - (closedAt + 1 + start))).toBeLessThanOrEqual(2);
    const at = b.moreRoomAt ?? now;
    expect(at).toBeLessThan(now + SLACK_MS);
    const later = store.sync('b', [{ key, windowMs: model.account.windowMs, capacity: model.account.capacity, demand: model.account.capacity }], Math.ceil(at) + 1);
    expect(later.shares.get(key)!.share).toBeGreaterThan(0);
  });
});
