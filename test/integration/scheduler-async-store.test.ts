/**
 * The scheduler daemon over a slot store that answers with Promises (as PostgreSQL will): the real SQLite
 * store behind a timer round trip (test/helpers/async-slot-store.ts), runs sent to the in-process
 * simulator. Exactly once per slot and catch-up behave as they do over the synchronous store.
 */
import { describe, expect, it } from 'vitest';
import type { Ledger } from '../../src/ledger/ledger.js';
import { slotStoreOf } from '../../src/ledger/slot-store.js';
import { AsyncSlotStore } from '../helpers/async-slot-store.js';
import { logSink, recipients, useSchedulerEnv, waitFor, writeJob, type LogSink } from './scheduler-support.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';
import { runStoreOf, type RunRecord } from '../../src/ledger/run-store.js';

const env = useSchedulerEnv(11);

const scheduledRuns = (job: string): RunRecord[] => runStoreOf(env.ledger).listRuns().filter((r) => r.jobName === job && r.trigger === 'schedule');

/** A daemon whose slot store answers each call after a real asynchronous round trip. */
async function asyncDaemon(log: LogSink, now?: () => number) {
  const stores: AsyncSlotStore[] = [];
  const slotStore = (ledger: Ledger) => {
    const store = new AsyncSlotStore(slotStoreOf(ledger), 2);
    stores.push(store);
    return store;
  };
  const daemon = await env.daemon(log, { slotStore, ...(now === undefined ? {} : { now }) });
  return { daemon, calls: () => stores.reduce((n, s) => n + s.calls, 0) };
}

describe('the scheduler over an asynchronous slot store', () => {
  it('two daemons on one ledger run each slot once between them', { timeout: 60_000 }, async () => {
    writeJob(env, 'shared', { cron: '*/1 * * * * *', rows: 2 });
    const logA = logSink();
    const logB = logSink();
    const [a, b] = await Promise.all([asyncDaemon(logA), asyncDaemon(logB)]);
    await waitFor('four runs completed', () => scheduledRuns('shared').filter((r) => r.state === 'completed').length >= 4, 30_000);
    expect([a.daemon.leading(), b.daemon.leading()].sort()).toEqual([false, true]);
    const [leader, standby] = a.daemon.leading() ? [a.daemon, b.daemon] : [b.daemon, a.daemon];
    await Promise.all([a.daemon.stop(), b.daemon.stop()]);

    expect(a.calls()).toBeGreaterThan(0);
    expect(b.calls()).toBeGreaterThan(0);
    const started = env.store.slots('shared').filter((s) => s.state === 'started');
    const runs = scheduledRuns('shared');
    // One run per started slot, and no slot with two.
    expect(runs.map((r) => r.slot).sort()).toEqual(started.map((s) => s.slot).sort());
    expect(new Set(runs.map((r) => r.slot)).size).toBe(runs.length);
    for (const s of started) expect(s.finishedAt).not.toBeNull();
    // Only the leader fired; the standby still went through its store (registering, beating, reading).
    expect(new Set(env.store.slots('shared').map((s) => s.daemonId))).toEqual(new Set([leader.daemonId]));
    expect(`${logA.text()}\n${logB.text()}`).toContain(`scheduler ${standby.daemonId} stands by: scheduler ${leader.daemonId} leads`);
    const sent = runs.reduce((n, r) => n + messageStoreOf(env.ledger).counts(r.rid).sent, 0);
    expect(sent).toBe(env.sim.messages.count());
    for (const to of recipients(2)) expect(env.sim.messages.byRecipient(to).length).toBeLessThanOrEqual(started.length);
    // Both daemons recorded their stop through the store.
    expect(env.store.daemon(a.daemon.daemonId)?.stoppedAt).not.toBeNull();
    expect(env.store.daemon(b.daemon.daemonId)?.stoppedAt).not.toBeNull();
  });

  it('on start, runs the latest slot within catch_up and records older ones as missed', { timeout: 30_000 }, async () => {
    writeJob(env, 'hourly', { cron: '0 0 * * * *', rows: 2, catchUp: '1m' });
    env.store.recordChecked('hourly', Date.parse('2026-03-01T07:30:00Z'), [], 'an-earlier-daemon', Date.parse('2026-03-01T07:30:00Z'));
    const base = Date.parse('2026-03-01T10:00:30Z');
    const t0 = Date.now();
    const log = logSink();
    const { daemon } = await asyncDaemon(log, () => base + (Date.now() - t0));
    await waitFor('the caught-up run', () => env.store.slot('hourly', '2026-03-01T10:00:00.000Z')?.runId ?? undefined);
    await daemon.idle();

    expect(env.store.slots('hourly').map((s) => [s.slot, s.state])).toEqual([
      ['2026-03-01T08:00:00.000Z', 'missed'],
      ['2026-03-01T09:00:00.000Z', 'missed'],
      ['2026-03-01T10:00:00.000Z', 'started'],
    ]);
    const run = runStoreOf(env.ledger).getRun(env.store.slot('hourly', '2026-03-01T10:00:00.000Z')!.runId!);
    expect(run).toMatchObject({ state: 'completed', trigger: 'schedule' });
    expect(env.sim.messages.count()).toBe(2);
    expect(log.text()).toMatch(/job hourly slot 2026-03-01T10:00:00.000Z: firing \(30s late\)/);
    expect(log.text()).toMatch(/warn job hourly: 2 slot\(s\) missed/);
    expect(daemon.nextFirings()[0]!.next).toBe(Date.parse('2026-03-01T11:00:00Z'));
    expect(env.store.lastChecked('hourly')).toBeGreaterThanOrEqual(base);
  });
});
