/**
 * One `schedule` daemon of those on a ledger leads (fires slots); the others stand by. The lease lives in the
 * ledger (LeaderStore): the leader renews it every `renewMs`, a standby asks for it as often and gets it once
 * it has expired, was released, or its holder is known dead. A dead leader is so replaced within
 * leaseMs + renewMs.
 *
 * The leader trusts its lease only until `leaseMs` after it *sent* the renewal that the store granted, on
 * this process's monotonic clock: the store's expiry is at least that late, so a leader that paused (or lost
 * the ledger) stops firing before anyone else may start. Nothing else is fenced: a claim the old leader was
 * already making still meets the slot's unique key, so a slot fires once either way.
 */
import type { LeaderStore } from '../ledger/leader-store.js';
import type { MaybePromise } from '../shared/maybe-promise.js';

export interface LeadershipEvents {
  /** This daemon leads from now (`from`: the holder it replaced, when it knows one). */
  onLead(from: string | undefined): void;
  /** This daemon no longer leads, and why. */
  onLose(why: string): void;
  /** Who leads when this one stands by, on each change of leader (undefined: nobody). */
  onStandby(holder: string | undefined): void;
  /** A lease call failed (the ledger is unreachable), or succeeded again. */
  onStoreError(err: unknown): void;
  onStoreOk(): void;
}

export interface LeadershipOptions {
  daemonId: string;
  store: LeaderStore;
  /** Lease length, ms. */
  leaseMs: number;
  /** Renewal (and standby attempt) interval, ms; well under leaseMs. */
  renewMs: number;
  /** Whether the daemon holding the lease is known to be dead (its process is gone, or it stopped). */
  holderDead(holderId: string): MaybePromise<boolean>;
  events: LeadershipEvents;
}

export class Leadership {
  readonly #o: LeadershipOptions;
  #leading = false;
  /** performance.now() until which the granted lease is trusted. */
  #validUntil = 0;
  #holder: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #attempt: Promise<void> | undefined;
  #closed = false;

  constructor(options: LeadershipOptions) {
    this.#o = options;
  }

  /** Whether this daemon may fire a slot now. */
  get leading(): boolean {
    return this.#leading && performance.now() < this.#validUntil;
  }

  /** The leader as last seen (this daemon's id when it leads). */
  get holder(): string | undefined {
    return this.#holder;
  }

  /** Asks for the lease once now, then every renewMs. */
  async start(): Promise<void> {
    await this.tick();
    if (!this.#closed) this.#timer = setInterval(() => void this.tick(), this.#o.renewMs);
  }

  /** One attempt to take or renew the lease (one at a time: a slow store does not pile them up). */
  tick(): Promise<void> {
    this.#attempt ??= this.#try().finally(() => {
      this.#attempt = undefined;
    });
    return this.#attempt;
  }

  async #try(): Promise<void> {
    if (this.#closed) return;
    const { daemonId, store, leaseMs, events } = this.#o;
    const sentAt = performance.now();
    let holder: string | undefined;
    /** The dead holder this attempt took the lease from. */
    let replaced: string | undefined;
    try {
      holder = (await store.acquire(daemonId, leaseMs, Date.now()))?.daemonId;
      if (holder !== undefined && holder !== daemonId && !this.#leading && (await this.#o.holderDead(holder))) {
        // Of two standbys taking over, the one that lost reads who won.
        const dead = holder;
        if (await store.takeOver(dead, daemonId, leaseMs, Date.now())) {
          holder = daemonId;
          replaced = dead;
        } else {
          holder = (await store.holder(Date.now()))?.daemonId;
        }
      }
      events.onStoreOk();
    } catch (err) {
      events.onStoreError(err);
      if (this.#leading && performance.now() >= this.#validUntil) this.#lose('the ledger did not answer before the lease ran out');
      return;
    }
    if (this.#closed) return;
    const before = this.#holder;
    this.#holder = holder;
    if (holder === daemonId) {
      // Lapsed and granted again (a pause nobody used): slots due meanwhile are decided afresh, as after a takeover.
      const lapsed = performance.now() >= this.#validUntil;
      this.#validUntil = sentAt + leaseMs;
      if (!this.#leading || lapsed) {
        this.#leading = true;
        events.onLead(replaced ?? (before === daemonId ? undefined : before));
      }
      return;
    }
    if (this.#leading) this.#lose(`scheduler ${holder ?? '(none)'} holds the lease now`);
    else if (holder !== before) events.onStandby(holder);
  }

  #lose(why: string): void {
    this.#leading = false;
    this.#validUntil = 0;
    this.#o.events.onLose(why);
  }

  /** Stops asking; the lease (if held) stays until release() or its expiry. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#attempt;
  }

  /** Gives the lease up (a clean stop), so a standby takes over at its next attempt. */
  async release(): Promise<void> {
    const wasLeading = this.#leading;
    this.#leading = false;
    if (wasLeading || this.#holder === this.#o.daemonId) await this.#o.store.release(this.#o.daemonId);
  }
}
