/**
 * The library's read side: a run's status, every run, and a run's report rows, as `bulktext status
 * --json` and `bulktext report --format json` print them. Reading never creates a ledger.
 */
import { reportRow, type ReportRow } from '../campaign/report.js';
import { runStatus, type RunStatus } from '../campaign/status.js';
import { Ledger } from '../ledger/ledger.js';
import { requireLedgerFile } from '../ledger/require-ledger.js';
import { resolveIn } from './campaign.js';
import { messageStoreOf } from '../ledger/message-store.js';
import { runStoreOf } from '../ledger/run-store.js';

export interface ReadOptions {
  /** The ledger file. Relative paths resolve against `cwd`. */
  db: string;
  /** @default process.cwd() */
  cwd?: string;
}

function openExisting(o: ReadOptions): Ledger {
  const file = requireLedgerFile(resolveIn(o.cwd, o.db));
  // Read-only: reading works on a ledger this process may not write, and never changes it.
  return new Ledger(file, { readonly: true });
}

function withLedger<T>(o: ReadOptions, read: (ledger: Ledger) => T): T {
  const ledger = openExisting(o);
  try {
    return read(ledger);
  } finally {
    ledger.close();
  }
}

/** One run's status (`status <run-id> --json`). @throws AppError ERR_RUN_NOT_FOUND */
export function getStatus(runId: string, o: ReadOptions): RunStatus {
  return withLedger(o, (ledger) => runStatus(ledger, runStoreOf(ledger).getRun(runId)));
}

/** Every run, newest first (`status --json`). */
export function listRuns(o: ReadOptions): RunStatus[] {
  return withLedger(o, (ledger) => runStoreOf(ledger).listRuns().map((run) => runStatus(ledger, run)));
}

/**
 * One object per input row, in row order, streamed from the ledger (a million-row run never sits in
 * memory). The ledger stays open until the iteration ends or is broken off.
 */
export function* reportRows(runId: string, o: ReadOptions): Generator<ReportRow, void, undefined> {
  const ledger = openExisting(o);
  try {
    const run = runStoreOf(ledger).getRun(runId);
    for (const m of messageStoreOf(ledger).messages(run.rid)) yield reportRow(m);
  } finally {
    ledger.close();
  }
}
