/**
 * `bulktext worker`: joins every run in state `running` on the PostgreSQL ledger (of its kind: sandbox
 * runs with --sandbox, real runs with an API key), drains each alongside the other workers, closes a run
 * it finds drained, and keeps looking for new runs until stopped (or, with `once`, until none is left).
 */
import type { AccountSpec } from '../config/account-spec.js';
import type { JobSpec } from '../config/job-spec.js';
import type { DispatchEvent } from '../dispatch/dispatcher.js';
import type { PgLedger } from '../ledger/pg/pg-ledger.js';
import type { RunRecord } from '../ledger/run-store.js';
import { runStoreOf } from '../ledger/run-store.js';
import { sleepUnlessAborted } from '../shared/clock.js';
import { startPgSandbox } from './pg-run.js';
import { pgRunIsLive } from './pg-status.js';
import { drainRun, joinAsWorker, runProgress, type RunProgress } from './pg-worker.js';
import { abortedBy } from './run-stops.js';

export interface WorkerLoopOptions {
  /** Real credentials, or undefined for a sandbox worker (its own simulator; it joins sandbox runs only). */
  api: { apiKey: string; baseUrl: string } | undefined;
  account?: AccountSpec | undefined;
  /** Exit once no run of this worker's kind is running. */
  once: boolean;
  /** SIGTERM/SIGINT: stop taking rows, let requests in flight settle, give back claims, leave. */
  signal: AbortSignal;
  /** How often to look for runs when there is nothing to do. @default 1000 */
  pollMs?: number;
  onJoined?: (workerId: string) => void;
  /** A drain of a run ended: what it sent and where the run stands. */
  onDrained?: (run: RunRecord, sent: { sent: number; failed: number; unknown: number }, progress: RunProgress) => void;
  onEvent?: ((event: DispatchEvent) => void) | undefined;
}

export async function workOnPg(pg: PgLedger, o: WorkerLoopOptions): Promise<void> {
  const sandbox = o.api === undefined;
  const simulator = sandbox ? await startPgSandbox(undefined) : undefined;
  const api = o.api ?? simulator!.api;
  const session = await joinAsWorker(pg);
  o.onJoined?.(session.id);
  try {
    while (!o.signal.aborted && !session.lost.aborted) {
      const runs = (await runStoreOf(pg).runsIn('running')).filter((r) => r.sandbox === sandbox);
      if (runs.length === 0 && o.once && !(await runsComing(pg, sandbox))) break;
      let claimable = false;
      for (const run of runs) {
        if (o.signal.aborted || session.lost.aborted) break;
        const spec = JSON.parse(run.jobSpec) as JobSpec;
        const drained = await drainRun(pg, run, spec, session, { api, account: o.account, wait: true, signal: o.signal, onEvent: o.onEvent });
        const { sent, failed, unknown } = drained.summary;
        if (drained.summary.stop === 'fatal') {
          await runStoreOf(pg).moveRun(run.rid, 'aborted', abortedBy(drained.summary, Date.now()), ['running']);
        }
        const progress = await runProgress(pg, run, session);
        if (progress === 'claimable') claimable = true;
        o.onDrained?.(run, { sent, failed, unknown }, progress);
      }
      if (!claimable) await sleepUnlessAborted(o.pollMs ?? 1000, o.signal);
    }
  } finally {
    await session.leave().catch(() => undefined);
    await simulator?.close();
  }
}

/** Whether a run of this kind is being read by a live process: it will be running in a moment. */
async function runsComing(pg: PgLedger, sandbox: boolean): Promise<boolean> {
  for (const run of await runStoreOf(pg).runsIn('ingesting')) if (run.sandbox === sandbox && (await pgRunIsLive(pg, run))) return true;
  return false;
}
