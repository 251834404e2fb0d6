/**
 * The run path on the PostgreSQL ledger: start a run (ingest with COPY), prepare a resume, and send a run
 * as one of its workers until it is finished — closing it when this worker is the last one on it.
 */
import type { JobSpec } from '../config/job-spec.js';
import type { DispatchSummary } from '../dispatch/dispatcher.js';
import { hashSource, type IngestStats } from '../ingest/index.js';
import { memoryStoreOf } from '../ledger/memory-store.js';
import { messageStoreOf } from '../ledger/message-store.js';
import type { PgLedger } from '../ledger/pg/pg-ledger.js';
import { pgWorkerStoreOf } from '../ledger/pg/worker-store.js';
import type { RunRecord } from '../ledger/run-store.js';
import { runStoreOf } from '../ledger/run-store.js';
import type { RunState } from '../ledger/states.js';
import { sleepUnlessAborted } from '../shared/clock.js';
import { commandHint, type CommandHint } from '../shared/command-line.js';
import { AppError } from '../shared/errors.js';
import { currentProcess } from '../shared/process-probe.js';
import { startSimulatorWorker, type SimulatorOptions } from '../telnyx/simulator/index.js';
import { sandboxOptions } from './sandbox.js';
import { describeEarlierSend, memoryWindow } from './campaign-memory.js';
import { ingestIntoPg, pgMemoryScope } from './pg-ingest.js';
import { pgPublicState } from './pg-status.js';
import { abortedBy, cancelledAt, expiryReason, interruptedBySignal, waitingForWindow } from './run-stops.js';
import { drainRun, localProbe, runProgress, type DrainOptions, type WorkerSession } from './pg-worker.js';
import { unchangedSource } from './resume-run.js';
import { blockedBy, newRunOf } from './start-run.js';

export interface PgStarted {
  run: RunRecord;
  ingest: IngestStats;
}

/** Creates a run from `spec` on PostgreSQL and ingests its source; refuses as a SQLite run would (an unfinished run of the job). */
export async function startPgRun(
  pg: PgLedger,
  spec: JobSpec,
  o: { sandbox: boolean; force?: boolean; allowRepeat?: boolean; hint?: CommandHint; signal?: AbortSignal; onCreated?: (run: RunRecord) => void },
): Promise<PgStarted> {
  const sha = await hashSource(spec.source.path);
  const runs = runStoreOf(pg);
  if (o.force !== true) {
    for (const earlier of await runs.unfinishedRuns(spec.name, o.sandbox)) {
      const blocked = blockedBy(earlier, await pgPublicState(pg, earlier), spec, sha, o.hint ?? commandHint());
      if (blocked !== undefined) throw blocked;
    }
  }
  const run = await runs.createRun({ ...newRunOf(spec, sha, o.sandbox, Date.now()), owner: currentProcess() });
  o.onCreated?.(run);
  try {
    const ingest = await ingestIntoPg(pg, run, spec, {
      expectedSha256: sha,
      memory: await pgMemoryScope(pg, spec, run, o.allowRepeat === true),
      ...(o.signal === undefined ? {} : { signal: o.signal }),
    });
    return { run: await runs.getRun(run.runId), ingest };
  } catch (err) {
    // Nothing was sent: a run that could not be ingested leaves no trace to block the next one.
    await runs.deleteRun(run.rid).catch(() => undefined);
    throw err;
  }
}

export interface PgPreparedResume {
  run: RunRecord;
  spec: JobSpec;
  /** Rows dead workers left `sending`, now `unknown`. */
  inDoubt: number;
  reopened: number;
  textedElsewhere: number;
}

/**
 * Takes up a run on PostgreSQL: rows dead workers left in flight become `unknown` (never resent unless
 * `resendUnknown`), their claims go back to the pool, a run that died ingesting is ingested again, and
 * rows another run of the campaign texted since are skipped as `already_sent`.
 */
export async function preparePgResume(pg: PgLedger, runId: string, o: { resendUnknown?: boolean; hint?: CommandHint; signal?: AbortSignal } = {}): Promise<PgPreparedResume> {
  const runs = runStoreOf(pg);
  const rows = messageStoreOf(pg);
  const run = await runs.getRun(runId);
  if (run.state === 'cancelled') {
    throw new AppError('ERR_RUN_NOT_RESUMABLE', `run ${runId} was cancelled; a cancelled run is never resumed — start a new run`);
  }
  const spec = JSON.parse(run.jobSpec) as JobSpec;
  const sha = await unchangedSource(run, o.hint);
  await runs.setOwner(run.rid, currentProcess());
  if (run.state === 'ingesting') {
    await runs.clearRows(run.rid);
    await ingestIntoPg(pg, run, spec, {
      expectedSha256: sha,
      memory: await pgMemoryScope(pg, spec, run),
      ...(o.signal === undefined ? {} : { signal: o.signal }),
    });
  }
  const inDoubt = await rows.settleDeadClaims(run.rid, await pgWorkerStoreOf(pg).alive(localProbe()));
  const reopened = o.resendUnknown === true ? await rows.reopenUnknown(run.rid) : 0;
  const memory = memoryStoreOf(pg);
  await memory.rememberCampaign(run.cid);
  const window = memoryWindow(spec, run.startedAt, run.slot);
  const textedElsewhere = await memory.skipAlreadySent(run.rid, run.cid, window, (id, at) => describeEarlierSend({ runId: id, at }, run.sandbox));
  return { run: await runs.getRun(runId), spec, inDoubt, reopened, textedElsewhere };
}

/**
 * A sandbox for sending on PostgreSQL: the simulator in a worker thread (the run's own settings, or for a
 * worker serving many runs a fast one: each run's limits still hold in the dispatcher). Its receipts are
 * not delivered anywhere: on PostgreSQL a sandbox run's sent rows stay awaiting their delivery status.
 */
export async function startPgSandbox(spec: JobSpec | undefined): Promise<{ api: { apiKey: string; baseUrl: string }; close(): Promise<void> }> {
  const options = spec === undefined ? fastSandbox : sandboxOptions(spec);
  const simulator = await startSimulatorWorker({ ...options, webhooks: { enabled: false } });
  return { api: { apiKey: 'sandbox', baseUrl: simulator.url }, close: () => simulator.close() };
}

const fastSandbox: SimulatorOptions = {
  accountRate: 10_000,
  mmsAccountRate: 10_000,
  senderRates: { longCode: 10_000, tollFree: 10_000, shortCode: 10_000, alphanumeric: 10_000 },
  lifecycle: { sendingMs: 50, deliveryMs: 300 },
};

/** What a `run`/`resume` on PostgreSQL needs beyond a worker's drain: the same API, account and callbacks. */
export interface PgSendOptions extends Pick<DrainOptions, 'api' | 'account' | 'signal' | 'wait' | 'onEvent' | 'onStart'> {
  /** How long to wait between looks while other workers hold the run's last rows. @default 300 */
  idleMs?: number;
}

export interface PgSent {
  state: RunState;
  /** The last drain's summary, its odd answers summed over every drain. */
  summary: DispatchSummary;
}

/**
 * Sends `run` as worker `session` (the `run`/`resume` process) until it is finished: drains what it can
 * claim, then waits while other live workers hold the run's last rows, takes back what a dead one leaves,
 * and closes the run when nothing is pending, deferred or in flight. A signal interrupts the run for
 * every worker (resumable); a fatal answer aborts it.
 */
export async function sendOnPg(pg: PgLedger, run: RunRecord, spec: JobSpec, session: WorkerSession, o: PgSendOptions): Promise<PgSent> {
  const runs = runStoreOf(pg);
  await runs.setOwner(run.rid, currentProcess());
  await runs.setRunState(run.rid, 'running');
  let oddAnswers = 0;
  let summary: DispatchSummary = { stop: 'completed', sent: 0, failed: 0, unknown: 0, oddAnswers: 0 };
  try {
    for (;;) {
      const drained = await drainRun(pg, run, spec, session, o);
      oddAnswers += drained.summary.oddAnswers;
      summary = { ...drained.summary, oddAnswers };
      const settled = await settleStop(pg, run, spec, drained.summary, o.signal.aborted || session.lost.aborted);
      if (settled !== undefined) return { state: settled, summary };
      const progress = await runProgress(pg, run, session);
      if (progress === 'completed' || progress === 'stopped') return { state: (await runs.getRun(run.runId)).state, summary };
      if (progress === 'deferred' && !o.wait) {
        await runs.moveRun(run.rid, 'interrupted', waitingForWindow(undefined), ['running']);
        return { state: 'interrupted', summary: { ...summary, stop: 'deferred' } };
      }
      if (progress !== 'claimable') await sleepUnlessAborted(o.idleMs ?? 300, o.signal);
    }
  } finally {
    await runs.setOwner(run.rid, null).catch(() => undefined);
  }
}

/** The run's state when a drain ended for a reason other than running out of rows; undefined to go on. */
async function settleStop(pg: PgLedger, run: RunRecord, spec: JobSpec, summary: DispatchSummary, interrupted: boolean): Promise<RunState | undefined> {
  const runs = runStoreOf(pg);
  const now = Date.now();
  if (summary.stop === 'fatal') {
    await runs.moveRun(run.rid, 'aborted', abortedBy(summary, now), ['running']);
    return (await runs.getRun(run.runId)).state;
  }
  if (summary.stop === 'expired') {
    await messageStoreOf(pg).expireUnsent(run.rid, expiryReason(spec), now);
    return undefined;
  }
  if (interrupted) {
    await runs.moveRun(run.rid, 'interrupted', interruptedBySignal, ['running']);
    return (await runs.getRun(run.runId)).state;
  }
  const current = await runs.getRun(run.runId);
  return current.state === 'running' ? undefined : current.state;
}

/**
 * `bulktext cancel` on PostgreSQL: the run is cancelled at once (no worker claims its rows again), its
 * untouched claims are given back, and the workers sending it stop at their next look (about a second),
 * their requests in flight settling as usual. Rows dead workers left in flight become `unknown`.
 */
export async function cancelPgRun(pg: PgLedger, runId: string, now: number): Promise<{ kind: 'already' | 'cancelled'; run: RunRecord; inDoubt: number }> {
  const runs = runStoreOf(pg);
  const run = await runs.getRun(runId);
  if (run.state === 'cancelled') return { kind: 'already', run, inDoubt: 0 };
  if (run.state === 'completed') throw new AppError('ERR_RUN_NOT_CANCELLABLE', `run ${runId} has completed: there is nothing left to cancel`);
  await runs.requestCancel(run.rid, now);
  await runs.setRunState(run.rid, 'cancelled', cancelledAt(now));
  const inDoubt = await messageStoreOf(pg).settleDeadClaims(run.rid, await pgWorkerStoreOf(pg).alive(localProbe()), now);
  return { kind: 'cancelled', run: await runs.getRun(runId), inDoubt };
}
