/**
 * A message row's states and the only moves between them, as a table the ledger enforces
 * (Bottleneck's States does the same for jobs). An illegal move is a bug: the ledger throws.
 *
 *   pending ──► sending ──► sent | failed | unknown
 *      │           │
 *      │           └──► pending   the answer proves nothing was created (retryable, throttled, fatal)
 *      └──► skipped               by rule at ingest (invalid, duplicate, suppressed, …)
 *   unknown ──► pending           only by `resume --resend-unknown`: the operator accepts the risk
 *   unknown ──► sent              a delivery receipt proves the in-doubt request was accepted
 */
export type RowStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'unknown' | 'skipped';

export const rowStatuses: readonly RowStatus[] = ['pending', 'sending', 'sent', 'failed', 'unknown', 'skipped'];

export const transitions: Readonly<Record<RowStatus, readonly RowStatus[]>> = {
  pending: ['sending', 'skipped'],
  sending: ['sent', 'failed', 'unknown', 'pending'],
  sent: [],
  failed: [],
  unknown: ['pending', 'sent'],
  skipped: [],
};

export function canMove(from: RowStatus, to: RowStatus): boolean {
  return transitions[from].includes(to);
}

/** The states a row may be in for a move into `to` to be legal. */
export function sourcesOf(to: RowStatus): RowStatus[] {
  return rowStatuses.filter((from) => canMove(from, to));
}

/** States in which a row is finished for this run (nothing more will be sent for it). */
export const finalStatuses: readonly RowStatus[] = ['sent', 'failed', 'skipped'];

export type RunState = 'ingesting' | 'running' | 'interrupted' | 'completed' | 'aborted';
