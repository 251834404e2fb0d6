/**
 * Slows the run down when Telnyx says it is going too fast, and climbs back gradually (AIMD, as TCP
 * does), so a run whose queue at Telnyx is full goes on at what Telnyx drains instead of failing rows.
 *
 * Decrease: at a `throttled` answer (at most once per second, because one burst draws many 429s at
 * once) the rate drops to just under what Telnyx accepted over the last one to two seconds: with its
 * queue full, that is what it drains. Halving, blindly, kept a run at a fifth of the drain rate: every
 * halving overshot, and each climb back took seconds. With no acceptance to go by (nothing got
 * through), the rate halves. Increase: every quiet second adds back 5 % of the ceiling.
 */
export interface RateTarget {
  setRate(ratePerSecond: number): void;
}

/** Fraction of the measured acceptance rate the run drops to, so Telnyx's queue can shrink. */
const BELOW_DRAIN = 0.95;
/** A decrease cuts at least this much, so a rate that over-measures still comes down. */
const MIN_CUT = 0.9;

interface Sample {
  at: number;
  accepted: number;
}

export class AdaptiveRate {
  readonly ceiling: number;
  readonly floor: number;
  #current: number;
  #lastDecrease = -Infinity;
  #lastThrottle = -Infinity;
  readonly #target: RateTarget;
  readonly #now: () => number;
  readonly #accepted: () => number;
  /** Accepted counts at the last two ticks (the older one is 1–2 s back): the window the drain is measured over. */
  #older: Sample;
  #newer: Sample;
  #timer: NodeJS.Timeout | undefined;

  /**
   * @param accepted how many requests Telnyx has accepted so far (a running count).
   */
  constructor(target: RateTarget, ceiling: number, accepted: () => number = () => 0, now: () => number = () => performance.now()) {
    this.#target = target;
    this.ceiling = ceiling;
    this.floor = Math.min(ceiling, Math.max(0.1, ceiling * 0.02));
    this.#current = ceiling;
    this.#now = now;
    this.#accepted = accepted;
    this.#older = this.#newer = { at: now(), accepted: accepted() };
  }

  get current(): number {
    return this.#current;
  }

  /** True while the rate is below the ceiling because Telnyx throttled the run. */
  get slowed(): boolean {
    return this.#current < this.ceiling;
  }

  throttled(): void {
    const now = this.#now();
    this.#lastThrottle = now;
    if (now - this.#lastDecrease < 1000) return;
    this.#lastDecrease = now;
    const drained = this.#acceptedPerSecond(now);
    const next = drained > 0 ? Math.min(this.#current * MIN_CUT, drained * BELOW_DRAIN) : this.#current / 2;
    this.#set(Math.max(this.floor, next));
    this.#timer ??= setInterval(() => this.#tick(), 1000).unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Accepted per second since the older sample; 0 when that window is too short to tell. */
  #acceptedPerSecond(now: number): number {
    const from = now - this.#newer.at >= 500 ? this.#newer : this.#older;
    const elapsed = now - from.at;
    return elapsed >= 500 ? ((this.#accepted() - from.accepted) * 1000) / elapsed : 0;
  }

  #tick(): void {
    const now = this.#now();
    this.#older = this.#newer;
    this.#newer = { at: now, accepted: this.#accepted() };
    if (now - this.#lastThrottle < 1000) return;
    this.#set(Math.min(this.ceiling, this.#current + this.ceiling * 0.05));
    if (this.#current >= this.ceiling) this.stop();
  }

  #set(rate: number): void {
    this.#current = rate;
    this.#target.setRate(rate);
  }
}
