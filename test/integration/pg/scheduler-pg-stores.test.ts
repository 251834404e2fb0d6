/**
 * Two in-process schedule daemons whose slots and leader lease live in a real PostgreSQL database of the
 * test cluster (runs stay in the SQLite ledger until `schedule --db postgres://` is wired): one leads and
 * fires every slot once; stopped, it hands the lease over and the other fires the next slots.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeaderStore } from '../../../src/ledger/leader-store.js';
import { connectPg } from '../../../src/ledger/pg/connect.js';
import { PgLeaderStore } from '../../../src/ledger/pg/leader-store.js';
import { migratePg } from '../../../src/ledger/pg/migrations.js';
import { PgSlotStore } from '../../../src/ledger/pg/slot-store.js';
import { runStoreOf } from '../../../src/ledger/run-store.js';
import { createDatabase } from '../../helpers/pg-cluster.js';
import { logSink, useSchedulerEnv, waitFor, writeJob } from '../scheduler-support.js';

const env = useSchedulerEnv(41);
let pools: pg.Pool[] = [];
let url: string;
beforeAll(async () => {
  url = await createDatabase();
  const pool = await connectPg(url, { max: 2 });
  await migratePg(pool);
  pools.push(pool);
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  pools = [];
});

/** A daemon on its own pool, as a daemon on another host would have. */
async function pgDaemon(log: ReturnType<typeof logSink>) {
  const pool = await connectPg(url, { max: 4 });
  pools.push(pool);
  return env.daemon(log, { slotStore: () => new PgSlotStore(pool), leaderStore: () => new PgLeaderStore(pool), leaseMs: 2000 });
}

describe('schedule daemons on PostgreSQL slot and lease stores', () => {
  it('one leads and fires each slot once; stopped, it hands over and the other fires the next slots', { timeout: 60_000 }, async () => {
    writeJob(env, 'pgtick', { cron: '*/1 * * * * *', rows: 1 });
    const slots = new PgSlotStore(pools[0]!);
    const leases: LeaderStore = new PgLeaderStore(pools[0]!);
    const logA = logSink();
    const logB = logSink();
    const a = await pgDaemon(logA);
    const b = await pgDaemon(logB);
    await waitFor('two runs', () => runStoreOf(env.ledger).listRuns().filter((r) => r.state === 'completed').length >= 2, 30_000);
    expect([a.leading(), b.leading()]).toEqual([true, false]);
    expect((await leases.holder(Date.now()))?.daemonId).toBe(a.daemonId);
    expect(logB.text()).toContain(`scheduler ${b.daemonId} stands by: scheduler ${a.daemonId} leads`);

    await a.stop();
    await waitFor('the other to lead', () => b.leading(), 10_000);
    let fromB = 0;
    for (let i = 0; i < 600 && fromB < 2; i++) {
      fromB = (await slots.slots('pgtick')).filter((s) => s.daemonId === b.daemonId && s.runId !== null).length;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(fromB).toBeGreaterThanOrEqual(2);
    await b.stop();
    expect(await leases.holder(Date.now())).toBeUndefined();

    const recorded = await slots.slots('pgtick');
    expect(new Set(recorded.map((s) => s.daemonId))).toEqual(new Set([a.daemonId, b.daemonId]));
    const runs = runStoreOf(env.ledger).listRuns().filter((r) => r.jobName === 'pgtick');
    // One run per started slot, and no slot with two.
    expect(runs.map((r) => r.slot).sort()).toEqual(recorded.filter((s) => s.state === 'started').map((s) => s.slot).sort());
    expect(new Set(runs.map((r) => r.slot)).size).toBe(runs.length);
    expect((await slots.daemon(a.daemonId))?.stoppedAt).not.toBeNull();
    expect(env.sim.messages.count()).toBe(runs.length);
  });
});
