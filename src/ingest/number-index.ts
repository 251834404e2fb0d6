/**
 * A compact map from E.164 numbers (as JS numbers: at most 15 digits, below 2^53, so exact) to the
 * row that first used them. Open addressing over typed arrays: 12 bytes a slot and no object per
 * entry, where a Map<number, number> would box every key above 2^31 in its own heap number — the
 * difference between ~25 MB and ~80 MB of dedupe state for a million recipients.
 */
export class NumberIndex {
  private keys: Float64Array;
  private rows: Uint32Array;
  private mask: number;
  private count = 0;

  /** @param capacity initial slots, rounded up to a power of two. @default 4096 */
  constructor(capacity = 4096) {
    let size = 16;
    while (size < capacity) size *= 2;
    this.keys = new Float64Array(size);
    this.rows = new Uint32Array(size);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Slots in the table: it holds up to three quarters of them before it grows. */
  get slots(): number {
    return this.keys.length;
  }

  /** Bytes held by the table. */
  get byteLength(): number {
    return this.keys.byteLength + this.rows.byteLength;
  }

  /** The row stored for `key`, or 0 when absent (rows are 1-based). `key` must be a positive integer. */
  get(key: number): number {
    const keys = this.keys;
    let i = hash(key) & this.mask;
    for (;;) {
      const k = keys[i]!;
      if (k === key) return this.rows[i]!;
      if (k === 0) return 0;
      i = (i + 1) & this.mask;
    }
  }

  /** Stores `row` (≥ 1) for `key` unless present; returns the row already stored, or 0 if it was added. */
  add(key: number, row: number): number {
    if ((this.count + 1) * 4 > this.keys.length * 3) this.grow();
    const keys = this.keys;
    let i = hash(key) & this.mask;
    for (;;) {
      const k = keys[i]!;
      if (k === key) return this.rows[i]!;
      if (k === 0) {
        keys[i] = key;
        this.rows[i] = row;
        this.count++;
        return 0;
      }
      i = (i + 1) & this.mask;
    }
  }

  /**
   * Sizes the table for `expected` entries at once. Growing step by step leaves every smaller table
   * behind until the next full GC: at a million numbers, ~20 MB of peak RSS that a table sized up front
   * never takes.
   */
  reserve(expected: number): void {
    let size = this.keys.length;
    while (expected * 4 > size * 3) size *= 2;
    if (size > this.keys.length) this.resize(size);
  }

  /**
   * Writes every key held, ascending, into `keys` and the row stored for each into `rows` (both at least
   * `size` long, reused by the caller so that moving the keys out leaves no garbage); returns how many.
   */
  sortedInto(keys: Float64Array, rows: Uint32Array): number {
    let n = 0;
    for (const key of this.keys) if (key !== 0) keys[n++] = key;
    const sorted = keys.subarray(0, n).sort();
    for (let j = 0; j < n; j++) rows[j] = this.get(sorted[j]!);
    return n;
  }

  /** Empties the table, keeping its size. */
  clear(): void {
    this.keys.fill(0);
    this.count = 0;
  }

  private grow(): void {
    this.resize(this.keys.length * 2);
  }

  private resize(size: number): void {
    const oldKeys = this.keys;
    const oldRows = this.rows;
    this.keys = new Float64Array(size);
    this.rows = new Uint32Array(size);
    this.mask = this.keys.length - 1;
    for (let j = 0; j < oldKeys.length; j++) {
      const key = oldKeys[j]!;
      if (key === 0) continue;
      let i = hash(key) & this.mask;
      while (this.keys[i] !== 0) i = (i + 1) & this.mask;
      this.keys[i] = key;
      this.rows[i] = oldRows[j]!;
    }
  }
}

/** Mixes both 32-bit halves of an integer below 2^53 (neighbouring numbers must not cluster). */
function hash(key: number): number {
  const lo = key >>> 0;
  const hi = (key / 4294967296) >>> 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}
