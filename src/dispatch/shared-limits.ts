/**
 * Telnyx's limits shared with every other process sending on the same ledger. Bottleneck (the rate
 * gates) stays the local pacer; this caps each gate at the process's share of its limit, which it
 * settles with the others through the ledger's limits store in one small transaction every SYNC_MS
 * (never a write per message). The rule that keeps the sum of shares within each limit, and gives a
 * killed process's share back, is in ledger/limit-shares.ts.
 *
 * Daily caps (a 10DLC brand's) are counted in the ledger per UTC day, taken in small batches; a row
 * that finds the day's cap used up is deferred to the next UTC midnight, never failed.
 */
import type { DailyCap, LimitModel, SharedLimit } from '../config/limit-model.js';
import type { LimitClaim, LimitsStore, Settled } from '../ledger/limits-store.js';
import { FENCE_MS, windowHold } from '../ledger/limit-shares.js';
import { RateGate } from './rate-gate.js';
import { formatMicros } from '../shared/micros.js';

/** How often the shares are settled with the other processes. */
export const SYNC_MS = 50;
/** A gate unused this long gives its share to the others. */
const IDLE_MS = 1000;

/** What the dispatcher asks of the shared limits (the seam; absent, it paces by the job alone). */
export interface LimitGates {
  /** The run gate exists: cap it at this process's share of the account's limit. */
  runGate(gate: RateGate): void;
  /** The local ceiling of a sender's gate (its limit, lowered by the job's own figure). */
  senderCeiling(sender: string): number;
  /** A sender's gate exists: cap it at its share; returns the further gates its rows pass (its campaign's minute). */
  senderGate(sender: string, gate: RateGate): RateGate[];
  /** The run stops: every gate made here refuses new permits. */
  halt(reason: unknown): void;
}

export type DayDecision = { ok: true } | { ok: false; until: number; reason: string };

interface Tracked {
  limit: SharedLimit;
  gates: RateGate[];
  /** Units per window this process could use. */
  want: number;
  /** A campaign's: the sum of this process's ceilings for the campaign's numbers. */
  senderRate?: number;
}

export interface SharedLimitsOptions {
  store: LimitsStore;
  /** This process's name in the store, unique among the processes on the ledger. */
  holder: string;
  model: LimitModel;
  /** Wall clock (ms since the epoch): windows, heartbeats and UTC days. */
  now: () => number;
  /** Told when a sync fails (the gates stop until one succeeds). */
  onError?: (err: unknown) => void;
}

export class SharedLimits implements LimitGates {
  readonly holder: string;
  readonly #o: SharedLimitsOptions;
  readonly #tracked = new Map<string, Tracked>();
  readonly #campaignGates = new Map<string, RateGate>();
  /** Daily units taken from the ledger and not yet used, per cap key and day. */
  readonly #dayPool = new Map<string, { day: string; units: number }>();
  #timer: NodeJS.Timeout | undefined;
  #lastSync = -Infinity;
  #closed = false;
  #soon: NodeJS.Immediate | undefined;
  /** An extra sync when more room is due before the next one (a fade starting, a window ending). */
  #wake: { at: number; timer: NodeJS.Timeout } | undefined;

  constructor(options: SharedLimitsOptions) {
    this.#o = options;
    this.holder = options.holder;
  }

  runGate(gate: RateGate): void {
    this.#track(this.#o.model.account, gate, this.#o.model.runCeiling);
  }


  senderCeiling(sender: string): number {
    const s = this.#o.model.sender(sender);
    const rate = (s.perSecond.capacity * 1000) / s.perSecond.windowMs;
    const job = this.#o.model.jobPerSender;
    return job === undefined ? rate : Math.min(rate, job);
  }

  senderGate(sender: string, gate: RateGate): RateGate[] {
    const s = this.#o.model.sender(sender);
    const ceiling = this.senderCeiling(sender);
    this.#track(s.perSecond, gate, ceiling);
    if (s.campaign === undefined) return [];
    const limit = s.campaign;
    let campaign = this.#campaignGates.get(limit.key);
    if (campaign === undefined) {
      campaign = new RateGate({ ratePerSecond: (limit.capacity * 1000) / limit.windowMs, windowMs: limit.windowMs });
      this.#campaignGates.set(limit.key, campaign);
      this.#track(limit, campaign, 0);
    }
    // This process can use no more of the campaign than its numbers in it and its own ceiling allow:
    // claiming only that leaves the rest to the other processes at once, not a window later.
    const t = this.#tracked.get(limit.key)!;
    t.senderRate = (t.senderRate ?? 0) + ceiling;
    t.want = Math.min(limit.capacity, (Math.min(t.senderRate, this.#o.model.runCeiling) * limit.windowMs) / 1000);
    return [campaign];
  }

  halt(reason: unknown): void {
    for (const g of this.#campaignGates.values()) g.close(reason);
  }

  /**
   * Takes what a row counts against each daily cap for the UTC day of `at`: `units` of its sender's
   * brand cap, `micros` (its estimated price) of the account's spend cap. False (with when the caps
   * reset) when a cap has no room left today: the row waits for tomorrow, and takes nothing.
   */
  takeDay(sender: string, units: number, at: number, micros = 0): DayDecision {
    const taken: [DailyCap, number][] = [];
    const wanted: [DailyCap | undefined, number][] = [
      [this.#o.model.spendDay, micros],
      [this.#o.model.sender(sender).brandDay, units],
    ];
    for (const [cap, amount] of wanted) {
      if (cap === undefined || amount <= 0) continue;
      if (!this.#take(cap, amount, at)) {
        for (const [c, a] of taken) this.#giveBack(c, a, at);
        return { ok: false, until: nextUtcDay(at), reason: capReason(cap, utcDay(at)) };
      }
      taken.push([cap, amount]);
    }
    return { ok: true };
  }

  /**
   * Telnyx's answer said what a message cost: the day's spend counts that instead of the estimate
   * (`micros`: actual − estimated, summed over a commit's rows; one ledger write).
   */
  correctSpend(at: number, micros: number): void {
    const cap = this.#o.model.spendDay;
    if (cap === undefined || micros === 0) return;
    if (micros < 0) this.#giveBack(cap, -micros, at);
    else this.#o.store.takeDaily(cap.key, utcDay(at), Number.MAX_SAFE_INTEGER, micros);
  }

  #take(cap: DailyCap, amount: number, at: number): boolean {
    const pool = this.#pool(cap, at);
    if (pool.units < amount) {
      // In batches (about 50 rows' worth, at most 1 % of the cap), so the ledger is written once per
      // batch, not per message; small enough that a process ending early leaves little unused (it gives
      // the rest back on close).
      const want = amount - pool.units + Math.max(0, Math.min(49 * amount, Math.ceil(cap.cap / 100) - amount));
      pool.units += this.#o.store.takeDaily(cap.key, pool.day, cap.cap, want);
      if (pool.units < amount) return false;
    }
    pool.units -= amount;
    return true;
  }

  /** Units taken and not used (a row deferred by another cap, or a message that cost less) go back to the pool. */
  #giveBack(cap: DailyCap, amount: number, at: number): void {
    this.#pool(cap, at).units += amount;
  }

  #pool(cap: DailyCap, at: number): { day: string; units: number } {
    const day = utcDay(at);
    let pool = this.#dayPool.get(cap.key);
    if (pool === undefined || pool.day !== day) {
      if (pool !== undefined && pool.units > 0) this.#o.store.returnDaily(cap.key, pool.day, pool.units);
      pool = { day, units: 0 };
      this.#dayPool.set(cap.key, pool);
    }
    return pool;
  }

  /** Starts settling shares with the other processes (every SYNC_MS). */
  start(): void {
    this.#sync();
    this.#timer = setInterval(() => this.#sync(), SYNC_MS);
  }

  /**
   * Leaves: shares go back to the others as what this process sent leaves the window (at once for what
   * has left, if every request was answered; else after the slack and a window), unused daily units are
   * returned.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#soon !== undefined) clearImmediate(this.#soon);
    if (this.#wake !== undefined) clearTimeout(this.#wake.timer);
    for (const [key, pool] of this.#dayPool) if (pool.units > 0) this.#o.store.returnDaily(key, pool.day, pool.units);
    this.#dayPool.clear();
    const now = this.#o.now();
    // Gate times are monotonic ms from now; the wall clock counts whole ms, so the true now may be up to
    // 1 ms past `now`: each unit is taken to leave 1 ms later than it does, never earlier.
    const leaving = new Map<string, [number, number][]>();
    for (const [key, t] of this.#tracked) {
      const units = t.gates.length === 1 ? t.gates[0]!.leaving(t.limit.windowMs) : undefined;
      if (units !== undefined) leaving.set(key, units.map(([inMs, u]) => [now + inMs + 1, u]));
    }
    this.#o.store.leave(this.holder, now, leaving);
  }

  #track(limit: SharedLimit, gate: RateGate, localRate: number): void {
    let t = this.#tracked.get(limit.key);
    const want = Math.min(limit.capacity, (localRate * limit.windowMs) / 1000);
    if (t === undefined) {
      t = { limit, gates: [], want };
      this.#tracked.set(limit.key, t);
    }
    t.gates.push(gate);
    // No permit before a share: a new gate waits for the sync that gives it one (done now, synchronously).
    gate.setShare(0);
    // Many senders appear at once when a run starts: one sync for all of them.
    if (this.#timer !== undefined) this.#soon ??= setImmediate(() => {
      this.#soon = undefined;
      this.#sync();
    });
  }

  #sync(): void {
    if (this.#closed) return;
    const now = this.#o.now();
    const claims: LimitClaim[] = [];
    for (const t of this.#tracked.values()) {
      const busy = t.gates.some((g) => g.waiting > 0 || g.idleMs < IDLE_MS);
      claims.push({ key: t.limit.key, windowMs: t.limit.windowMs, capacity: t.limit.capacity, demand: busy ? t.want : 0 });
    }
    let settled: Settled;
    try {
      settled = this.#o.store.sync(this.holder, claims, now);
    } catch (err) {
      // The others will count this process as alive only until its fence: stop writing by then.
      if (now - this.#lastSync >= FENCE_MS) for (const t of this.#tracked.values()) for (const g of t.gates) g.setShare(0);
      this.#o.onError?.(err);
      return;
    }
    this.#lastSync = now;
    this.#wakeAt(settled.moreRoomAt, now);
    for (const t of this.#tracked.values()) {
      const row = settled.shares.get(t.limit.key);
      const perSecond = 1000 / t.limit.windowMs;
      // A changed share paces at once, while the window guard caps the window at what this process
      // reserves (limit-shares.ts). Timed from now, not from before the transaction: the gate's cap must
      // never be above the reservation, so a fading one is read 1 ms ahead (the wall clock counts whole
      // ms) and a ramping one as of now (the gate starts it a little later still).
      const w = row && windowHold(row, this.#o.now() + (row.peak < row.share ? 0 : 1));
      const hold = w && { ratePerSecond: w.peak * perSecond, heldMs: w.heldMs, fadeMs: w.fadeMs, pacedMs: w.pacedMs };
      for (const g of t.gates) g.setShare((row?.share ?? 0) * perSecond, hold);
    }
  }

  /**
   * Syncs again when more room is due (1 ms after it: the wall clock counts whole ms) if that comes
   * before the next regular sync: a process waiting for another's fade to start took its share half a
   * sync interval late on average, each time a process joined.
   */
  #wakeAt(at: number | undefined, now: number): void {
    if (at === undefined || at + 1 >= now + SYNC_MS) return;
    if (this.#wake !== undefined) {
      if (this.#wake.at <= at) return;
      clearTimeout(this.#wake.timer);
    }
    const timer = setTimeout(() => {
      this.#wake = undefined;
      this.#sync();
    }, Math.max(0, at + 1 - this.#o.now()));
    this.#wake = { at, timer };
  }
}

export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

export function nextUtcDay(at: number): number {
  const d = new Date(at);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

function capReason(cap: DailyCap, day: string): string {
  const what = cap.key.startsWith('brand:')
    ? `brand ${cap.key.slice('brand:'.length)}'s daily cap of ${cap.cap}`
    : cap.key === 'spend:USD'
      ? `the account's daily cap on spend of ${formatMicros(cap.cap)} USD`
      : `daily cap ${cap.key} of ${cap.cap}`;
  return `${what} is used up for ${day} (UTC); resets 00:00 UTC`;
}
