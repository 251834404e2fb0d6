import { cancelRun } from '../../campaign/cancel-run.js';
import { publicState } from '../../campaign/status.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { RunRecord } from '../../ledger/run-store.js';
import { sleepUnlessAborted } from '../../shared/clock.js';
import type { Io } from '../io.js';
import { openExistingLedger, pgUrlOf } from '../ledger-file.js';
import { cancelOnPg, withPgLedger } from '../pg-commands.js';
import { messageStoreOf } from '../../ledger/message-store.js';
import { runStoreOf } from '../../ledger/run-store.js';

export interface CancelOptions {
  runId: string;
  db?: string | undefined;
  /** How long to wait for the owning process to stop. @default 30000 */
  waitMs?: number;
}

/** The owner stops within a poll (1 s) plus its requests' settling (at most 15 s). */
const OWNER_STOP_MS = 30_000;

async function ownerStopped(ledger: Ledger, runId: string, until: number, signal: AbortSignal): Promise<RunRecord | undefined> {
  while (Date.now() < until && !signal.aborted) {
    const run = runStoreOf(ledger).getRun(runId);
    if (publicState(run) !== 'running') return run;
    await sleepUnlessAborted(200, signal);
  }
  return undefined;
}

export async function cancelCommand(o: CancelOptions, io: Io): Promise<number> {
  const pgUrl = pgUrlOf(o.db, io);
  if (pgUrl !== undefined) return withPgLedger(pgUrl, (pg) => cancelOnPg(pg, o.runId, { waitMs: o.waitMs ?? OWNER_STOP_MS }, io));
  const ledger = openExistingLedger(o.db, io, { readonly: false });
  try {
    const outcome = cancelRun(ledger, o.runId, Date.now());
    if (outcome.kind === 'already') {
      io.stderr(`run ${o.runId} was already cancelled\n`);
      return 0;
    }
    if (outcome.kind === 'cancelled') {
      const inDoubt = outcome.inDoubt > 0 ? `; ${outcome.inDoubt} row(s) left in flight are unknown (Telnyx may have sent them)` : '';
      io.stderr(`run ${o.runId} cancelled: nothing was sending it, and neither resume nor the scheduler will pick it up${inDoubt}\n`);
      return 0;
    }
    const owner = `process ${outcome.run.ownerPid ?? '?'}${outcome.run.ownerHost === null ? '' : ` on ${outcome.run.ownerHost}`}`;
    io.stderr(`run ${o.runId}: cancel requested; ${owner} stops taking rows and lets requests in flight settle\n`);
    const after = await ownerStopped(ledger, o.runId, Date.now() + (o.waitMs ?? OWNER_STOP_MS), io.signal);
    if (after === undefined) {
      io.stderr(`run ${o.runId}: ${owner} has not stopped yet; the request stays in the ledger and it stops at its next check\n`);
      return 0;
    }
    const c = messageStoreOf(ledger).counts(after.rid);
    io.stderr(`run ${o.runId} ${publicState(after)}: sent ${c.sent}, not sent ${c.pending + c.deferred}${c.unknown > 0 ? `, unknown ${c.unknown}` : ''}\n`);
    return 0;
  } finally {
    ledger.close();
  }
}
