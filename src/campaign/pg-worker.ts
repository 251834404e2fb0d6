/**
 * A process sending on the PostgreSQL ledger — `run`, `resume` or `worker`, on any host — is a worker: a
 * row in `workers` with a heartbeat every 1.5 s and a 10 s lease. Each heartbeat also settles dead workers
 * (worker-store.ts): their rows in flight become `unknown`, their untouched claims go back to the pool.
 * `drainRun` sends one run's rows as this worker claims them, with the same dispatcher, admission and
 * Telnyx client as a SQLite run; a run is closed (`completed`) by whichever worker finds it drained.
 */
import { randomBytes } from 'node:crypto';
import type { AccountSpec } from '../config/account-spec.js';
import type { JobSpec } from '../config/job-spec.js';
import { limitModel } from '../config/limit-model.js';
import { Dispatcher, type DispatchEvent, type DispatchSummary } from '../dispatch/dispatcher.js';
import { isMmsJob } from '../ingest/recipients.js';
import { messageStoreOf } from '../ledger/message-store.js';
import type { PgLedger } from '../ledger/pg/pg-ledger.js';
import { pgWorkerStoreOf, type LocalProbe } from '../ledger/pg/worker-store.js';
import type { RunRecord } from '../ledger/run-store.js';
import { runStoreOf } from '../ledger/run-store.js';
import { suppressionStoreOf } from '../ledger/suppression-store.js';
import { currentProcess, processAlive } from '../shared/process-probe.js';
import { createTelnyxClient } from '../telnyx/client.js';
import { createMessageSender } from '../telnyx/message-sender.js';
import { TelnyxCode } from '../telnyx/wire.js';
import { createAdmission } from './admission.js';
import { dispatchSettings, sendTemplate } from './execute-run.js';
import { optOutNumber, stopRefusals } from './run-stops.js';

export const HEARTBEAT_MS = 1500;
export const LEASE_MS = 10_000;

/** This host's processes are probed directly: one that is gone is dead without waiting out its lease. */
export function localProbe(): LocalProbe {
  return { host: currentProcess().host, alive: processAlive };
}

export interface WorkerSession {
  readonly id: string;
  /** Aborted when this worker's row is gone (another judged it dead): it must stop sending at once. */
  readonly lost: AbortSignal;
  /** Settles dead workers now (the heartbeat does it too). */
  reap(): Promise<{ workers: number; inDoubt: number; released: number }>;
  /** Stops the heartbeat, gives back untouched claims and deletes the worker's row. */
  leave(): Promise<void>;
}

/** Registers this process as a worker and keeps its heartbeat until `leave`. */
export async function joinAsWorker(pg: PgLedger, options: { heartbeatMs?: number; leaseMs?: number } = {}): Promise<WorkerSession> {
  const me = currentProcess();
  const id = `${me.host}:${me.pid}:${randomBytes(4).toString('hex')}`;
  const store = pgWorkerStoreOf(pg);
  await store.register({ id, host: me.host, pid: me.pid }, options.leaseMs ?? LEASE_MS);
  const lost = new AbortController();
  const probe = localProbe();
  let beating: Promise<void> | undefined;
  const beat = async () => {
    if (!(await store.heartbeat(id))) lost.abort(new Error('this worker was judged dead by another (its heartbeat lapsed)'));
    await store.reapDead(probe);
  };
  const timer = setInterval(() => {
    // One beat at a time: a slow database must not pile them up.
    if (beating !== undefined || !pg.isOpen) return;
    beating = beat()
      .catch(() => undefined)
      .finally(() => (beating = undefined));
  }, options.heartbeatMs ?? HEARTBEAT_MS);
  timer.unref();
  return {
    id,
    lost: lost.signal,
    reap: () => store.reapDead(probe),
    async leave() {
      clearInterval(timer);
      await beating;
      await store.leave(id);
    },
  };
}

export interface DrainOptions {
  api: { apiKey: string; baseUrl: string };
  account?: AccountSpec | undefined;
  /** Stops taking rows; requests in flight settle. */
  signal: AbortSignal;
  /** Wait for deferred rows' send windows (false: leave them). */
  wait: boolean;
  onEvent?: ((event: DispatchEvent) => void) | undefined;
  onStart?: ((dispatcher: Dispatcher) => void) | undefined;
  /** How often the run's state and cancel request are read. @default 1000 */
  pollMs?: number;
  /** Names the API in the stop reason when it cannot be reached. */
  endpoint?: string;
  now?: () => number;
}

export interface Drained {
  summary: DispatchSummary;
  /** The run was cancelled, or left `running` (interrupted, …) by someone else meanwhile. */
  stoppedByRun: boolean;
}

/**
 * Sends run `run` as worker `session` until no unclaimed row is left, the run leaves `running` (cancel,
 * interrupt), `signal` aborts or the worker is lost. Rate limits are the run's own, per process. Its
 * untouched claims are given back at the end; `sending` rows were all answered or are left to the reaper.
 */
export async function drainRun(pg: PgLedger, run: RunRecord, spec: JobSpec, session: WorkerSession, o: DrainOptions): Promise<Drained> {
  const rows = messageStoreOf(pg);
  const runs = runStoreOf(pg);
  const client = createTelnyxClient({ apiKey: o.api.apiKey, baseUrl: o.api.baseUrl, connections: spec.rate.max_concurrent, timeoutMs: 30_000 });
  const stop = new AbortController();
  let stoppedByRun = false;
  const poll = async () => {
    const now = await runs.findRun(run.runId);
    if (now === undefined || now.state !== 'running' || now.cancelRequestedAt !== null) {
      stoppedByRun = true;
      stop.abort(new Error('the run was stopped'));
    }
  };
  const pollTimer = setInterval(() => void poll().catch(() => undefined), o.pollMs ?? 1000);
  pollTimer.unref();
  const suppressed = new Set(await suppressionStoreOf(pg).suppressedNumbers());
  const refresh = setInterval(() => {
    void suppressionStoreOf(pg)
      .suppressedNumbers()
      .then((list) => {
        for (const n of list) suppressed.add(n);
      }, () => undefined);
  }, 5000);
  refresh.unref();
  const optedOut = { has: (n: string) => suppressed.has(n) };
  const model = limitModel(spec, o.account, isMmsJob(spec));
  const admission = createAdmission(spec, run.startedAt, { wait: o.wait, optedOut });
  const claimBatch = Math.max(2 * spec.rate.max_concurrent, Math.ceil(model.runCeiling));
  try {
    const dispatcher = new Dispatcher({
      ledger: {
        // Claims ignore the cursor: a dead worker's rows given back may lie behind it. About a second of
        // this worker's sending at a time, so the workers on a run share it instead of the first taking a page.
        nextPending: (_after, limit) => rows.claimPending(run.rid, session.id, Math.min(limit, claimBatch)),
        nextDue: (at, limit) => rows.claimDue(run.rid, session.id, at, Math.min(limit, claimBatch)),
        nextDeferral: () => rows.nextDeferral(run.rid),
        commit: async (b) => {
          await rows.commit(run.rid, session.id, b);
          for (const out of stopRefusals(b.outcomes)) {
            const to = optOutNumber(await rows.recipientOf(run.rid, out.row));
            if (to !== undefined) {
              suppressed.add(to);
              await suppressionStoreOf(pg).addSuppression(to, TelnyxCode.blockedStop, out.errorDetail, out.at);
            }
          }
        },
      },
      ...(admission === undefined ? {} : { admission }),
      sender: createMessageSender(client, sendTemplate(spec)),
      ...dispatchSettings(spec, model),
      signal: AbortSignal.any([o.signal, stop.signal, session.lost]),
      ...(o.onEvent === undefined ? {} : { onEvent: o.onEvent }),
      now: o.now ?? Date.now,
      endpoint: o.endpoint ?? `TELNYX_BASE_URL ${o.api.baseUrl}`,
    });
    o.onStart?.(dispatcher);
    const summary = await dispatcher.run();
    return { summary, stoppedByRun };
  } finally {
    clearInterval(pollTimer);
    clearInterval(refresh);
    await rows.releaseClaims(session.id).catch(() => undefined);
    await client.close().catch(() => undefined);
  }
}

/** Where a run stands once this worker has nothing to claim. */
export type RunProgress = 'completed' | 'claimable' | 'others-working' | 'deferred' | 'stopped';

/**
 * Settles dead workers, then: the run is `completed` when no row is pending, deferred or sending (closed
 * here, by whichever worker gets there first); `claimable` when unclaimed rows are back in the pool;
 * `others-working` while live workers hold its rows; `deferred` when only rows waiting for their window are left.
 */
export async function runProgress(pg: PgLedger, run: RunRecord, session: WorkerSession, now = Date.now()): Promise<RunProgress> {
  await session.reap();
  const current = await runStoreOf(pg).findRun(run.runId);
  if (current === undefined || current.state !== 'running') return current?.state === 'completed' ? 'completed' : 'stopped';
  const c = await messageStoreOf(pg).counts(run.rid);
  if (c.pending === 0 && c.sending === 0 && c.deferred === 0) {
    await runStoreOf(pg).moveRun(run.rid, 'completed', { finishedAt: now }, ['running']);
    return 'completed';
  }
  const claimed = await pgWorkerStoreOf(pg).claimedRows(run.rid);
  if (c.pending + c.deferred + c.sending > claimed) return c.pending > 0 || c.sending > 0 ? 'claimable' : 'deferred';
  return 'others-working';
}
