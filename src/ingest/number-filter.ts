/**
 * A blocked Bloom filter over E.164 numbers (as JS integers): "certainly not added" or "maybe". Each number
 * sets 8 bits inside one 64-byte block, so a test reads one cache line. Sized once, it never grows: a list
 * longer than it was sized for only makes "maybe" more frequent, never wrong.
 */
const BLOCK_BITS = 512;
const BLOCK_WORDS = BLOCK_BITS / 32;
const BITS_PER_NUMBER = 8;

export class NumberFilter {
  readonly #words: Int32Array;
  readonly #blocks: number;

  /**
   * @param expected numbers it should hold at about 1 % false positives (10 bits a number)
   * @param maxBytes the most memory it may take, whatever `expected` says
   */
  constructor(expected: number, maxBytes: number) {
    const wanted = Math.ceil((Math.max(1, expected) * 10) / BLOCK_BITS);
    this.#blocks = Math.max(1, Math.min(wanted, Math.floor(maxBytes / (BLOCK_BITS / 8))));
    this.#words = new Int32Array(this.#blocks * BLOCK_WORDS);
  }

  get byteLength(): number {
    return this.#words.byteLength;
  }

  add(number: number): void {
    this.#bits(number, true);
  }

  /** False: `number` was never added. True: it may have been. */
  has(number: number): boolean {
    return this.#bits(number, false);
  }

  /** Sets (`set`) or tests the number's 8 bits in its block; true if they were all set already. */
  #bits(number: number, set: boolean): boolean {
    const lo = number >>> 0;
    const hi = (number / 4294967296) >>> 0;
    const base = this.#block(lo, hi);
    let a = mix(hi ^ Math.imul(lo, 0x9e3779b1));
    const b = mix(lo ^ Math.imul(hi, 0x85ebca6b)) | 1;
    const words = this.#words;
    let all = true;
    for (let i = 0; i < BITS_PER_NUMBER; i++) {
      const bit = a >>> 23; // 9 bits: 0..511
      const at = base + (bit >>> 5);
      const mask = 1 << (bit & 31);
      if ((words[at]! & mask) === 0) {
        if (!set) return false;
        all = false;
        words[at]! |= mask;
      }
      a = (a + b) | 0;
    }
    return all;
  }

  /** The first word of the number's block. */
  #block(lo: number, hi: number): number {
    const h = mix(lo ^ Math.imul(hi, 0x27d4eb2d)) >>> 0;
    return Math.floor((h * this.#blocks) / 4294967296) * BLOCK_WORDS;
  }
}

/** A 32-bit finaliser (murmur3's): neighbouring numbers land far apart. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
