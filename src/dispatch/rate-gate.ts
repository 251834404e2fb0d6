/**
 * A rate gate: hands out permits at a steady rate, FIFO, with Bottleneck as the pacing engine.
 *
 * Why not one Bottleneck job per message: one Bottleneck limiter completes only ~400 jobs/s on this
 * machine whatever its settings (its local datastore is bound by timers), below what one Telnyx short code
 * accepts. So a Bottleneck job here is a *tick* that grants a batch of permits: tokens accrue by wall-clock
 * time (so the average rate is exact even when timers fire late), Bottleneck's `minTime` spaces the ticks
 * (at most 200 ticks/s), and each tick grants every waiter the accrued tokens cover.
 *
 * Why the bucket paces 0.5 % under the ceiling, and holds 5 % of it: the ceiling must hold over every
 * sliding one-second window, not just on average. The window guard below is what guarantees that, so the
 * bucket only has to keep the average close: a little under the ceiling, so the guard rarely has to hold a
 * row back (such a row waits for an answer plus a window); and deep enough (5 % of the ceiling, at least
 * one permit, plus 5 ms of timer slack) that a tick delayed by a busy event loop does not lose the tokens
 * that accrued meanwhile. With a 1 % bucket, 2,000/s averaged 1,946–1,968; with 5 %, 1,979–1,982.
 *
 * A sliding window guard adds a hard guarantee on top for ceilings up to 100,000/s, and it holds where
 * Telnyx counts, not where we write. We cannot see when the far end counts a message, only that it did so
 * after we wrote the request and before its answer reached us. So a message counts against the window from
 * its write (`permit.sent()`) until `windowMs` after its answer (`permit.done()`); a new write is allowed
 * only while fewer than the ceiling's worth of messages are in flight or answered within the last window.
 * Counting from the write alone let a slow first request (a cold connection) be counted late at the far
 * end and share a window there with the ceiling's worth of messages after it. The guard is checked at the
 * wire, not at the grant, because a granted row still waits for its durable `sending` mark, and that wait
 * varies (an fsync, a GC pause): rows granted apart can reach the socket together. Right before writing,
 * the caller's `claimWire` asks `permit.wireWait()`, sleeps if told to, and calls `permit.sent()` in the
 * same synchronous step as the last check, so the check and the record cannot be split by another row.
 *
 * Exclusive mode (per-sender gates at low rates, e.g. 1 msg/s per long code): only one permit is out at a
 * time and the next one is timed from the previous message's answer (`permit.done()`), for the same
 * reason; the interval is then exact (no safety margin), because nothing else can crowd it.
 */
import Bottleneck from 'bottleneck';
import { sleepUnlessAborted } from '../shared/clock.js';

/** Fraction of the ceiling the gate actually paces at (see the module comment). */
export const RATE_SAFETY = 0.995;
/** Bottleneck's minTime between ticks: at most 200 ticks/s, half of what one limiter can do here. */
export const TICK_MS = 5;
const SLACK_MS = 5;
/** Bucket size as a fraction of the ceiling (see the module comment). */
const BURST = 0.05;
const LOG_LIMIT = 100_000;
/** Extra width of the sliding window: room for clock granularity between the far end and us. */
const WINDOW_SLACK_MS = 2;
/**
 * How often a row blocked only by requests still in flight looks again (their answers free it). That
 * happens only when answers take about a window or longer, so a few ms more cost nothing.
 */
const IN_FLIGHT_POLL_MS = TICK_MS;
/** How often a gate without a share looks again. */
const PAUSED_POLL_MS = 10;

export interface Permit {
  /** Milliseconds to wait before the request may be written (0: now), so the sliding window holds at the wire. */
  wireWait(): number;
  /** Call when the request is written, synchronously with `wireWait()` returning 0: it now counts in the window. */
  sent(): void;
  /**
   * Call once the request's fate is known (an answer, an error, a timeout): the far end counted it before
   * this moment, so the window counts it until `windowMs` after now, and an exclusive gate times its next
   * permit from here. Must follow every `sent()`.
   */
  done(): void;
  /**
   * Call when the permit will not be used (stop, abort, a row deferred): an exclusive gate gets its slot
   * back. A no-op once `sent()` was called, so a `finally` may always call it.
   */
  release(): void;
}

/**
 * Waits until every permit's sliding window allows the write, then records it (`sent()` on each) in the
 * same synchronous step as the last check, so no other row can take the room in between; the caller
 * writes the request next. True when recorded, false when `signal` aborted while waiting (nothing
 * recorded: write nothing). Synchronous (plain `true`) when no window makes it wait, the usual case.
 */
export function claimWire(permits: readonly Permit[], signal?: AbortSignal): true | Promise<boolean> {
  return longestWireWait(permits) === 0 ? recordWrite(permits) : claimWireLater(permits, signal);
}

async function claimWireLater(permits: readonly Permit[], signal: AbortSignal | undefined): Promise<boolean> {
  for (let wait = longestWireWait(permits); wait > 0; wait = longestWireWait(permits)) {
    await sleepUnlessAborted(Math.ceil(wait), signal);
    if (signal?.aborted) return false;
  }
  return recordWrite(permits);
}

function longestWireWait(permits: readonly Permit[]): number {
  let most = 0;
  for (const p of permits) most = Math.max(most, p.wireWait());
  return most;
}

function recordWrite(permits: readonly Permit[]): true {
  for (const p of permits) p.sent();
  return true;
}

export interface RateGateOptions {
  /** Ceiling in units (messages, or parts) per second. */
  ratePerSecond: number;
  /** One permit out at a time, next permit timed from `done()`. @default false */
  exclusive?: boolean;
  /** Window of the hard sliding-log guard. @default 1000 */
  windowMs?: number;
  /** The Bottleneck limiter that paces ticks (a Group key for per-sender gates). */
  limiter?: Bottleneck;
  /** Monotonic clock in ms. @default performance.now */
  now?: () => number;
}

/**
 * What the window may hold while a change of share settles (dispatch/shared-limits.ts): after a lowering,
 * this process's old pace's sends, which the other processes are still told it reserves; after a raise,
 * less than the new share, as the other processes are told it ramps in (ledger/limit-shares.ts).
 */
export interface WindowHold {
  /** Units per second's worth the window may hold for `heldMs` from now ... */
  ratePerSecond: number;
  heldMs: number;
  /** ... then less or more, moving linearly to the share over `fadeMs`. */
  fadeMs: number;
  /** For the last `pacedMs` of `heldMs`, the bucket may pace at the held rate instead of the share. */
  pacedMs?: number;
}

/** The permit of a gate without a sliding log (over LOG_LIMIT/s): nothing to check or record at the wire. */
const unloggedPermit: Permit = { wireWait: () => 0, sent() {}, done() {}, release() {} };

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
  #share = Infinity; // this process's share of a limit shared with others (units/s)
  #rate: number | undefined = undefined; // effective units per ms; 0 while the share is nothing
  #heldRate = 0; // units per ms while a lowered share's old pace may still be kept (#heldFrom to #heldUntil)
  #heldFrom = Infinity;
  #heldUntil = -Infinity;
  #capacity = 1;
  #tokens: number;
  #lastRefill: number;
  #queue: Waiter[] = [];
  #head = 0;
  #ticking = false;
  #outstanding = false; // exclusive: a permit is out
  #log: Float64Array | null = null; // answer times of the units answered within the window, oldest first (ring)
  #logSize = 0; // the ring's length: the ceiling's worth of units in one window, or a hold's
  #logCap = 0; // what the window may hold: the ceiling's (or the share's) worth of units
  #hold: { peak: number; from: number; to: number; pacedFrom: number } | undefined = undefined; // units; absolute times
  #logHead = 0;
  #logCount = 0;
  #inFlight = 0; // units written and not yet answered
  #forgottenUntil = -Infinity; // when the last answer dropped from the ring leaves the window
  #closed: unknown = undefined;
  #lastTake = -Infinity;

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

  /** Milliseconds since a permit was last asked for (Infinity if never). */
  get idleMs(): number {
    return this.#now() - this.#lastTake;
  }

  get waiting(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * When each unit this gate's window still counts leaves it ([ms from now, units], oldest first), for a
   * process that stops (ledger/limit-shares.ts `leftWith`): its answers plus the window. Undefined when
   * the gate cannot tell: a request still unanswered (it may reach the far end later), no sliding log
   * (exclusive gates, very high rates), a window other than `windowMs`, or a full log (older answers
   * may have been dropped from it).
   */
  leaving(windowMs: number): [number, number][] | undefined {
    const log = this.#log;
    if (log === null || this.exclusive || windowMs !== this.#windowMs || this.#inFlight > 0) return undefined;
    const now = this.#now();
    const span = this.#windowMs + WINDOW_SLACK_MS;
    const out: [number, number][] = [];
    for (let i = 0; i < this.#logCount; i++) {
      const left = log[(this.#logHead + i) % this.#logSize]! + span - now;
      if (left > 0) out.push([left, 1]);
    }
    // The ring forgot an answer that still counts (it shrank, or filled with answers not yet expired).
    return this.#forgottenUntil > now ? undefined : out;
  }

  /** Changes the ceiling live (adaptive slow-down and recovery). */
  setRate(ratePerSecond: number): void {
    if (!(ratePerSecond > 0)) throw new RangeError(`rate must be positive, got ${ratePerSecond}`);
    this.#ceiling = ratePerSecond;
    this.#apply();
  }

  /**
   * Caps the gate at this process's share of a limit other processes use too (dispatch/shared-limits.ts),
   * in units per second; 0 holds every permit back until a share comes. The ceiling still applies.
   * `hold`: after a lowering, what the window may still hold (the old pace's sends, fading), so the
   * process paces at its new share at once instead of waiting for them to leave; after a raise, what it
   * may hold yet (rising to the share), so it never holds more than the others leave it.
   */
  setShare(ratePerSecond: number, hold?: WindowHold): void {
    if (!(ratePerSecond >= 0)) throw new RangeError(`share must not be negative, got ${ratePerSecond}`);
    if (ratePerSecond === this.#share && hold === undefined && this.#hold === undefined) return;
    this.#share = ratePerSecond;
    // The bucket paces at the share at once; the window guard lets the window keep, fading, what this
    // process still reserves from the others, so lowering does not stall it, and keeps a raise within
    // the ramp the others count it at (ledger/limit-shares.ts).
    if (hold === undefined) this.#hold = undefined;
    else {
      const now = this.#now();
      const from = now + hold.heldMs;
      this.#hold = { peak: hold.ratePerSecond * (this.#windowMs / 1000), from, to: from + hold.fadeMs, pacedFrom: from - (hold.pacedMs ?? 0) };
    }
    this.#apply();
  }

  #apply(): void {
    if (this.#rate !== undefined) this.#refill();
    this.#heldUntil = -Infinity;
    const effective = Math.min(this.#ceiling, this.#share);
    if (effective <= 0) {
      // Paused: keep the sliding log as it is (what was sent still counts), grant nothing.
      this.#rate = 0;
      return;
    }
    this.#rate = (effective * (this.exclusive ? 1 : RATE_SAFETY)) / 1000;
    this.#capacity = this.exclusive ? 1 : Math.max(1, Math.floor(effective * BURST)) + this.#rate * SLACK_MS;
    // The epsilon keeps a share of k units per window from flooring to k - 1 through k * 1000 / window.
    const logUnits = Math.floor(effective * (this.#windowMs / 1000) + 1e-9);
    // While a hold fades the ring never shrinks: forgetting a unit still in the window would let the
    // fading cap count fewer than are there.
    const held = this.#hold === undefined ? 0 : Math.max(this.#log?.length ?? 0, this.#capAt(this.#now()));
    const ring = Math.max(logUnits, held);
    if (!this.exclusive && logUnits >= 1 && ring <= LOG_LIMIT) {
      if (this.#log === null || this.#log.length !== ring) this.#resizeLog(ring);
      this.#logCap = logUnits;
      // While the ledger says a lowered share's old pace may still be kept, keep pacing at it: the others
      // may not use that room before the fade starts anyway, and the window guard still caps the window
      // at the fade to come (#fitsHold). Pacing at the new share at once left the difference unused for
      // SLACK_MS (ledger/limit-shares.ts) at every lowering.
      const h = this.#hold;
      if (h !== undefined && h.peak > logUnits && h.from > this.#now()) {
        this.#heldRate = Math.max(this.#rate, (Math.min(this.#ceiling * (this.#windowMs / 1000), h.peak) * RATE_SAFETY) / this.#windowMs);
        this.#heldFrom = h.pacedFrom;
        this.#heldUntil = h.from;
      }
    } else {
      if (this.#log !== null) for (let i = 0; i < this.#logCount; i++) this.#forget(this.#log[(this.#logHead + i) % this.#logSize]!);
      this.#log = null;
      this.#logCount = 0;
      this.#logCap = 0;
    }
    this.#schedule();
  }

  /** Resolves with a permit for `units` (FIFO). Rejects if `signal` aborts or the gate is closed. */
  take(units = 1, signal?: AbortSignal): Promise<Permit> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.#lastTake = this.#now();
    // Nobody queued and the bucket and the window both allow it now: grant without a tick. Ticks cost up
    // to TICK_MS of latency per gate per row, which caps a run far below its ceiling when the ceiling is
    // not what binds; the bucket and the sliding log are checked exactly as a tick checks them.
    if (this.waiting === 0 && !this.#outstanding && this.#rate! > 0) {
      this.#refill();
      if (this.#tokens >= Math.min(units, this.#capacity) && this.#logWait(this.#logged(units)) === 0) {
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
      const rate = this.#lastRefill >= this.#heldFrom && this.#lastRefill < this.#heldUntil ? this.#heldRate : this.#rate!;
      if (rate === 0) {
        // No share right now: look again shortly (the share comes with the next sync).
        await new Promise((r) => setTimeout(r, PAUSED_POLL_MS));
        continue;
      }
      let wait = this.#tokens >= need ? 0 : (need - this.#tokens) / rate;
      wait = Math.max(wait, this.#logWait(this.#logged(head.units)));
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
        if (this.#tokens < n || (granted > 0 && this.#logWait(this.#logged(w.units)) > 0)) break;
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
    const logged = this.#logged(units);
    let state: 'granted' | 'sent' | 'done' = 'granted';
    return {
      wireWait: () => this.#logWait(logged),
      sent: () => {
        if (state !== 'granted') return;
        state = 'sent';
        this.#inFlight += logged;
      },
      done: () => {
        if (state !== 'sent') return;
        state = 'done';
        this.#inFlight -= logged;
        this.#logAnswered(logged);
      },
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
        // Time the next permit from the answer: tokens owed stay owed, nothing accrues before now.
        this.#tokens = Math.min(this.#tokens, 1 - units);
        this.#lastRefill = this.#now();
      } else {
        this.#tokens += units;
      }
      this.#schedule();
    };
    let written = false;
    return {
      wireWait: () => 0,
      sent: () => {
        written = true;
      },
      done: () => {
        if (written) finish(true);
      },
      release: () => {
        if (!written) finish(false);
      },
    };
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = now - this.#lastRefill;
    this.#lastRefill = now;
    if (elapsed <= 0 || this.#outstanding) return;
    // At the held pace until the hold's fade starts, then at the share's.
    const held = Math.max(0, Math.min(now, this.#heldUntil) - Math.max(now - elapsed, this.#heldFrom));
    this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed * this.#rate! + held * (this.#heldRate - this.#rate!));
  }

  /**
   * How long until `units` more writes fit the window (0 if they fit now): units in flight, plus units
   * answered less than a window (and the slack) ago, plus `units` must not exceed the ceiling's worth.
   */
  #logWait(units: number): number {
    const log = this.#log;
    if (log === null) return 0;
    const now = this.#now();
    const span = this.#windowMs + WINDOW_SLACK_MS;
    // Answer times are logged in order, so what left the window is always at the head.
    while (this.#logCount > 0 && log[this.#logHead]! <= now - span) {
      this.#logHead = (this.#logHead + 1) % this.#logSize;
      this.#logCount--;
    }
    if (this.#hold !== undefined) {
      if (now < this.#hold.to) return this.#fitsHold(units, now, span) ? 0 : IN_FLIGHT_POLL_MS;
      this.#hold = undefined;
    }
    const excess = this.#inFlight + this.#logCount + units - this.#logCap;
    if (excess <= 0) return 0;
    // Only answers still to come can make room: look again shortly.
    if (excess > this.#logCount) return IN_FLIGHT_POLL_MS;
    return log[(this.#logHead + excess - 1) % this.#logSize]! + span - now;
  }

  /** Units the window may hold at `t`: a hold's, moving linearly to the share's, then the share's. */
  #capAt(t: number): number {
    const h = this.#hold;
    const cap = Math.min(this.#ceiling, this.#share) * (this.#windowMs / 1000);
    if (h === undefined || t >= h.to) return Math.floor(cap + 1e-9);
    const peak = Math.min(this.#ceiling * (this.#windowMs / 1000), h.peak);
    const left = t <= h.from ? 1 : (h.to - t) / (h.to - h.from);
    return Math.floor(cap + (peak - cap) * left + 1e-9);
  }

  /**
   * While a hold lasts: whether `units` more fit at every moment until it ends, each unit counted until
   * it leaves the window (answered ones at answer + span, those in flight never) against what the window
   * may hold then. A fading cap falls while units are still to leave, so checking now alone is not
   * enough; a ramping one (after a raise) is lowest now. Between two departures the cap is flat or
   * linear, so both ends are checked. Linear in the log, and only for a window after a change of share;
   * a long log is checked in at most 1,024 steps, each counting a step's units until its last one leaves
   * (stricter, never looser).
   */
  #fitsHold(units: number, now: number, span: number): boolean {
    const log = this.#log!;
    const to = this.#hold!.to;
    const fixed = this.#inFlight + units;
    const n = this.#logCount;
    const step = Math.max(1, Math.ceil(n / 1024));
    let from = now;
    for (let k = 0; k <= n; k += step) {
      // From when the k-th oldest unit leaves until the (k + step)-th does, at most n - k are left.
      const last = k + step - 1;
      const until = last < n ? log[(this.#logHead + last) % this.#logSize]! + span : Infinity;
      const cap = Math.min(this.#capAt(from), this.#capAt(Math.max(now, Math.min(until, to))));
      if (fixed + n - k > cap) return false;
      if (until >= to) return true;
      from = Math.max(now, until);
    }
    return true;
  }

  /** The units a message takes in the window: a message larger than the whole window counts as a full window. */
  #logged(units: number): number {
    return Math.min(units, this.#logCap || units);
  }

  #logAnswered(units: number): void {
    const log = this.#log;
    if (log === null) return;
    const now = this.#now();
    for (let i = 0; i < units; i++) {
      // Full: the oldest entry no longer matters, a whole ceiling's worth was answered after it.
      if (this.#logCount === this.#logSize) {
        this.#forget(log[this.#logHead]!);
        this.#logHead = (this.#logHead + 1) % this.#logSize;
        this.#logCount--;
      }
      log[(this.#logHead + this.#logCount) % this.#logSize] = now;
      this.#logCount++;
    }
  }

  #resizeLog(units: number): void {
    const old = this.#log;
    const log = new Float64Array(units);
    // Keep the newest answers that still fit (a live rate change must not forget what is in the window).
    const keep = old === null ? 0 : Math.min(this.#logCount, units);
    for (let i = 0; i < this.#logCount - keep; i++) this.#forget(old![(this.#logHead + i) % old!.length]!);
    for (let i = 0; i < keep; i++) log[i] = old![(this.#logHead + this.#logCount - keep + i) % old!.length]!;
    this.#log = log;
    this.#logSize = units;
    this.#logHead = 0;
    this.#logCount = keep;
  }

  #forget(answeredAt: number): void {
    this.#forgottenUntil = Math.max(this.#forgottenUntil, answeredAt + this.#windowMs + WINDOW_SLACK_MS);
  }

  #detach(w: Waiter): void {
    if (w.signal !== undefined && w.onAbort !== undefined) w.signal.removeEventListener('abort', w.onAbort);
  }
}
