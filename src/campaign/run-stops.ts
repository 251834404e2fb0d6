/**
 * Why a run stopped, as its row records it (stop code and detail): one wording for every backend and
 * every command that stops a run, so `status`, the dashboard and the alerts read the same thing whether
 * the run was sent on SQLite or by PostgreSQL workers.
 */
import type { JobSpec } from '../config/job-spec.js';
import type { DispatchSummary } from '../dispatch/dispatcher.js';
import type { RunStateChange } from '../ledger/run-store.js';
import { TelnyxCode } from '../telnyx/wire.js';
import type { Outcome } from '../ledger/types.js';

/** A fatal answer ended the run (`aborted`). */
export function abortedBy(summary: DispatchSummary, at: number): RunStateChange {
  return { finishedAt: at, stopCode: summary.fatal?.code ?? null, stopDetail: summary.fatal?.detail ?? null };
}

/** `bulktext cancel` ended the run for good. */
export function cancelledAt(at: number): RunStateChange {
  return { finishedAt: at, stopCode: 'cancelled', stopDetail: 'cancelled by `bulktext cancel`; not resumable' };
}

/** SIGINT/SIGTERM (or a library caller's signal) stopped the run; `resume` continues it. */
export const interruptedBySignal: RunStateChange = { stopCode: 'interrupted', stopDetail: 'stopped by a signal; resume to continue' };

/** Only rows waiting for their send window are left; `opens`: when the first one may go, if known. */
export function waitingForWindow(opens: number | undefined): RunStateChange {
  return {
    stopCode: 'deferred',
    stopDetail: `rows wait for their send window${opens === undefined ? '' : ` (next opens ${new Date(opens).toISOString()})`}; resume then`,
  };
}

/** What a row still unsent when `expires_after` passes is marked with. */
export function expiryReason(spec: JobSpec): string {
  return `not sent within expires_after (${spec.expires_after ?? 0} ms after the run began)`;
}

type Refusal = Extract<Outcome, { errorCode: string | null }>;

/** The rows Telnyx refused because their owner replied STOP (40300): no run texts those numbers again. */
export function stopRefusals(outcomes: readonly Outcome[]): Refusal[] {
  return outcomes.filter((o): o is Refusal => o.status === 'failed' && o.errorCode === TelnyxCode.blockedStop);
}

/** The number a STOP refusal opts out; undefined for a group MMS, whose refusal does not say which participant. */
export function optOutNumber(to: string | undefined): string | undefined {
  return to === undefined || to.includes(',') ? undefined : to;
}
