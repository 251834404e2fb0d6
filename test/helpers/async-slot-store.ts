/**
 * The scheduler's slot store answered asynchronously, as a database over the network would answer it:
 * each call waits a real asynchronous boundary (a timer) before it reaches the real SQLite store and
 * another after. What it does is real; only the round trip is added.
 */
import type { ClaimResult, DaemonRecord, SlotRecord, SlotState, SlotStore, SqliteSlotStore } from '../../src/ledger/slot-store.js';
import type { MaybePromise } from '../../src/shared/maybe-promise.js';

export class AsyncSlotStore implements SlotStore {
  readonly #inner: SqliteSlotStore;
  readonly #delayMs: number;
  /** Calls answered so far (proof that the daemon went through this store). */
  calls = 0;

  /** @param delayMs each leg of a round trip, ms */
  constructor(inner: SqliteSlotStore, delayMs = 1) {
    this.#inner = inner;
    this.#delayMs = delayMs;
  }

  registerDaemon(d: { daemonId: string; pid: number; host: string }, now: number): Promise<void> {
    return this.#call(() => this.#inner.registerDaemon(d, now));
  }
  heartbeat(daemonId: string, now: number): Promise<void> {
    return this.#call(() => this.#inner.heartbeat(daemonId, now));
  }
  markDaemonStopped(daemonId: string, now: number): Promise<void> {
    return this.#call(() => this.#inner.markDaemonStopped(daemonId, now));
  }
  daemon(daemonId: string): Promise<DaemonRecord | undefined> {
    return this.#call(() => this.#inner.daemon(daemonId));
  }
  lastChecked(job: string): Promise<number | undefined> {
    return this.#call(() => this.#inner.lastChecked(job));
  }
  recordChecked(job: string, checkedAt: number, missed: readonly { slot: string; reason: string }[], daemonId: string, now: number): Promise<number> {
    return this.#call(() => this.#inner.recordChecked(job, checkedAt, missed, daemonId, now));
  }
  /**
   * SQLite asks `busy` inside its transaction and needs the answer there, so it is asked first here: a
   * database over the network would ask it inside its own transaction instead.
   */
  async claim(job: string, slot: string, daemonId: string, now: number, busy: () => MaybePromise<string | undefined>): Promise<ClaimResult> {
    const reason = await busy();
    return this.#call(() => this.#inner.claim(job, slot, daemonId, now, () => reason));
  }
  setRun(job: string, slot: string, runId: string): Promise<void> {
    return this.#call(() => this.#inner.setRun(job, slot, runId));
  }
  finish(job: string, slot: string, now: number, skippedReason?: string): Promise<void> {
    return this.#call(() => this.#inner.finish(job, slot, now, skippedReason));
  }
  reclaim(job: string, slot: string, fromDaemonId: string | null, daemonId: string, now: number, reason: string): Promise<boolean> {
    return this.#call(() => this.#inner.reclaim(job, slot, fromDaemonId, daemonId, now, reason));
  }
  markMissed(job: string, slot: string, fromDaemonId: string | null, daemonId: string, now: number, reason: string): Promise<boolean> {
    return this.#call(() => this.#inner.markMissed(job, slot, fromDaemonId, daemonId, now, reason));
  }
  openClaims(job: string): Promise<{ slot: SlotRecord; daemon: DaemonRecord | undefined }[]> {
    return this.#call(() => this.#inner.openClaims(job));
  }
  slot(job: string, slot: string): Promise<SlotRecord | undefined> {
    return this.#call(() => this.#inner.slot(job, slot));
  }
  slots(job?: string): Promise<SlotRecord[]> {
    return this.#call(() => this.#inner.slots(job));
  }
  slotCounts(): Promise<{ job: string; state: SlotState; count: number }[]> {
    return this.#call(() => this.#inner.slotCounts());
  }
  latestScheduledRunId(job: string): Promise<string | undefined> {
    return this.#call(() => this.#inner.latestScheduledRunId(job));
  }
  unsettledRunIds(job: string): Promise<string[]> {
    return this.#call(() => this.#inner.unsettledRunIds(job));
  }

  async #call<T>(apply: () => T): Promise<T> {
    await this.#leg();
    const value = apply();
    await this.#leg();
    this.calls++;
    return value;
  }

  #leg(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.#delayMs));
  }
}
