/**
 * A message row's states and the only moves between them, as a table the ledger enforces
 * (Bottleneck's States does the same for jobs). An illegal move is a bug: the ledger throws.
 *
 *   pending ──► sending ──► sent | failed | unknown
 *      │           │
 *      │           └──► pending   the answer proves nothing was created (retryable, throttled, fatal)
 *      └──► skipped               by rule at ingest (invalid, duplicate, suppressed, …), or opted out since
 *   unknown ──► pending           only by `resume --resend-unknown`: the operator accepts the risk
 *   failed ──► pending            only by `resume --retry-failed`, and only when every recorded attempt
 *                                 proves no message was created (see Ledger.reopenFailed)
 *   unknown ──► sent              a delivery receipt proves the in-doubt request was accepted
 *   pending ──► deferred          outside the recipient's send window; waits until it opens
 *   deferred ──► sending          the window opened (deferred ──► deferred: still closed, new time)
 *   pending | deferred ──► expired  `expires_after` passed first: never sent
 *   pending | deferred ──► skipped  also during a run: the recipient opted out (STOP) meanwhile
 */
export type RowStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'unknown' | 'skipped' | 'deferred' | 'expired';

export const rowStatuses: readonly RowStatus[] = ['pending', 'sending', 'sent', 'failed', 'unknown', 'skipped', 'deferred', 'expired'];

export const transitions: Readonly<Record<RowStatus, readonly RowStatus[]>> = {
  pending: ['sending', 'skipped', 'deferred', 'expired'],
  sending: ['sent', 'failed', 'unknown', 'pending'],
  sent: [],
  failed: ['pending'],
  unknown: ['pending', 'sent'],
  skipped: [],
  deferred: ['sending', 'deferred', 'expired', 'skipped'],
  expired: [],
};

export function canMove(from: RowStatus, to: RowStatus): boolean {
  return transitions[from].includes(to);
}

/** The states a row may be in for a move into `to` to be legal. */
export function sourcesOf(to: RowStatus): RowStatus[] {
  return rowStatuses.filter((from) => canMove(from, to));
}

/**
 * A run's states and the only moves between them; `setRunState` enforces the table.
 *
 *   ingesting ──► running ──► completed | aborted | interrupted
 *                    ▲             │          │          │
 *                    └─────────────┴──────────┴──────────┘   resume (completed: --resend-unknown)
 *   any unfinished state ──► cancelled   `bulktext cancel`: final, neither resume nor the scheduler takes it up
 *
 * A run that dies while ingesting may be settled directly (interrupted, completed, aborted).
 */
export type RunState = 'ingesting' | 'running' | 'interrupted' | 'completed' | 'aborted' | 'cancelled';

export const runStates: readonly RunState[] = ['ingesting', 'running', 'interrupted', 'completed', 'aborted', 'cancelled'];

export const runTransitions: Readonly<Record<RunState, readonly RunState[]>> = {
  ingesting: ['running', 'interrupted', 'completed', 'aborted', 'cancelled'],
  running: ['running', 'interrupted', 'completed', 'aborted', 'cancelled'],
  interrupted: ['running', 'interrupted', 'completed', 'cancelled'],
  aborted: ['running', 'completed', 'cancelled'],
  completed: ['running', 'completed'],
  cancelled: [],
};

/** The run states a move into `to` is allowed from. */
export function runSourcesOf(to: RunState): RunState[] {
  return runStates.filter((from) => runTransitions[from].includes(to));
}

/**
 * A scheduler slot's states (table schedule_slots, migration 4) and the only moves between them.
 *
 *   started ──► skipped   its run could not start, or the daemon stopped first (SlotStore.finish)
 *      │
 *      └──► missed        its claimer died before the run began, longer ago than catch_up (SlotStore.markMissed)
 *
 * A slot is inserted in any of the three (skipped: the job was busy; missed: the scheduler was down).
 * `started` stays `started` when its run ends (finished_at is set) or another daemon takes it over.
 */
export type SlotState = 'started' | 'skipped' | 'missed';

export const slotStates: readonly SlotState[] = ['started', 'skipped', 'missed'];

export const slotTransitions: Readonly<Record<SlotState, readonly SlotState[]>> = {
  started: ['started', 'skipped', 'missed'],
  skipped: [],
  missed: [],
};

/** The slot states a move into `to` is allowed from. */
export function slotSourcesOf(to: SlotState): SlotState[] {
  return slotStates.filter((from) => slotTransitions[from].includes(to));
}

/** A string as a SQL literal ('it''s'): the same in SQLite and PostgreSQL. */
export const sqlLiteral = (s: string): string => `'${s.replace(/'/g, "''")}'`;
/** States as an SQL list (`'a', 'b'`), for the `WHERE status IN (…)` a table compiles into. */
export const sqlList = (states: readonly string[]): string => states.map(sqlLiteral).join(', ');
