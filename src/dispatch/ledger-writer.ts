/**
 * Coalesces the dispatcher's ledger writes: everything asked for during one event-loop turn is
 * committed in one transaction at the next `setImmediate`.
 *
 * Why: a row must be committed as `sending` before its request is written, and a durable commit costs an
 * fsync. One transaction per turn makes the number of fsyncs fall as load rises (hundreds of rows per
 * commit at full speed) while a lone message still waits for only one turn. Outcomes ride along with the
 * next commit, so after a kill the rows left `sending` are at most those in flight plus those answered
 * within the last turn.
 */
import type { AttemptRecord, DispatchLedger, Outcome, WriteBatch } from './ports.js';

export class LedgerWriter {
  readonly #ledger: DispatchLedger;
  #batch: WriteBatch = { sending: [], outcomes: [], attempts: [] };
  #waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  #scheduled = false;
  #failed: unknown = undefined;
  /** Called with the error when a commit fails (an illegal move is a bug): the run must stop. */
  onError: (err: unknown) => void = () => {};

  constructor(ledger: DispatchLedger) {
    this.#ledger = ledger;
  }

  /** Resolves once the row is durably `sending`: only then may its request be written. */
  markSending(row: number, at: number): Promise<void> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    this.#batch.sending.push({ row, at });
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    this.#schedule();
    return done;
  }

  /** Buffers a row's outcome (and the attempt that produced it, if any) for the next commit. */
  outcome(outcome: Outcome, attempt?: AttemptRecord): void {
    this.#batch.outcomes.push(outcome);
    if (attempt !== undefined) this.#batch.attempts.push(attempt);
    this.#schedule();
  }

  /** Commits whatever is buffered now (used when the run ends or is interrupted). */
  flush(): void {
    const batch = this.#batch;
    const waiters = this.#waiters;
    if (batch.sending.length === 0 && batch.outcomes.length === 0) return;
    this.#batch = { sending: [], outcomes: [], attempts: [] };
    this.#waiters = [];
    try {
      this.#ledger.commit(batch);
    } catch (err) {
      this.#failed = err;
      for (const w of waiters) w.reject(err);
      this.onError(err);
      return;
    }
    for (const w of waiters) w.resolve();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.flush();
    });
  }
}
