/**
 * Prepares a run for `resume`: the same job spec it started with, a check that its source is
 * unchanged, and the in-doubt rule — rows a dead process left `sending` become `unknown`, and are sent
 * again only when the operator asks (`--resend-unknown`).
 */
import type { JobSpec } from '../config/job-spec.js';
import { hashSource } from '../ingest/index.js';
import type { Ledger } from '../ledger/ledger.js';
import type { RunRecord } from '../ledger/run-store.js';
import type { StatusCounts } from '../ledger/message-store.js';
import { AppError, isAppError } from '../shared/errors.js';
import { currentProcess } from '../shared/process-probe.js';
import { memoryScope, skipTextedElsewhere } from './campaign-memory.js';
import { ingestIntoLedger } from './ingest-into-ledger.js';
import { runLabel } from './start-run.js';
import { commandHint, type CommandHint } from '../shared/command-line.js';
import { ownedByLiveProcess } from './status.js';
import { deliveryStoreFor } from '../ledger/delivery-store.js';
import { retryWaitingEvents } from '../webhooks/apply-event.js';
import { messageStoreOf } from '../ledger/message-store.js';
import { runStoreOf } from '../ledger/run-store.js';

export interface PreparedResume {
  run: RunRecord;
  spec: JobSpec;
  /** Rows found `sending` (in flight when the process died), now `unknown`. */
  inDoubt: number;
  /** Unknown rows reopened for sending by --resend-unknown. */
  reopened: number;
  /** Failed rows re-queued by --retry-failed (their answers prove nothing was created). */
  requeued: number;
  /** Pending rows another run of the campaign has texted since: skipped as `already_sent`. */
  textedElsewhere: number;
}

export async function prepareResume(
  ledger: Ledger,
  runId: string,
  options: {
    resendUnknown?: boolean;
    /** Re-queue failed rows whose every answer proves nothing was created; with codes, only rows failed with one of them. */
    retryFailed?: { codes?: readonly string[] };
    signal?: AbortSignal;
    /** Builds the command the refusal suggests (the CLI's keeps the operator's --db). */
    hint?: CommandHint;
  } = {},
): Promise<PreparedResume> {
  const run = runStoreOf(ledger).getRun(runId);
  if (run.state === 'cancelled') {
    throw new AppError('ERR_RUN_NOT_RESUMABLE', `run ${runId} was cancelled${run.finishedAt === null ? '' : ` at ${new Date(run.finishedAt).toISOString()}`}; a cancelled run is never resumed — start a new run`);
  }
  if (ownedByLiveProcess(run)) {
    const doing = run.state === 'ingesting' ? 'reading its source' : 'being sent';
    throw new AppError('ERR_RUN_NOT_RESUMABLE', `${runLabel(run)} is ${doing} right now by process ${run.ownerPid}; not resuming it twice`);
  }
  const spec = JSON.parse(run.jobSpec) as JobSpec;
  const sha = await unchangedSource(run, options.hint);
  // This process owns the run from here (executeRun keeps it, and clears it at the end).
  runStoreOf(ledger).setOwner(run.rid, currentProcess());
  if (run.state === 'ingesting') {
    // The process died before sending began: ingest again from scratch, campaign memory included.
    runStoreOf(ledger).clearRows(run.rid);
    await ingestIntoLedger(ledger, run.rid, spec, {
      expectedSha256: sha,
      memory: memoryScope(ledger, spec, run),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }
  const inDoubt = messageStoreOf(ledger).markInFlightUnknown(run.rid);
  // Receipts already stored for those requests settle them now (unknown → sent with the message id).
  if (inDoubt > 0) retryWaitingEvents(deliveryStoreFor(ledger), Date.now());
  const reopened = options.resendUnknown === true ? messageStoreOf(ledger).reopenUnknown(run.rid) : 0;
  const requeued = options.retryFailed === undefined ? 0 : messageStoreOf(ledger).reopenFailed(run.rid, options.retryFailed.codes);
  const textedElsewhere = skipTextedElsewhere(ledger, spec, run);
  return { run: runStoreOf(ledger).getRun(runId), spec, inDoubt, reopened, requeued, textedElsewhere };
}

/**
 * Settles a resumed run that has nothing left to send (no pending rows, none deferred to a send window):
 * marks it completed, so status tells the truth. Returns false when there is still work to do.
 */
export function settleIfNothingLeft(ledger: Ledger, run: RunRecord, counts: StatusCounts, now: number): boolean {
  if (counts.pending > 0 || counts.deferred > 0) return false;
  // prepareResume took the run; nothing will send it now.
  runStoreOf(ledger).setOwner(run.rid, null);
  if (run.state !== 'completed') runStoreOf(ledger).setRunState(run.rid, 'completed', { finishedAt: now });
  return true;
}

/** The sha256 of a run's source, checked unchanged since the run began (a resume sends only what it read). */
export async function unchangedSource(run: RunRecord, hint: CommandHint | undefined): Promise<string> {
  let sha: string;
  try {
    sha = await hashSource(run.sourcePath);
  } catch (err) {
    if (isAppError(err)) {
      throw new AppError('ERR_SOURCE_CHANGED', `cannot resume ${runLabel(run)}: its source ${run.sourcePath} is no longer readable (${err.message})`, { cause: err });
    }
    throw err;
  }
  if (sha !== run.sourceSha256) {
    throw new AppError(
      'ERR_SOURCE_CHANGED',
      `cannot resume ${runLabel(run)}: its source ${run.sourcePath} changed since the run began (sha256 ${run.sourceSha256.slice(0, 12)}… → ${sha.slice(0, 12)}…); ` +
        `run the job again instead (\`${(hint ?? commandHint())(['run', run.jobFile, ...(run.sandbox ? ['--sandbox'] : [])])}\`): ` +
        'it sends only the rows no run has texted yet',
    );
  }
  return sha;
}
