/**
 * A rate gate: hands out permits at a steady rate, FIFO, with Bottleneck as the pacing engine.
 *
 * Why not one Bottleneck job per message: one Bottleneck limiter completes only ~400 jobs/s on this
 * machine whatever its settings (its local datastore is bound by timers), below what one Telnyx short code
 * accepts. So a Bottleneck job here is a *tick* that grants a batch of permits: tokens accrue by wall-clock
 * time (so the average rate is exact even when timers fire late), Bottleneck's `minTime` spaces the ticks
 * (at most 200 ticks/s), and each tick grants every waiter the accrued tokens cover.
 *
 * Why the effective rate is 1.2 % under the ceiling and the bucket is tiny: the ceiling is held over every
 * sliding one-second window, not just on average. A token bucket of capacity C at rate r' lets at most
 * C + r'·T permits through in any window of length T; with C ≈ 1 % of the ceiling (at least one permit)
 * plus 5 ms worth of timer slack, and r' = 98.8 % of the ceiling, a one-second window never holds more than
 * the ceiling, with ~8 ms of margin for network jitter before the far end could see a burst.
 *
 * A sliding log of *write* times adds a hard guarantee on top for ceilings up to 100,000/s: no window of
 * `windowMs` (plus WIRE_SLACK_MS) ever holds more writes than the ceiling, even after a stall. It is kept
 * at the wire, not at the grant, because a granted row still waits for its durable `sending` mark, and
 * that wait varies (an fsync, a GC pause): rows granted apart can reach the socket together. The caller
 * asks `permit.wireWait()` right before writing, sleeps if told to, and calls `permit.sent()` in the same
 * synchronous step as the write, so the check and the record cannot be split by another row.
 *
 * Exclusive mode (per-sender gates at low rates, e.g. 1 msg/s per long code): only one permit is out at a
 * time and the next one is timed from the moment the previous message was actually sent (`permit.sent()`),
 * not from when its permit was granted. Otherwise a row that waited for a connection slot after its sender
 * permit could leave less than the sender's interval before the next one.
 */
import Bottleneck from 'bottleneck';

/** Fraction of the ceiling the gate actually paces at (see the module comment). */
export const RATE_SAFETY = 0.988;
/** Bottleneck's minTime between ticks: at most 200 ticks/s, half of what one limiter can do here. */
export const TICK_MS = 5;
const SLACK_MS = 5;
const LOG_LIMIT = 100_000;
/** Extra width of the sliding window at the wire: room for jitter between our write and the far end. */
const WIRE_SLACK_MS = 5;

export interface Permit {
  /** Milliseconds to wait before the request may be written (0: now), so the sliding window holds at the wire. */
  wireWait(): number;
  /**
   * Call when the request is written, synchronously with `wireWait()` returning 0: the write is logged,
   * and an exclusive gate times the next permit from here.
   */
  sent(): void;
  /** Call when the permit was not used (stop, abort): an exclusive gate releases its slot. */
  release(): void;
}

export interface RateGateOptions {
  /** Ceiling in units (messages, or parts) per second. */
  ratePerSecond: number;
  /** One permit out at a time, next permit timed from `sent()`. @default false */
  exclusive?: boolean;
  /** Window of the hard sliding-log guard. @default 1000 */
  windowMs?: number;
  /** The Bottleneck limiter that paces ticks (a Group key for per-sender gates). */
  limiter?: Bottleneck;
  /** Monotonic clock in ms. @default performance.now */
  now?: () => number;
}

/** The permit of a gate without a sliding log (over LOG_LIMIT/s): nothing to check or record at the wire. */
const unloggedPermit: Permit = { wireWait: () => 0, sent() {}, release() {} };

interface Waiter {
  units: number;
  resolve: (permit: Permit) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class RateGate {
  readonly exclusive: boolean;
  readonly #limiter: Bottleneck;
  readonly #now: () => number;
  readonly #windowMs: number;
  #ceiling = 0;
  #rate = 0; // effective units per ms
  #capacity = 1;
  #tokens: number;
  #lastRefill: number;
  #queue: Waiter[] = [];
  #head = 0;
  #ticking = false;
  #outstanding = false; // exclusive: a permit is out
  #log: Float64Array | null = null; // grant times, ring buffer (one entry per unit)
  #logNext = 0;
  #logSize = 0;
  #closed: unknown = undefined;

  constructor(options: RateGateOptions) {
    this.exclusive = options.exclusive ?? false;
    this.#limiter = options.limiter ?? new Bottleneck({ maxConcurrent: 1, minTime: TICK_MS });
    this.#now = options.now ?? (() => performance.now());
    this.#windowMs = options.windowMs ?? 1000;
    this.setRate(options.ratePerSecond);
    // Start with one permit (not a full bucket): a run's first second must not burst either.
    this.#tokens = Math.min(1, this.#capacity);
    this.#lastRefill = this.#now();
  }

  /** The configured ceiling currently in force (units/s). */
  get ratePerSecond(): number {
    return this.#ceiling;
  }

  get waiting(): number {
    return this.#queue.length - this.#head;
  }

  /** Changes the ceiling live (adaptive slow-down and recovery). */
  setRate(ratePerSecond: number): void {
    if (!(ratePerSecond > 0)) throw new RangeError(`rate must be positive, got ${ratePerSecond}`);
    if (this.#ceiling !== 0) this.#refill();
    this.#ceiling = ratePerSecond;
    this.#rate = (ratePerSecond * RATE_SAFETY) / 1000;
    this.#capacity = this.exclusive ? 1 : Math.max(1, Math.floor(ratePerSecond * 0.01)) + this.#rate * SLACK_MS;
    const logUnits = Math.floor(ratePerSecond * (this.#windowMs / 1000));
    if (!this.exclusive && logUnits >= 1 && logUnits <= LOG_LIMIT) {
      if (this.#log === null || this.#log.length !== logUnits) {
        this.#log = new Float64Array(logUnits).fill(-Infinity);
        this.#logNext = 0;
        this.#logSize = logUnits;
      }
    } else {
      this.#log = null;
    }
  }

  /** Resolves with a permit for `units` (FIFO). Rejects if `signal` aborts or the gate is closed. */
  take(units = 1, signal?: AbortSignal): Promise<Permit> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    if (signal?.aborted) return Promise.reject(signal.reason);
    // Nobody queued and the bucket and the window both allow it now: grant without a tick. Ticks cost up
    // to TICK_MS of latency per gate per row, which caps a run far below its ceiling when the ceiling is
    // not what binds; the bucket and the sliding log are checked exactly as a tick checks them.
    if (this.waiting === 0 && !this.#outstanding) {
      this.#refill();
      if (this.#tokens >= Math.min(units, this.#capacity) && this.#logWait(Math.min(units, this.#logSize || units)) === 0) {
        this.#tokens -= units;
        return Promise.resolve(this.#permit(units));
      }
    }
    return new Promise<Permit>((resolve, reject) => {
      const waiter: Waiter = { units, resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const i = this.#queue.indexOf(waiter, this.#head);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
      this.#schedule();
    });
  }

  /** Rejects every waiter and refuses new ones. */
  close(reason: unknown): void {
    this.#closed = reason;
    for (let i = this.#head; i < this.#queue.length; i++) {
      const w = this.#queue[i]!;
      this.#detach(w);
      w.reject(reason);
    }
    this.#queue = [];
    this.#head = 0;
  }

  #schedule(): void {
    if (this.#ticking || this.waiting === 0 || this.#outstanding) return;
    this.#ticking = true;
    this.#limiter
      .schedule(() => this.#tick())
      .catch(() => {
        // A stopped limiter: waiters are rejected by close().
      })
      .finally(() => {
        this.#ticking = false;
        this.#schedule();
      });
  }

  async #tick(): Promise<void> {
    while (this.waiting > 0 && !this.#outstanding && this.#closed === undefined) {
      const head = this.#queue[this.#head]!;
      const need = Math.min(head.units, this.#capacity);
      this.#refill();
      let wait = this.#tokens >= need ? 0 : (need - this.#tokens) / this.#rate;
      wait = Math.max(wait, this.#logWait(Math.min(head.units, this.#logSize || head.units)));
      if (wait > 0) {
        // Sleep inside the Bottleneck job: the next tick cannot start before this one has granted.
        await new Promise((r) => setTimeout(r, Math.ceil(wait)));
        continue;
      }
      // Grant every waiter the tokens cover in this tick.
      let granted = 0;
      while (this.waiting > 0 && !this.#outstanding) {
        const w = this.#queue[this.#head]!;
        const n = Math.min(w.units, this.#capacity);
        if (this.#tokens < n || (granted > 0 && this.#logWait(Math.min(w.units, this.#logSize || w.units)) > 0)) break;
        this.#tokens -= w.units; // may go negative for a message larger than the bucket: paid back by waiting
        this.#head++;
        granted++;
        this.#detach(w);
        w.resolve(this.#permit(w.units));
      }
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      return;
    }
  }

  #permit(units: number): Permit {
    if (this.exclusive) return this.#exclusivePermit(units);
    if (this.#log === null) return unloggedPermit;
    const logged = Math.min(units, this.#logSize || units);
    return {
      wireWait: () => this.#logWait(logged, WIRE_SLACK_MS),
      sent: () => this.#logGrant(units),
      release() {},
    };
  }

  #exclusivePermit(units: number): Permit {
    this.#outstanding = true;
    let done = false;
    const finish = (wasSent: boolean) => {
      if (done) return;
      done = true;
      this.#outstanding = false;
      if (wasSent) {
        // Time the next permit from the actual send: tokens owed stay owed, nothing accrues before now.
        this.#tokens = Math.min(this.#tokens, 1 - units);
        this.#lastRefill = this.#now();
      } else {
        this.#tokens += units;
      }
      this.#schedule();
    };
    return { wireWait: () => 0, sent: () => finish(true), release: () => finish(false) };
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = now - this.#lastRefill;
    this.#lastRefill = now;
    if (elapsed > 0 && !this.#outstanding) this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed * this.#rate);
  }

  /** How long until `units` more writes fit in the sliding window widened by `slackMs` (0 if they fit now). */
  #logWait(units: number, slackMs = 0): number {
    const log = this.#log;
    if (log === null) return 0;
    // The entry `units` places back from the next slot is the oldest one that must have left the window.
    const idx = (this.#logNext + units - 1) % this.#logSize;
    const oldest = log[idx]!;
    const wait = oldest + this.#windowMs + slackMs - this.#now();
    return wait > 0 ? wait : 0;
  }

  #logGrant(units: number): void {
    const log = this.#log;
    if (log === null) return;
    const now = this.#now();
    for (let i = 0; i < Math.min(units, this.#logSize); i++) {
      log[this.#logNext] = now;
      this.#logNext = (this.#logNext + 1) % this.#logSize;
    }
  }

  #detach(w: Waiter): void {
    if (w.signal !== undefined && w.onAbort !== undefined) w.signal.removeEventListener('abort', w.onAbort);
  }
}
