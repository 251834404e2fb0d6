/**
 * One leader among the schedule daemons on a ledger (in-process daemons, a real SQLite ledger file, the
 * simulator on 127.0.0.1): only the leader fires, a clean stop hands the lease over at once, and a leader
 * that cannot renew its lease stops firing new slots while its run goes on, until the standby takes over.
 */
import { describe, expect, it } from 'vitest';
import { SqliteLeaderStore, leaderStoreOf, type LeaderStore, type LeaseHolder } from '../../src/ledger/leader-store.js';
import type { Ledger } from '../../src/ledger/ledger.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';
import { runStoreOf } from '../../src/ledger/run-store.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';
import { createSchedulerMetrics } from '../../src/metrics/scheduler-metrics.js';
import { logSink, recipients, useSchedulerEnv, waitFor, writeJob } from './scheduler-support.js';

const env = useSchedulerEnv(31);

/** The ledger's own lease store, whose calls fail while `cut` is set: a leader that lost the ledger. */
class CuttableLeaderStore implements LeaderStore {
  cut = false;
  readonly #inner: SqliteLeaderStore;
  constructor(inner: SqliteLeaderStore) {
    this.#inner = inner;
  }
  #check(): void {
    if (this.cut) throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
  }
  acquire(daemonId: string, ttlMs: number, now: number): LeaseHolder | undefined {
    this.#check();
    return this.#inner.acquire(daemonId, ttlMs, now);
  }
  takeOver(from: string, daemonId: string, ttlMs: number, now: number): boolean {
    this.#check();
    return this.#inner.takeOver(from, daemonId, ttlMs, now);
  }
  release(daemonId: string): boolean {
    this.#check();
    return this.#inner.release(daemonId);
  }
  holder(now: number): LeaseHolder | undefined {
    return this.#inner.holder(now);
  }
}

const runsPerSlot = (job: string) => {
  const runs = runStoreOf(env.ledger).listRuns().filter((r) => r.jobName === job && r.trigger === 'schedule');
  const per = new Map<string, number>();
  for (const r of runs) per.set(r.slot!, (per.get(r.slot!) ?? 0) + 1);
  return { runs, per };
};

async function leaderGauge(daemon: Parameters<typeof createSchedulerMetrics>[1]): Promise<string | undefined> {
  const registry = createMetricsRegistry();
  createSchedulerMetrics(registry, daemon);
  return (await registry.metrics()).split('\n').find((l) => l.startsWith('bulktext_scheduler_leader '));
}

describe('leader among schedule daemons', { timeout: 60_000 }, () => {
  it('only the leader fires; the standby is healthy and says so; a clean stop hands the lease over at once', async () => {
    writeJob(env, 'tick', { cron: '*/1 * * * * *', rows: 1 });
    const logA = logSink();
    const logB = logSink();
    const a = await env.daemon(logA, { leaseMs: 2000 });
    const b = await env.daemon(logB, { leaseMs: 2000 });
    await waitFor('a run by the first daemon', () => env.store.slots('tick').some((s) => s.runId !== null));
    expect(a.leading()).toBe(true);
    expect(b.leading()).toBe(false);
    expect(b.health()).toMatchObject({ ok: true, detail: { leader: false } });
    expect(a.health()).toMatchObject({ ok: true, detail: { leader: true } });
    expect(await leaderGauge(a)).toBe('bulktext_scheduler_leader 1');
    expect(await leaderGauge(b)).toBe('bulktext_scheduler_leader 0');
    expect(b.nextFirings()[0]!.next).toBeGreaterThan(Date.now() - 1000);

    await a.stop();
    const stoppedAt = Date.now();
    // Released: the standby takes it at its next attempt (every 400 ms here), not after the lease's 2 s.
    expect(leaderStoreOf(env.ledger).holder(Date.now())).toBeUndefined();
    await waitFor('the standby to lead', () => b.leading());
    const next = await waitFor('a slot fired by the new leader', () => env.store.slots('tick').find((s) => s.daemonId === b.daemonId && s.runId !== null));
    await waitFor('its run to complete', () => runStoreOf(env.ledger).getRun(next.runId!).state === 'completed');
    await b.stop();

    expect(logB.text()).toContain(`scheduler ${b.daemonId} leads (taking over from scheduler ${a.daemonId})`);
    const slots = env.store.slots('tick');
    expect(new Set(slots.map((s) => s.daemonId))).toEqual(new Set([a.daemonId, b.daemonId]));
    // Each daemon fired only while it led.
    for (const s of slots) if (s.daemonId === b.daemonId) expect(s.recordedAt).toBeGreaterThanOrEqual(stoppedAt);
    const { per } = runsPerSlot('tick');
    expect([...per.values()].every((n) => n === 1)).toBe(true);
    expect(env.sim.messages.count()).toBe(per.size);
  });

  it('a leader that cannot renew its lease fires no new slot and its run goes on; the standby leads once the lease has run out', async () => {
    // 8 rows at 2/s: the run outlives the lease.
    writeJob(env, 'slow', { cron: '*/1 * * * * *', rows: 8, rate: 2 });
    const cuttable: CuttableLeaderStore[] = [];
    const logA = logSink();
    const a = await env.daemon(logA, {
      leaseMs: 1500,
      leaderStore: (ledger: Ledger) => {
        const s = new CuttableLeaderStore(new SqliteLeaderStore(ledger));
        cuttable.push(s);
        return s;
      },
    });
    const first = await waitFor('the leader to start a run', () => env.store.slots('slow').find((s) => s.runId !== null));
    const logB = logSink();
    const b = await env.daemon(logB, { leaseMs: 1500 });
    expect(b.leading()).toBe(false);

    cuttable[0]!.cut = true;
    await waitFor('the cut leader to stop leading', () => !a.leading(), 5000);
    const lostAt = Date.now();
    await waitFor('the standby to lead', () => b.leading(), 10_000);
    // The old leader's run was not killed: it completes, every row sent once.
    await waitFor('the first run to complete', () => runStoreOf(env.ledger).getRun(first.runId!).state === 'completed', 20_000);
    const rid = runStoreOf(env.ledger).getRun(first.runId!).rid;
    expect(messageStoreOf(env.ledger).counts(rid)).toMatchObject({ sent: 8, unknown: 0, pending: 0 });
    // The new leader fires the job's next slots (skipping those that came while that run still went on).
    await waitFor('a slot fired by the new leader', () => env.store.slots('slow').find((s) => s.daemonId === b.daemonId && s.runId !== null), 20_000);
    await Promise.all([a.stop(), b.stop()]);

    expect(logA.text()).toMatch(/no longer leads \(the ledger did not answer before the lease ran out\): it fires no new slots; runs under way go on \(slow\)/);
    // Nothing was claimed by the old leader after it knew it had lost the lease.
    expect(env.store.slots('slow').filter((s) => s.daemonId === a.daemonId && s.recordedAt > lostAt)).toEqual([]);
    const { per } = runsPerSlot('slow');
    expect([...per.values()].every((n) => n === 1)).toBe(true);
    for (const to of recipients(8)) expect(env.sim.messages.byRecipient(to).length).toBe(per.size);
  });
});
