/**
 * Bounds requests in flight (`rate.max_concurrent`). Plain counting semaphore with a FIFO queue:
 * a Bottleneck job per message would cap the run near 400 msg/s (see rate-gate.ts).
 */
export class Semaphore {
  readonly size: number;
  #free: number;
  #queue: (() => void)[] = [];
  #head = 0;

  constructor(size: number) {
    this.size = size;
    this.#free = size;
  }

  get inUse(): number {
    return this.size - this.#free;
  }

  acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#queue.push(resolve));
  }

  release(): void {
    if (this.#head < this.#queue.length) {
      const next = this.#queue[this.#head]!;
      this.#head++;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      next(); // the slot passes straight to the next waiter
      return;
    }
    this.#free++;
  }
}
