/**
 * Stopping the daemon (what SIGTERM does) interrupts the current run safely: it stays resumable,
 * by `resume` or by the next daemon, which resumes it before the job's next slot.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { executeRun } from '../../src/campaign/execute-run.js';
import { prepareResume } from '../../src/campaign/resume-run.js';
import { publicState } from '../../src/campaign/status.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { startScheduler, type Scheduler } from '../../src/scheduler/daemon.js';
import { SlotStore } from '../../src/scheduler/slot-store.js';
import { startSimulator, type InProcessSimulator } from '../../src/telnyx/simulator/index.js';
import { fixture, logSink, recipients, waitFor, writeJob, type Fixture } from './scheduler-support.js';

let f: Fixture;
let sim: InProcessSimulator;
let ledger: Ledger;
let store: SlotStore;
const daemons: Scheduler[] = [];

beforeEach(async () => {
  f = fixture();
  sim = await startSimulator({ seed: 11 });
  ledger = new Ledger(f.dbPath);
  store = new SlotStore(ledger);
});

afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop()));
  ledger.close();
  await sim.close();
  f.cleanup();
});

async function daemon(log = logSink()): Promise<Scheduler> {
  const d = await startScheduler({
    jobsDir: f.jobsDir,
    ledger: f.dbPath,
    api: { apiKey: 'k', baseUrl: sim.url, sandbox: true },
    onLog: log.onLog,
    watch: false,
  });
  daemons.push(d);
  return d;
}

/** Starts a daemon on a slow job and stops it once the first run has sent two rows. */
async function interruptFirstRun(rows: number): Promise<{ runId: string; slot: string }> {
  // 2 msg/s: the run takes several seconds, so the stop lands in the middle of it.
  writeJob(f, 'slow', { cron: '*/2 * * * * *', rows, rate: 2 });
  const d = await daemon();
  await waitFor('two rows sent', () => sim.messages.count() >= 2);
  await d.stop();
  const slot = store.slots('slow').find((s) => s.runId !== null)!;
  return { runId: slot.runId!, slot: slot.slot };
}

describe('stopping and resuming', () => {
  it('stop interrupts the current run: interrupted, resumable, every row sent once after resume', async () => {
    const { runId, slot } = await interruptFirstRun(8);
    const run = ledger.getRun(runId);
    expect(run.state).toBe('interrupted');
    expect(run.stopCode).toBe('interrupted');
    expect(run.ownerPid).toBeNull();
    expect(publicState(run)).toBe('interrupted');
    const counts = ledger.counts(run.rid);
    expect(counts.sending).toBe(0);
    expect(counts.pending).toBeGreaterThan(0);
    expect(counts.sent).toBe(sim.messages.count());
    // The slot is finished (no daemon holds it) and keeps its run.
    expect(store.slot('slow', slot)).toMatchObject({ state: 'started', runId });
    expect(store.slot('slow', slot)!.finishedAt).not.toBeNull();

    // `bulktext resume` does exactly this.
    const prepared = await prepareResume(ledger, runId);
    expect(prepared.inDoubt).toBe(0);
    const result = await executeRun(ledger, prepared.run, prepared.spec, { apiKey: 'k', baseUrl: sim.url });
    expect(result.state).toBe('completed');
    expect(ledger.counts(run.rid)).toMatchObject({ sent: 8, pending: 0, unknown: 0 });
    for (const to of recipients(8)) expect(sim.messages.byRecipient(to)).toHaveLength(1);
  });

  it('the next daemon resumes the interrupted run first, then runs its own slot', async () => {
    const { runId } = await interruptFirstRun(6);
    const sentBefore = sim.messages.count();
    expect(sentBefore).toBeLessThan(6);

    const log = logSink();
    const d = await daemon(log);
    const next = await waitFor('the next slot to start a new run', () =>
      store.slots('slow').find((s) => s.runId !== null && s.runId !== runId && s.state === 'started'),
    );
    await waitFor('the new run to complete', () => ledger.getRun(next.runId!).state === 'completed');
    await d.stop();

    const resumed = ledger.getRun(runId);
    const fresh = ledger.getRun(next.runId!);
    expect(resumed.state).toBe('completed');
    // The resumed run finished before the new slot's run began: no overlap.
    expect(fresh.startedAt).toBeGreaterThanOrEqual(resumed.finishedAt!);
    // Each recipient: one text from the first run (before or after the stop) and one from the new run.
    for (const to of recipients(6)) expect(sim.messages.byRecipient(to)).toHaveLength(2);
    expect(log.text()).toMatch(new RegExp(`job slow: the previous run ${runId} \\(slot \\S+\\) is interrupted; resuming it before slot ${next.slot.replace(/\./g, '\\.')}`));
    expect(log.text()).toMatch(new RegExp(`resumed before slot \\S+\\): run ${runId} completed in`));
  });

  it('stop during a send window wait leaves the run resumable with its deferred rows', async () => {
    // A window that opens three hours from now (UTC): every row is deferred and the run waits for it;
    // stop must not wait with it.
    const hour = new Date().getUTCHours();
    const start = `${String((hour + 3) % 24).padStart(2, '0')}:00`;
    const end = `${String((hour + 4) % 24).padStart(2, '0')}:00`;
    writeJob(f, 'windowed', { cron: '*/1 * * * * *', rows: 3, extra: `window: { start: "${start}", end: "${end}", timezone: UTC }` });
    const log = logSink();
    const d = await daemon(log);
    const slot = await waitFor('a run', () => store.slots('windowed').find((s) => s.runId !== null));
    await waitFor('rows deferred', () => ledger.counts(ledger.getRun(slot.runId!).rid).deferred === 3);
    // Later slots are skipped while the run waits for its window.
    await waitFor('a skipped slot', () => store.slots('windowed').some((s) => s.state === 'skipped'));
    const t0 = performance.now();
    await d.stop();
    expect(performance.now() - t0).toBeLessThan(5000);
    const run = ledger.getRun(slot.runId!);
    expect(run.state).toBe('interrupted');
    expect(ledger.counts(run.rid)).toMatchObject({ deferred: 3, sent: 0 });
    expect(sim.messages.count()).toBe(0);
  });
});
