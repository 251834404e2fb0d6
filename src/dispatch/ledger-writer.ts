/**
 * Coalesces the dispatcher's ledger writes: everything asked for during one event-loop turn is
 * committed in one transaction at the next `setImmediate` (group commit).
 *
 * Why: a row must be durably `sending` before its request is written, and a durable commit costs an
 * fsync. One transaction per turn makes the number of fsyncs fall as load rises (hundreds of rows per
 * commit at full speed) while a lone message still waits for only one turn.
 *
 * A commit may settle later: the ledger answers with a Promise (a database over the network), or makes
 * the commit durable after it returns (it fsyncs off the event loop and hands back a promise through
 * `deferDurability`). Then the rows' `markSending` promises resolve only once it has settled, and no
 * further commit starts meanwhile: what arrives goes in the next commit. One commit at a time is also what
 * keeps a row's mark and its outcome in order on a backend that could run two transactions at once.
 * Overlapping commits with the fsync was tried: ~10 % more messages/s at 64 requests in flight,
 * but more, smaller commits, and rows granted apart reached the wire together more often (the rate
 * benchmark's averages fell 2–6 % under its ceilings); fewer, larger commits keep the limits exact.
 *
 * Outcomes ride along with the next commit. A row's outcome is buffered before its connection slot is
 * freed, and every commit carries everything buffered, so after a kill the rows left `sending` are at
 * most the rows holding a slot at the last commit: never more than `max_concurrent`.
 */
import type { AttemptRecord, DispatchBatch, DispatchLedger, Outcome } from './ports.js';
import { isPromise, type MaybePromise } from '../shared/maybe-promise.js';

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class LedgerWriter {
  readonly #ledger: DispatchLedger;
  #batch: DispatchBatch = { sending: [], outcomes: [], attempts: [] };
  #waiters: Waiter[] = [];
  #scheduled = false;
  /** A commit that has not settled (its answer or its durability is still to come); never rejects. */
  #inFlight: Promise<void> | undefined;
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

  /**
   * Commits everything buffered, after the commit in flight (used when the run ends or is interrupted);
   * resolves once all of it has settled. After a failed commit it still commits the outcomes buffered
   * since: those rows' marks were committed earlier, and their answers are worth keeping.
   */
  async drain(): Promise<void> {
    for (;;) {
      if (this.#inFlight !== undefined) await this.#inFlight;
      else if (this.#batch.sending.length > 0 || this.#batch.outcomes.length > 0) this.#commit();
      else return;
    }
  }

  #commit(): void {
    const batch = this.#batch;
    const waiters = this.#waiters;
    if (batch.sending.length === 0 && batch.outcomes.length === 0) return;
    this.#batch = { sending: [], outcomes: [], attempts: [] };
    this.#waiters = [];
    let durable: Promise<void> | undefined;
    batch.deferDurability = (p) => {
      durable = p;
    };
    let committed: MaybePromise<void>;
    try {
      committed = this.#ledger.commit(batch);
    } catch (err) {
      this.#fail(err, waiters);
      return;
    }
    // `durable` is read once the commit has answered: an asynchronous ledger may defer durability too.
    const settled = isPromise(committed) ? committed.then(() => durable) : durable;
    if (settled === undefined) {
      for (const w of waiters) w.resolve();
      return;
    }
    this.#inFlight = settled.then(
      () => {
        this.#inFlight = undefined;
        for (const w of waiters) w.resolve();
        this.#schedule();
      },
      (err: unknown) => {
        this.#inFlight = undefined;
        this.#fail(err, waiters);
      },
    );
  }

  #fail(err: unknown, waiters: Waiter[]): void {
    this.#failed ??= err;
    for (const w of waiters) w.reject(err);
    // Marks buffered after the failed batch are refused too, and dropped: their requests are never
    // written, so their rows stay pending rather than becoming in doubt at the final drain.
    for (const w of this.#waiters) w.reject(err);
    this.#waiters = [];
    this.#batch.sending = [];
    this.onError(err);
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight !== undefined || this.#failed !== undefined) return;
    if (this.#batch.sending.length === 0 && this.#batch.outcomes.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#inFlight === undefined) this.#commit();
    });
  }
}
