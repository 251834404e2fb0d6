/**
 * Slows the run down when Telnyx says it is going too fast, and climbs back gradually (AIMD, as TCP
 * does): each `throttled` answer halves the effective rate (at most once per second, because one burst
 * can draw many 429s at once), and every quiet second adds back 5 % of the ceiling.
 */
export interface RateTarget {
  setRate(ratePerSecond: number): void;
}

export class AdaptiveRate {
  readonly ceiling: number;
  readonly floor: number;
  #current: number;
  #lastDecrease = -Infinity;
  #lastThrottle = -Infinity;
  readonly #target: RateTarget;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;

  constructor(target: RateTarget, ceiling: number, now: () => number = () => performance.now()) {
    this.#target = target;
    this.ceiling = ceiling;
    this.floor = Math.min(ceiling, Math.max(0.1, ceiling * 0.02));
    this.#current = ceiling;
    this.#now = now;
  }

  get current(): number {
    return this.#current;
  }

  throttled(): void {
    const now = this.#now();
    this.#lastThrottle = now;
    if (now - this.#lastDecrease < 1000) return;
    this.#lastDecrease = now;
    this.#set(Math.max(this.floor, this.#current / 2));
    this.#timer ??= setInterval(() => this.#recover(), 1000).unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #recover(): void {
    if (this.#now() - this.#lastThrottle < 1000) return;
    this.#set(Math.min(this.ceiling, this.#current + this.ceiling * 0.05));
    if (this.#current >= this.ceiling) this.stop();
  }

  #set(rate: number): void {
    this.#current = rate;
    this.#target.setRate(rate);
  }
}
