/**
 * Stopping the daemon (what SIGTERM does) interrupts the current run safely: it stays resumable,
 * by `resume` or by the next daemon, which resumes it before the job's next slot.
 */
import { describe, expect, it } from 'vitest';
import { executeRun } from '../../src/campaign/execute-run.js';
import { prepareResume } from '../../src/campaign/resume-run.js';
import { publicState } from '../../src/campaign/status.js';
import { logSink, recipients, useSchedulerEnv, waitFor, writeJob } from './scheduler-support.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';
import { runStoreOf } from '../../src/ledger/run-store.js';

const env = useSchedulerEnv(11);

/** Starts a daemon on a slow job and stops it once the first run has sent two rows. */
async function interruptFirstRun(rows: number): Promise<{ runId: string; slot: string }> {
  // 2 msg/s: the run takes several seconds, so the stop lands in the middle of it.
  writeJob(env, 'slow', { cron: '*/2 * * * * *', rows, rate: 2 });
  const d = await env.daemon();
  await waitFor('two rows sent', () => env.sim.messages.count() >= 2);
  await d.stop();
  const slot = env.store.slots('slow').find((s) => s.runId !== null)!;
  return { runId: slot.runId!, slot: slot.slot };
}

describe('stopping and resuming', () => {
  it('stop interrupts the current run: interrupted, resumable, every row sent once after resume', async () => {
    const { runId, slot } = await interruptFirstRun(8);
    const run = runStoreOf(env.ledger).getRun(runId);
    expect(run.state).toBe('interrupted');
    expect(run.stopCode).toBe('interrupted');
    expect(run.ownerPid).toBeNull();
    expect(publicState(run)).toBe('interrupted');
    const counts = messageStoreOf(env.ledger).counts(run.rid);
    expect(counts.sending).toBe(0);
    expect(counts.pending).toBeGreaterThan(0);
    expect(counts.sent).toBe(env.sim.messages.count());
    // The slot is finished (no daemon holds it) and keeps its run.
    expect(env.store.slot('slow', slot)).toMatchObject({ state: 'started', runId });
    expect(env.store.slot('slow', slot)!.finishedAt).not.toBeNull();

    // `bulktext resume` does exactly this.
    const prepared = await prepareResume(env.ledger, runId);
    expect(prepared.inDoubt).toBe(0);
    const result = await executeRun(env.ledger, prepared.run, prepared.spec, { apiKey: 'k', baseUrl: env.sim.url });
    expect(result.state).toBe('completed');
    expect(messageStoreOf(env.ledger).counts(run.rid)).toMatchObject({ sent: 8, pending: 0, unknown: 0 });
    for (const to of recipients(8)) expect(env.sim.messages.byRecipient(to)).toHaveLength(1);
  });

  it('the next daemon resumes the interrupted run first, then runs its own slot', async () => {
    const { runId } = await interruptFirstRun(6);
    const sentBefore = env.sim.messages.count();
    expect(sentBefore).toBeLessThan(6);

    const log = logSink();
    const d = await env.daemon(log);
    const next = await waitFor('the next slot to start a new run', () =>
      env.store.slots('slow').find((s) => s.runId !== null && s.runId !== runId && s.state === 'started'),
    );
    await waitFor('the new run to complete', () => runStoreOf(env.ledger).getRun(next.runId!).state === 'completed');
    await d.stop();

    const resumed = runStoreOf(env.ledger).getRun(runId);
    const fresh = runStoreOf(env.ledger).getRun(next.runId!);
    expect(resumed.state).toBe('completed');
    // The resumed run finished before the new slot's run began: no overlap.
    expect(fresh.startedAt).toBeGreaterThanOrEqual(resumed.finishedAt!);
    // Each recipient: one text from the first run (before or after the stop) and one from the new run.
    for (const to of recipients(6)) expect(env.sim.messages.byRecipient(to)).toHaveLength(2);
    expect(log.text()).toMatch(new RegExp(`job slow: the previous run ${runId} \\(slot \\S+\\) is interrupted; resuming it before slot ${next.slot.replace(/\./g, '\\.')}`));
    expect(log.text()).toMatch(new RegExp(`resumed before slot \\S+\\): run ${runId} completed in`));
  });

  it('stop during a send window wait leaves the run resumable with its deferred rows', async () => {
    // A window that opens three hours from now (UTC): every row is deferred and the run waits for it;
    // stop must not wait with it.
    const hour = new Date().getUTCHours();
    const start = `${String((hour + 3) % 24).padStart(2, '0')}:00`;
    const end = `${String((hour + 4) % 24).padStart(2, '0')}:00`;
    writeJob(env, 'windowed', { cron: '*/1 * * * * *', rows: 3, extra: `window: { start: "${start}", end: "${end}", timezone: UTC }` });
    const log = logSink();
    const d = await env.daemon(log);
    const slot = await waitFor('a run', () => env.store.slots('windowed').find((s) => s.runId !== null));
    await waitFor('rows deferred', () => messageStoreOf(env.ledger).counts(runStoreOf(env.ledger).getRun(slot.runId!).rid).deferred === 3);
    // Later slots are skipped while the run waits for its window.
    await waitFor('a skipped slot', () => env.store.slots('windowed').some((s) => s.state === 'skipped'));
    const t0 = performance.now();
    await d.stop();
    expect(performance.now() - t0).toBeLessThan(5000);
    const run = runStoreOf(env.ledger).getRun(slot.runId!);
    expect(run.state).toBe('interrupted');
    expect(messageStoreOf(env.ledger).counts(run.rid)).toMatchObject({ deferred: 3, sent: 0 });
    expect(env.sim.messages.count()).toBe(0);
  });
});
