/**
 * The scheduler daemon against the in-process simulator and a real temp ledger, with seconds-level
 * cron: slots fire with exactly one run each, a job never overlaps itself, a restart or a second
 * daemon on the same ledger never repeats a slot.
 */
import { describe, expect, it } from 'vitest';
import { addSuppression } from '../../src/campaign/suppressions.js';
import type { RunRecord } from '../../src/ledger/run-store.js';
import type { SlotRecord } from '../../src/ledger/slot-store.js';
import { logSink, recipients, useSchedulerEnv, waitFor, writeJob } from './scheduler-support.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';
import { runStoreOf } from '../../src/ledger/run-store.js';

const env = useSchedulerEnv(7);

const started = (job: string): SlotRecord[] => env.store.slots(job).filter((s) => s.state === 'started');
const scheduledRuns = (job: string): RunRecord[] =>
  runStoreOf(env.ledger).listRuns().filter((r) => r.jobName === job && r.trigger === 'schedule').reverse();

const sentInLedger = (): number => runStoreOf(env.ledger).listRuns().reduce((n, r) => n + messageStoreOf(env.ledger).counts(r.rid).sent, 0);

/** Runs per slot: the ledger's runs table has no unique slot, so this is where a repeat would show. */
function runsPerSlot(job: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of scheduledRuns(job)) m.set(r.slot ?? 'null', (m.get(r.slot ?? 'null') ?? 0) + 1);
  return m;
}

describe('scheduler daemon', () => {
  it('fires each slot once, with one run per slot, recorded with its trigger and slot', async () => {
    writeJob(env, 'every2s', { cron: '*/2 * * * * *', rows: 2 });
    const log = logSink();
    const d = await env.daemon(log);
    const firstNext = d.nextFirings()[0]!.next!;
    expect(firstNext % 2000).toBe(0);
    expect(firstNext).toBeGreaterThan(Date.now() - 50);
    await waitFor('three runs completed', () => scheduledRuns('every2s').filter((r) => r.state === 'completed').length >= 3);
    await d.stop();

    const all = env.store.slots('every2s');
    const slots = started('every2s');
    const runs = scheduledRuns('every2s');
    expect(slots.length).toBeGreaterThanOrEqual(3);
    // Every run belongs to exactly one started slot and the other way round.
    expect(runs.map((r) => r.slot).sort()).toEqual(slots.map((s) => s.slot).sort());
    expect([...runsPerSlot('every2s').values()].every((n) => n === 1)).toBe(true);
    for (const s of slots) {
      expect(s.finishedAt).not.toBeNull();
      expect(runStoreOf(env.ledger).getRun(s.runId!)).toMatchObject({ trigger: 'schedule', slot: s.slot, sandbox: true });
    }
    // Every slot from the first on is recorded, 2 s apart: none lost. A slot is only ever skipped
    // because the run before it was still going (a loaded machine) or the stop came first.
    const times = all.map((s) => Date.parse(s.slot));
    expect(times[0]).toBe(firstNext);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(2000);
    for (const s of all.filter((x) => x.state !== 'started')) {
      expect(s.state).toBe('skipped');
      expect(s.reason).toMatch(/is still going|the scheduler stopped/);
    }
    // Every message the simulator accepted is one row the ledger records as sent: nothing twice.
    expect(sentInLedger()).toBe(env.sim.messages.count());
    for (const to of recipients(2)) expect(env.sim.messages.byRecipient(to).length).toBeGreaterThanOrEqual(3);
    expect(log.text()).toMatch(/job every2s slot \S+: run \S+ completed in [\d.]+s: sent 2 · failed 0 · unknown 0 · skipped 0/);
  });

  it('skips the numbers in the ledger’s suppression list while reading the source, as `run` does', async () => {
    writeJob(env, 'optout', { cron: '*/2 * * * * *', rows: 3 });
    const stopped = recipients(3)[1]!;
    addSuppression(env.ledger, stopped, 'stop_reply', 'replied STOP');
    const log = logSink();
    const d = await env.daemon(log);
    const run = await waitFor('a completed run', () => scheduledRuns('optout').find((r) => r.state === 'completed'));
    await d.stop();
    const row = [...messageStoreOf(env.ledger).messages(run.rid)].find((m) => m.to === stopped);
    // Skipped at ingest (the suppression's own detail), not at send time ("opted out after the run began").
    expect(row).toMatchObject({ status: 'skipped', errorCode: 'suppressed' });
    expect(row?.errorDetail).not.toMatch(/after the run began/);
    expect(env.sim.messages.byRecipient(stopped)).toEqual([]);
  });

  it('never overlaps a job with itself: a slot that comes while the previous run is going is skipped with the reason', async () => {
    // 8 rows at 2 msg/s take ~3.5 s, longer than the 2 s between slots.
    writeJob(env, 'slow', { cron: '*/2 * * * * *', rows: 8, rate: 2 });
    const log = logSink();
    const d = await env.daemon(log);
    const skipped = await waitFor('a skipped slot', () => env.store.slots('slow').find((s) => s.state === 'skipped'));
    expect(skipped.reason).toMatch(/^the previous run \d{8}-\d{6}-\w+ \(slot \S+\) is still going$/);
    expect(skipped.runId).toBeNull();
    await waitFor('the first run to complete', () => scheduledRuns('slow')[0]?.state === 'completed');
    await d.stop();

    const runs = scheduledRuns('slow');
    for (let i = 1; i < runs.length; i++) {
      // Each run starts only after the one before it has finished.
      expect(runs[i]!.startedAt).toBeGreaterThanOrEqual(runs[i - 1]!.finishedAt ?? Number.POSITIVE_INFINITY);
    }
    expect(log.text()).toContain(`job slow slot ${skipped.slot}: skipped: the previous run`);
    expect([...runsPerSlot('slow').values()].every((n) => n === 1)).toBe(true);
    // Every message the simulator accepted is one row the ledger records as sent: nothing twice.
    expect(sentInLedger()).toBe(env.sim.messages.count());
  });

  it('a restarted daemon does not repeat a slot', async () => {
    writeJob(env, 'restart', { cron: '*/1 * * * * *', rows: 1 });
    const first = await env.daemon();
    await waitFor('two runs completed by the first daemon', () => scheduledRuns('restart').filter((r) => r.state === 'completed').length >= 2);
    await first.stop();
    const before = started('restart').map((s) => s.slot);
    const lastBefore = before.at(-1)!;

    const second = await env.daemon();
    await waitFor('two slots run by the second daemon', () => started('restart').filter((s) => s.slot > lastBefore && s.runId !== null).length >= 2 && true);
    await second.stop();

    const after = started('restart');
    // The first daemon's slots are untouched and each slot (old and new) has exactly one run.
    expect(after.slice(0, before.length).map((s) => s.slot)).toEqual(before);
    expect([...runsPerSlot('restart').values()].every((n) => n === 1)).toBe(true);
    expect(scheduledRuns('restart').length).toBe(after.length);
    // Each daemon's slots are marked with its own id.
    const byDaemon = new Set(after.map((s) => s.daemonId));
    expect(byDaemon).toEqual(new Set([first.daemonId, second.daemonId]));
  });

  it('two daemons on one ledger run each slot once between them', { timeout: 60_000 }, async () => {
    writeJob(env, 'shared', { cron: '*/1 * * * * *', rows: 2 });
    const logA = logSink();
    const logB = logSink();
    const [a, b] = await Promise.all([env.daemon(logA), env.daemon(logB)]);
    await waitFor('four runs completed', () => scheduledRuns('shared').filter((r) => r.state === 'completed').length >= 4, 30_000);
    // One leads and fires every slot; the other stands by.
    expect([a.leading(), b.leading()].sort()).toEqual([false, true]);
    const [leader, standby] = a.leading() ? [a, b] : [b, a];
    await Promise.all([a.stop(), b.stop()]);

    const slots = started('shared');
    expect([...runsPerSlot('shared').values()].every((n) => n === 1)).toBe(true);
    expect(scheduledRuns('shared').length).toBe(slots.length);
    expect(new Set(env.store.slots('shared').map((s) => s.daemonId))).toEqual(new Set([leader.daemonId]));
    expect(`${logA.text()}\n${logB.text()}`).toContain(`scheduler ${standby.daemonId} stands by: scheduler ${leader.daemonId} leads`);
    expect(sentInLedger()).toBe(env.sim.messages.count());
    // A recipient gets at most one text per run.
    for (const to of recipients(2)) expect(env.sim.messages.byRecipient(to).length).toBeLessThanOrEqual(slots.length);
  });
});
