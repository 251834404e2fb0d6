/**
 * The status object `status --json` and `run --json` print (a contract other tools read).
 */
import type { Ledger } from '../ledger/ledger.js';
import type { RunRecord, Trigger } from '../ledger/run-store.js';
import type { StatusCounts } from '../ledger/message-store.js';
import { readModelFor, type FailureGroup, type ReasonCount } from '../ledger/read-model.js';
import { planVsActual } from '../plan/index.js';
import { describeCode } from '../telnyx/codes.js';
import { currentProcess, processAlive } from '../shared/process-probe.js';
import { deliveryCounts, type DeliveryCounts } from './delivery-report.js';
import { messageStoreOf } from '../ledger/message-store.js';

export type PublicRunState = 'running' | 'interrupted' | 'completed' | 'aborted' | 'cancelled';

export interface RunStatus {
  run_id: string;
  job: string;
  state: PublicRunState;
  sandbox: boolean;
  /** `schedule` for runs the scheduler started (with their cron slot), `manual` otherwise. */
  trigger: Trigger;
  slot: string | null;
  /** A test run's numbers (`run --test-to`): it sent the first rows' messages there, not to the recipients. */
  test_to: string[] | null;
  counts: {
    total: number;
    pending: number;
    sending: number;
    sent: number;
    failed: number;
    skipped: number;
    unknown: number;
    deferred: number;
    expired: number;
  };
  /** Accepted rows by what Telnyx finally said (receipts or reconcile); `awaiting` has no final word yet. */
  delivery: DeliveryCounts;
  parts: number;
  /** What Telnyx charged for the accepted rows: the final cost from a receipt where known, else the cost at send. */
  cost: { amount: string; currency: string | null };
  started_at: string;
  finished_at: string | null;
  stop: { code: string | null; detail: string | null } | null;
  /** What the run estimated when it started (segments and cost at the job's pricing), against `parts`/`cost`. */
  estimate: { parts: number; cost: { amount: string; currency: string } | null } | null;
}

/** Whether another live process on this host is sending the run now. */
export function ownedByLiveProcess(run: RunRecord): boolean {
  const self = currentProcess();
  return run.ownerPid !== null && run.ownerPid !== self.pid && run.ownerHost === self.host && processAlive(run.ownerPid);
}

/**
 * A run recorded as running whose process is gone was interrupted (a kill leaves no chance to say so).
 * A run owned by a process on another host is reported as running: we cannot look.
 */
export function publicState(run: RunRecord): PublicRunState {
  if (run.state === 'completed' || run.state === 'aborted' || run.state === 'interrupted' || run.state === 'cancelled') return run.state;
  if (run.ownerPid === null) return 'interrupted';
  const self = currentProcess();
  if (run.ownerHost !== self.host) return 'running';
  return run.ownerPid === self.pid || processAlive(run.ownerPid) ? 'running' : 'interrupted';
}

export function runStatus(ledger: Ledger, run: RunRecord, counts: StatusCounts = messageStoreOf(ledger).counts(run.rid)): RunStatus {
  const { actual, planned } = planVsActual(ledger, run.rid);
  const cost = actual.cost[0];
  return statusObject(run, publicState(run), counts, {
    delivery: deliveryCounts(ledger, run.rid),
    parts: actual.parts,
    cost: cost === undefined ? { amount: '0.0000', currency: null } : { amount: cost.amount, currency: cost.currency || null },
    estimate: planned === null ? null : { parts: planned.parts, cost: planned.cost },
  });
}

/** The status object of `run` in public `state` from its counts and what was sent (either backend reads them its own way). */
export function statusObject(
  run: RunRecord,
  state: PublicRunState,
  counts: StatusCounts,
  sent: Pick<RunStatus, 'delivery' | 'parts' | 'cost' | 'estimate'>,
): RunStatus {
  return {
    run_id: run.runId,
    job: run.jobName,
    state,
    sandbox: run.sandbox,
    trigger: run.trigger,
    slot: run.slot,
    test_to: run.testTo,
    counts: {
      total: counts.total,
      pending: counts.pending,
      sending: counts.sending,
      sent: counts.sent,
      failed: counts.failed,
      skipped: counts.skipped,
      unknown: counts.unknown,
      deferred: counts.deferred,
      expired: counts.expired,
    },
    delivery: sent.delivery,
    parts: sent.parts,
    cost: sent.cost,
    started_at: new Date(run.startedAt).toISOString(),
    finished_at: run.finishedAt === null ? null : new Date(run.finishedAt).toISOString(),
    stop: run.stopCode === null && run.stopDetail === null ? null : { code: run.stopCode, detail: run.stopDetail },
    estimate: sent.estimate,
  };
}

/** A group of failed rows with what its code means and what to do about it. */
export interface FailureLine extends FailureGroup {
  title: string;
  advice: string;
}

/** Why a run's rows failed, most frequent code first, each explained from the one table of Telnyx codes. */
export function runFailures(ledger: Ledger, rid: number): FailureLine[] {
  return readModelFor(ledger).failures(rid).map((g) => ({ ...g, ...describeCode(g.code) }));
}

/** A run's skipped rows by skip reason (the names `plan` and `report` use). */
export function skippedByReason(ledger: Ledger, rid: number): ReasonCount[] {
  return readModelFor(ledger).byReason(rid, 'skipped');
}
