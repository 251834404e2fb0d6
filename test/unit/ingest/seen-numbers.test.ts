import { describe, expect, it } from 'vitest';
import { NumberFilter } from '../../../src/ingest/number-filter.js';
import { SeenNumbers } from '../../../src/ingest/seen-numbers.js';

/** Distinct 11-digit numbers, spread like a list's (neighbours and far apart). */
const number = (i: number): number => 14_155_550_000 + i * 7_919;

describe('NumberFilter', () => {
  it('never forgets a number it was given, and says "maybe" for about 1 % of the others', () => {
    const filter = new NumberFilter(100_000, 2 ** 20);
    for (let i = 0; i < 100_000; i++) filter.add(number(2 * i));
    let forgotten = 0;
    for (let i = 0; i < 100_000; i++) if (!filter.has(number(2 * i))) forgotten++;
    expect(forgotten).toBe(0);
    let maybe = 0;
    for (let i = 0; i < 100_000; i++) if (filter.has(number(2 * i + 1))) maybe++;
    expect(maybe).toBeGreaterThan(0);
    expect(maybe).toBeLessThan(3_000);
  });

  it('takes no more than its cap, whatever it is asked to hold', () => {
    expect(new NumberFilter(1e9, 4096).byteLength).toBe(4096);
    expect(new NumberFilter(0, 4096).byteLength).toBe(64);
  });
});

describe('SeenNumbers', () => {
  it('keeps the first row of every number exactly, through moves to its temporary database', () => {
    // 64 slots: the table moves its numbers out every 47; a one-block filter says "maybe" to nearly anything.
    const seen = new SeenNumbers({ slots: 64, filterBytes: 64 });
    const reference = new Map<number, number>();
    let seed = 11;
    let fresh = 0;
    let repeats = 0;
    try {
      for (let row = 1; row <= 20_000; row++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        const key = row % 5 === 0 ? number(seed % Math.max(1, fresh)) : number(fresh++);
        const first = seen.get(key);
        expect(first).toBe(reference.get(key) ?? 0);
        if (first !== 0) {
          repeats++;
          continue;
        }
        seen.add(key, row);
        reference.set(key, row);
      }
      expect(seen.size).toBe(reference.size);
      expect(seen.spilled).toBeGreaterThan(15_000);
      // Every lookup of a new number past the first move went to the database and was answered "no":
      // the filter's false positives were resolved there, not taken for duplicates.
      expect(seen.asked).toBeGreaterThan(repeats + 10_000);
      for (const [key, row] of reference) expect(seen.get(key)).toBe(row);
    } finally {
      seen.close();
    }
  });

  it('asks its database only for numbers the filter may hold', () => {
    const seen = new SeenNumbers({ slots: 1024 });
    seen.reserve(50_000);
    try {
      for (let i = 1; i <= 50_000; i++) {
        expect(seen.get(number(i))).toBe(0);
        seen.add(number(i), i);
      }
      expect(seen.spilled).toBeGreaterThan(49_000);
      const asked = seen.asked;
      expect(asked).toBeLessThan(1_500); // false positives among 50,000 new numbers, at ~1 %
      for (let i = 1; i <= 50_000; i += 97) expect(seen.get(number(i))).toBe(i);
      expect(seen.asked - asked).toBeGreaterThanOrEqual(500); // each of those was in the database
    } finally {
      seen.close();
    }
  });
});
