/**
 * The dispatcher's ledger port answered asynchronously, as a database over the network would answer it:
 * each call waits a real asynchronous boundary (a timer) before it reaches the real SQLite ledger and
 * another after, so the dispatcher sees only Promises. What it does is real; only the round trip is added.
 * It also records what a test needs to judge the dispatcher: how many calls were in flight at once, and
 * when each row's `sending` mark was committed and durable.
 */
import type { DispatchBatch, DispatchLedger, PendingMessage } from '../../src/dispatch/ports.js';
import type { Ledger } from '../../src/ledger/ledger.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';

export interface AsyncLedgerOptions {
  /** Each leg of a round trip, ms (0: one `setImmediate`). @default 1 */
  delayMs?: number;
  /** Called before the n-th commit (from 1) reaches the ledger: an error returned makes that commit reject, unapplied. */
  failCommit?: (n: number, batch: DispatchBatch) => Error | undefined;
}

export class AsyncDispatchLedger implements DispatchLedger {
  readonly #ledger: Ledger;
  readonly #rid: number;
  readonly #options: AsyncLedgerOptions;
  /** Date.now() when each row's latest `sending` mark was committed, durable, and answered. */
  readonly markedAt = new Map<number, number>();
  commits = 0;
  readonly #inFlight = { read: 0, commit: 0 };
  /** The most reads, and the most commits, that were in flight at once. */
  readonly maxInFlight = { read: 0, commit: 0 };

  constructor(ledger: Ledger, rid: number, options: AsyncLedgerOptions = {}) {
    this.#ledger = ledger;
    this.#rid = rid;
    this.#options = options;
  }

  nextPending(afterRow: number, limit: number): Promise<PendingMessage[]> {
    return this.#call('read', () => messageStoreOf(this.#ledger).nextPending(this.#rid, afterRow, limit));
  }

  nextDue(now: number, limit: number): Promise<PendingMessage[]> {
    return this.#call('read', () => messageStoreOf(this.#ledger).nextDue(this.#rid, now, limit));
  }

  nextDeferral(): Promise<number | undefined> {
    return this.#call('read', () => messageStoreOf(this.#ledger).nextDeferral(this.#rid));
  }

  async commit(batch: DispatchBatch): Promise<void> {
    const n = ++this.commits;
    let durable: Promise<void> | undefined;
    await this.#call('commit', () => {
      const failure = this.#options.failCommit?.(n, batch);
      if (failure !== undefined) throw failure;
      // The real ledger may defer its fsync; the dispatcher gets that promise as it would from SQLite.
      messageStoreOf(this.#ledger).commit(this.#rid, { ...batch, deferDurability: (p) => (durable = p) });
    });
    const rows = batch.sending.map((s) => s.row);
    const stamp = () => {
      const at = Date.now();
      for (const row of rows) this.markedAt.set(row, at);
    };
    if (durable === undefined) {
      stamp();
      return;
    }
    batch.deferDurability?.(durable);
    durable.then(stamp, () => {});
  }

  async #call<T>(kind: 'read' | 'commit', apply: () => T): Promise<T> {
    this.maxInFlight[kind] = Math.max(this.maxInFlight[kind], ++this.#inFlight[kind]);
    try {
      await this.#leg();
      const value = apply();
      await this.#leg();
      return value;
    } finally {
      this.#inFlight[kind]--;
    }
  }

  #leg(): Promise<void> {
    const ms = this.#options.delayMs ?? 1;
    return new Promise((resolve) => (ms === 0 ? setImmediate(resolve) : setTimeout(resolve, ms)));
  }
}
