/**
 * `bulktext cancel`: stops a run for good. A run a live process is sending gets a cancel request in the
 * ledger, which that process polls and obeys as it would SIGINT (from any shell, no signal needed); a run
 * nobody is sending is marked `cancelled` at once, so neither `resume` nor the scheduler takes it up.
 */
import type { Ledger } from '../ledger/ledger.js';
import type { RunRecord } from '../ledger/run-store.js';
import { AppError } from '../shared/errors.js';
import { publicState } from './status.js';
import { messageStoreOf } from '../ledger/message-store.js';
import { runStoreOf } from '../ledger/run-store.js';
import { cancelledAt } from './run-stops.js';

export type CancelOutcome =
  /** A live process owns the run: it was asked to stop and will mark the run cancelled itself. */
  | { kind: 'requested'; run: RunRecord }
  /** Nobody was sending it: marked cancelled now; `inDoubt` rows a dead process left in flight became unknown. */
  | { kind: 'cancelled'; run: RunRecord; inDoubt: number }
  | { kind: 'already'; run: RunRecord };

export function cancelRun(ledger: Ledger, runId: string, now: number): CancelOutcome {
  // One IMMEDIATE transaction: a `resume` that takes the run over meanwhile either is seen as its live
  // owner (and gets the request) or finds the run already cancelled and refuses to start.
  return ledger.exclusively((): CancelOutcome => {
    const run = runStoreOf(ledger).getRun(runId);
    if (run.state === 'cancelled') return { kind: 'already', run };
    if (run.state === 'completed') {
      throw new AppError('ERR_RUN_NOT_CANCELLABLE', `run ${runId} has completed: there is nothing left to cancel`);
    }
    runStoreOf(ledger).requestCancel(run.rid, now);
    if (publicState(run) === 'running') return { kind: 'requested', run: runStoreOf(ledger).getRun(runId) };
    const inDoubt = messageStoreOf(ledger).markInFlightUnknown(run.rid, now);
    runStoreOf(ledger).setRunState(run.rid, 'cancelled', cancelledAt(now));
    return { kind: 'cancelled', run: runStoreOf(ledger).getRun(runId), inDoubt };
  });
}
