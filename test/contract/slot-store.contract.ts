/**
 * What every SlotStore must do, whatever holds the tables: declared once, run over a real SQLite file and
 * a real PostgreSQL database (test/contract/*.test.ts). Each daemon is a store on its own connection.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { SlotStore } from '../../src/ledger/slot-store.js';
import { andThen } from '../../src/shared/maybe-promise.js';
import type { ContractBackend } from './backend.js';

const S = '2026-03-01T21:00:00.000Z';
const S2 = '2026-03-01T21:01:00.000Z';

export function slotStoreContract(backend: ContractBackend<SlotStore>): void {
  let ledger: Awaited<ReturnType<ContractBackend<SlotStore>['fresh']>>;
  let a: SlotStore;
  let b: SlotStore;
  const daemons = async (n: number) => Promise.all(Array.from({ length: n }, () => ledger.open()));

  beforeEach(async () => {
    ledger = await backend.fresh();
    [a, b] = await daemons(2) as [SlotStore, SlotStore];
  });
  afterEach(async () => {
    await ledger.close();
  });

  it('a slot claimed by many daemons at once is claimed by exactly one; the others find it taken by that one', async () => {
    const stores = await daemons(8);
    const results = await Promise.all(stores.map((s, i) => s.claim('nightly', S, `d${i}`, 1000 + i, () => undefined)));
    const won = results.flatMap((r, i) => (r.kind === 'claimed' ? [`d${i}`] : []));
    expect(won).toHaveLength(1);
    for (const r of results) if (r.kind !== 'claimed') expect(r).toMatchObject({ kind: 'taken', existing: { slot: S, state: 'started', daemonId: won[0] } });
    expect(await a.slots('nightly')).toHaveLength(1);
    // Another job's slot at the same instant is its own.
    expect(await b.claim('other', S, 'B', 2, () => undefined)).toEqual({ kind: 'claimed' });
  });

  it("claims of one job's different slots are serialised: a busy check that reads the store sees the claim before it", async () => {
    const stores = await daemons(6);
    const slots = stores.map((_, i) => `2026-03-01T21:0${i}:00.000Z`);
    // Busy while another slot of the job is claimed and open: only one of these may start.
    const results = await Promise.all(
      stores.map((s, i) =>
        s.claim('nightly', slots[i]!, `d${i}`, 1000, () => andThen(s.openClaims('nightly'), (open) => (open.length > 0 ? `slot ${open[0]!.slot.slot} is open` : undefined))),
      ),
    );
    expect(results.filter((r) => r.kind === 'claimed')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'skipped')).toHaveLength(5);
  });

  it('a busy slot is recorded skipped with the reason, finished at once, and stays taken', async () => {
    expect(await a.claim('nightly', S, 'A', 5, () => 'the previous run r1 is still going')).toEqual({ kind: 'skipped', reason: 'the previous run r1 is still going' });
    expect(await b.slot('nightly', S)).toMatchObject({ state: 'skipped', reason: 'the previous run r1 is still going', finishedAt: 5, runId: null, recordedAt: 5 });
    expect((await b.claim('nightly', S, 'B', 6, () => undefined)).kind).toBe('taken');
  });

  it('reclaim moves an open claim only from the daemon named, and only once', async () => {
    await a.claim('nightly', S, 'A', 1, () => undefined);
    expect(await b.reclaim('nightly', S, 'X', 'B', 2, 'recovered')).toBe(false);
    const stores = await daemons(4);
    const took = await Promise.all(stores.map((s, i) => s.reclaim('nightly', S, 'A', `r${i}`, 3, `recovered by r${i}`)));
    expect(took.filter(Boolean)).toHaveLength(1);
    const winner = `r${took.indexOf(true)}`;
    expect(await a.slot('nightly', S)).toMatchObject({ state: 'started', daemonId: winner, reason: `recovered by ${winner}`, recordedAt: 3, finishedAt: null });
    // Finished, it is nobody's to reclaim.
    await a.finish('nightly', S, 4);
    expect(await b.reclaim('nightly', S, winner, 'B', 5, 'again')).toBe(false);
  });

  it('markMissed closes an open claim only from the daemon named; a missed slot cannot be reclaimed', async () => {
    await a.claim('nightly', S, 'A', 1, () => undefined);
    expect(await b.markMissed('nightly', S, 'X', 'B', 2, 'too late')).toBe(false);
    expect(await b.markMissed('nightly', S, 'A', 'B', 3, 'too late')).toBe(true);
    expect(await a.slot('nightly', S)).toMatchObject({ state: 'missed', reason: 'too late', daemonId: 'B', finishedAt: 3 });
    expect(await a.markMissed('nightly', S, 'B', 'A', 4, 'again')).toBe(false);
    expect(await a.reclaim('nightly', S, 'B', 'A', 4, 'recovered')).toBe(false);
    expect(await a.openClaims('nightly')).toEqual([]);
  });

  it('recordChecked records new missed slots once and never moves the checked time back', async () => {
    expect(await a.lastChecked('nightly')).toBeUndefined();
    const missed = [
      { slot: S, reason: 'down' },
      { slot: S2, reason: 'down' },
    ];
    const [n1, n2] = await Promise.all([a.recordChecked('nightly', 5000, missed, 'A', 10), b.recordChecked('nightly', 4000, missed, 'B', 11)]);
    expect(n1 + n2).toBe(2);
    expect(await a.lastChecked('nightly')).toBe(5000);
    expect(await a.recordChecked('nightly', 3000, [], 'A', 12)).toBe(0);
    expect(await b.lastChecked('nightly')).toBe(5000);
    expect((await b.slots('nightly')).map((s) => [s.slot, s.state, s.reason])).toEqual([
      [S, 'missed', 'down'],
      [S2, 'missed', 'down'],
    ]);
  });

  it('counts slots per job and state; openClaims names each open claim with its daemon', async () => {
    const me = { pid: 4242, host: 'host-a' };
    await a.registerDaemon({ daemonId: 'A', ...me }, Date.now());
    await a.claim('nightly', S, 'A', 1, () => undefined);
    await a.claim('nightly', S2, 'A', 2, () => 'busy');
    await b.claim('weekly', S, 'B', 3, () => undefined);
    await b.finish('weekly', S, 4);
    await b.recordChecked('weekly', 10, [{ slot: S2, reason: 'down' }], 'B', 5);
    const counts = (await b.slotCounts()).map((c) => `${c.job} ${c.state} ${c.count}`).sort();
    expect(counts).toEqual(['nightly skipped 1', 'nightly started 1', 'weekly missed 1', 'weekly started 1']);
    const open = await b.openClaims('nightly');
    expect(open).toHaveLength(1);
    expect(open[0]!.slot).toMatchObject({ slot: S, daemonId: 'A' });
    expect(open[0]!.daemon).toMatchObject({ daemonId: 'A', ...me, stoppedAt: null });
    expect(await b.openClaims('weekly')).toEqual([]);
  });

  it('a daemon registered, beating and stopped: its heartbeat is fresh on this clock until it stops', async () => {
    await a.registerDaemon({ daemonId: 'A', pid: 1, host: 'h' }, Date.now());
    await a.heartbeat('A', Date.now());
    const seen = await b.daemon('A');
    expect(seen).toMatchObject({ daemonId: 'A', pid: 1, host: 'h', stoppedAt: null });
    expect(Math.abs(Date.now() - seen!.heartbeatAt)).toBeLessThan(5000);
    await a.markDaemonStopped('A', Date.now());
    expect((await b.daemon('A'))!.stoppedAt).not.toBeNull();
    expect(await b.daemon('nobody')).toBeUndefined();
  });

  it('setRun links a claimed slot to its run', async () => {
    await a.claim('nightly', S, 'A', 1, () => undefined);
    await a.setRun('nightly', S, 'run-1');
    expect(await b.slot('nightly', S)).toMatchObject({ runId: 'run-1', state: 'started' });
    expect((await b.openClaims('nightly'))[0]!.slot.runId).toBe('run-1');
  });
}
