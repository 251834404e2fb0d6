/**
 * Slots that fell due while no scheduler was running: the latest runs on start when it is within
 * `catch_up`, everything else is recorded `missed`. An injected clock puts "now" 30 s after the top
 * of an hour, so an hourly job's downtime can be tested without waiting hours.
 */
import { describe, expect, it } from 'vitest';
import type { Scheduler } from '../../src/scheduler/daemon.js';
import { logSink, useSchedulerEnv, waitFor, writeJob } from './scheduler-support.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';
import { runStoreOf } from '../../src/ledger/run-store.js';

const env = useSchedulerEnv(3);

/** A clock that reads `at` now and runs at real speed from there. */
function clockAt(at: string): () => number {
  const base = Date.parse(at);
  const t0 = Date.now();
  return () => base + (Date.now() - t0);
}

const start = (now: () => number, log = logSink()): Promise<Scheduler> => env.daemon(log, { now });

describe('missed slots', () => {
  it('runs the latest slot on start when it is within catch_up, and records older ones as missed', async () => {
    // Every hour on the hour (6-field form, seconds first).
    writeJob(env, 'hourly', { cron: '0 0 * * * *', rows: 2, catchUp: '1m' });
    // The scheduler last looked at 07:30; it comes back at 10:00:30.
    env.store.recordChecked('hourly', Date.parse('2026-03-01T07:30:00Z'), [], 'an-earlier-daemon', Date.parse('2026-03-01T07:30:00Z'));
    const log = logSink();
    const d = await start(clockAt('2026-03-01T10:00:30Z'), log);
    await waitFor('the caught-up run', () => env.store.slot('hourly', '2026-03-01T10:00:00.000Z')?.runId ?? undefined);
    await d.idle();

    const slots = env.store.slots('hourly');
    expect(slots.map((s) => [s.slot, s.state])).toEqual([
      ['2026-03-01T08:00:00.000Z', 'missed'],
      ['2026-03-01T09:00:00.000Z', 'missed'],
      ['2026-03-01T10:00:00.000Z', 'started'],
    ]);
    expect(slots[0]!.reason).toMatch(/did not look between 2026-03-01T07:30:00.000Z and 2026-03-01T10:00:3\d.\d+Z; only the latest slot due may catch up/);
    const run = runStoreOf(env.ledger).getRun(slots[2]!.runId!);
    expect(run).toMatchObject({ state: 'completed', trigger: 'schedule', slot: '2026-03-01T10:00:00.000Z' });
    expect(messageStoreOf(env.ledger).counts(run.rid).sent).toBe(2);
    expect(env.sim.messages.count()).toBe(2);
    // 30 s late: the log says so.
    expect(log.text()).toMatch(/job hourly slot 2026-03-01T10:00:00.000Z: firing \(30s late\)/);
    expect(d.nextFirings()[0]!.next).toBe(Date.parse('2026-03-01T11:00:00Z'));
    // The last-checked time moved to the daemon's "now", so another restart would not look again.
    expect(env.store.lastChecked('hourly')).toBeGreaterThanOrEqual(Date.parse('2026-03-01T10:00:30Z'));
  });

  it('records the latest slot as missed when it is more than catch_up late, and runs nothing', async () => {
    writeJob(env, 'hourly', { cron: '0 0 * * * *', rows: 2, catchUp: '10s' });
    env.store.recordChecked('hourly', Date.parse('2026-03-01T09:30:00Z'), [], 'an-earlier-daemon', Date.parse('2026-03-01T09:30:00Z'));
    const log = logSink();
    const d = await start(clockAt('2026-03-01T10:00:30Z'), log);
    await d.idle();

    const slots = env.store.slots('hourly');
    expect(slots).toHaveLength(1);
    expect(slots[0]).toMatchObject({ slot: '2026-03-01T10:00:00.000Z', state: 'missed', runId: null });
    expect(slots[0]!.reason).toMatch(/at 30s late this slot is more than catch_up \(10s\) late/);
    expect(runStoreOf(env.ledger).listRuns()).toEqual([]);
    expect(env.sim.messages.count()).toBe(0);
    expect(log.text()).toMatch(/warn job hourly: 1 slot\(s\) missed \(2026-03-01T10:00:00.000Z\)/);
    expect(d.nextFirings()[0]!.next).toBe(Date.parse('2026-03-01T11:00:00Z'));
  });

  it('a job the ledger has never seen starts from now: no history to catch up on', async () => {
    writeJob(env, 'fresh', { cron: '0 0 * * * *', rows: 1, catchUp: '1h' });
    const d = await start(clockAt('2026-03-01T10:00:30Z'));
    await d.idle();
    expect(env.store.slots('fresh')).toEqual([]);
    expect(runStoreOf(env.ledger).listRuns()).toEqual([]);
    expect(env.store.lastChecked('fresh')).toBeGreaterThanOrEqual(Date.parse('2026-03-01T10:00:30Z'));
  });

  it('runs, once, a slot a previous daemon claimed and died before starting, even when the saved last-checked time is older', async () => {
    writeJob(env, 'hourly', { cron: '0 0 * * * *', rows: 1, catchUp: '1m' });
    // As if a daemon claimed 10:00 and died before it could move last-checked past it, or start the run.
    env.store.recordChecked('hourly', Date.parse('2026-03-01T09:59:00Z'), [], 'dead', Date.parse('2026-03-01T09:59:00Z'));
    env.store.registerDaemon({ daemonId: 'dead', pid: 2 ** 22 + 17, host: 'elsewhere.invalid' }, Date.parse('2026-03-01T09:59:00Z'));
    env.store.claim('hourly', '2026-03-01T10:00:00.000Z', 'dead', Date.parse('2026-03-01T10:00:00Z'), () => undefined);
    const log = logSink();
    const d = await start(clockAt('2026-03-01T10:00:20Z'), log);
    await d.idle();
    // Recovered by this daemon (within catch_up), and the schedule's own check does not fire it a second time.
    expect(env.store.slots('hourly')).toHaveLength(1);
    const slot = env.store.slot('hourly', '2026-03-01T10:00:00.000Z')!;
    expect(slot).toMatchObject({ state: 'started', daemonId: d.daemonId });
    expect(runStoreOf(env.ledger).listRuns().map((r) => r.runId)).toEqual([slot.runId]);
    expect(log.text()).toContain("job hourly slot 2026-03-01T10:00:00.000Z: claimed by scheduler dead at 2026-03-01T10:00:00.000Z, which stopped before the slot's run began; running it now");
    expect(log.text()).toContain('job hourly slot 2026-03-01T10:00:00.000Z: already started by this scheduler; not running it again');
  });

  it('a slot still held by a live scheduler elsewhere makes the next slot skipped; one held by a dead scheduler does not', async () => {
    writeJob(env, 'hourly', { cron: '0 0 * * * *', rows: 1, catchUp: '1m' });
    writeJob(env, 'other', { cron: '0 0 * * * *', rows: 1, catchUp: '1m', base: 2000 });
    const t = Date.parse('2026-03-01T09:59:00Z');
    for (const job of ['hourly', 'other']) env.store.recordChecked(job, t, [], 'seed', t);
    // Another host's daemon with a fresh heartbeat is working on hourly's 09:00 slot.
    env.store.registerDaemon({ daemonId: 'alive-elsewhere', pid: 4242, host: 'other-host.invalid' }, Date.now());
    env.store.claim('hourly', '2026-03-01T09:00:00.000Z', 'alive-elsewhere', t, () => undefined);
    // A daemon on another host whose heartbeat stopped 10 minutes ago held other's 09:00 slot.
    env.store.registerDaemon({ daemonId: 'gone', pid: 4343, host: 'other-host.invalid' }, Date.now() - 600_000);
    env.store.claim('other', '2026-03-01T09:00:00.000Z', 'gone', t, () => undefined);

    const d = await start(clockAt('2026-03-01T10:00:05Z'));
    await waitFor('other to run', () => env.store.slot('other', '2026-03-01T10:00:00.000Z')?.runId ?? undefined);
    await d.idle();
    expect(env.store.slot('hourly', '2026-03-01T10:00:00.000Z')).toMatchObject({
      state: 'skipped',
      reason: 'slot 2026-03-01T09:00:00.000Z is still being run by another scheduler (pid 4242 on other-host.invalid)',
    });
    expect(env.store.slot('other', '2026-03-01T10:00:00.000Z')).toMatchObject({ state: 'started' });
    expect(runStoreOf(env.ledger).listRuns().map((r) => r.jobName)).toEqual(['other']);
  });
});
