/**
 * Coalesces the dispatcher's ledger writes: everything asked for during one event-loop turn is
 * committed in one transaction at the next `setImmediate` (group commit).
 *
 * Why: a row must be durably `sending` before its request is written, and a durable commit costs an
 * fsync. One transaction per turn makes the number of fsyncs fall as load rises (hundreds of rows per
 * commit at full speed) while a lone message still waits for only one turn.
 *
 * A ledger may make a commit durable after `commit` returns (it fsyncs off the event loop and hands back
 * a promise through `deferDurability`). Then the rows' `markSending` promises resolve only once that
 * promise does, and no further commit starts while it is pending: what arrives meanwhile goes in the next
 * commit. Overlapping commits with the fsync was tried: ~10 % more messages/s at 64 requests in flight,
 * but more, smaller commits, and rows granted apart reached the wire together more often (the rate
 * benchmark's averages fell 2–6 % under its ceilings); fewer, larger commits keep the limits exact.
 *
 * Outcomes ride along with the next commit. A row's outcome is buffered before its connection slot is
 * freed, and every commit carries everything buffered, so after a kill the rows left `sending` are at
 * most the rows holding a slot at the last commit: never more than `max_concurrent`.
 */
import type { AttemptRecord, DispatchBatch, DispatchLedger, Outcome } from './ports.js';

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class LedgerWriter {
  readonly #ledger: DispatchLedger;
  #batch: DispatchBatch = { sending: [], outcomes: [], attempts: [] };
  #waiters: Waiter[] = [];
  #scheduled = false;
  /** A committed batch is waiting to become durable: the next commit waits for it. */
  #syncing = false;
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
    let durable: Promise<void> | undefined;
    batch.deferDurability = (p) => {
      durable = p;
    };
    try {
      this.#ledger.commit(batch);
    } catch (err) {
      this.#fail(err, waiters);
      return;
    }
    if (durable === undefined) {
      for (const w of waiters) w.resolve();
      return;
    }
    this.#syncing = true;
    durable.then(
      () => {
        this.#syncing = false;
        for (const w of waiters) w.resolve();
        this.#schedule();
      },
      (err: unknown) => {
        this.#syncing = false;
        this.#fail(err, waiters);
      },
    );
  }

  #fail(err: unknown, waiters: Waiter[]): void {
    this.#failed ??= err;
    for (const w of waiters) w.reject(err);
    // Rows buffered after the failed batch can never be committed either.
    for (const w of this.#waiters) w.reject(err);
    this.#waiters = [];
    this.onError(err);
  }

  #schedule(): void {
    if (this.#scheduled || this.#syncing || this.#failed !== undefined) return;
    if (this.#batch.sending.length === 0 && this.#batch.outcomes.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (!this.#syncing) this.flush();
    });
  }
}
