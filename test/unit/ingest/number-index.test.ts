import { describe, expect, it } from 'vitest';
import { NumberIndex } from '../../../src/ingest/number-index.js';

describe('NumberIndex', () => {
  it('stores the first row per number through growth, exactly for 15-digit numbers', () => {
    const index = new NumberIndex(16);
    const reference = new Map<number, number>();
    let seed = 7;
    for (let row = 1; row <= 50_000; row++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      // Mostly distinct 11-15 digit numbers, with repeats and neighbours mixed in.
      const key = row % 7 === 0 ? 999_999_999_999_999 - (row % 50) : 14_155_550_000 + (seed % 3_000_000) * 1_000_003;
      const before = index.add(key, row);
      expect(before).toBe(reference.get(key) ?? 0);
      if (!reference.has(key)) reference.set(key, row);
    }
    expect(index.size).toBe(reference.size);
    for (const [key, row] of reference) expect(index.get(key)).toBe(row);
    expect(index.get(12345)).toBe(0);
  });

  it('reserve sizes the table once for what is expected, keeping what it holds', () => {
    const index = new NumberIndex(16);
    for (let row = 1; row <= 10; row++) index.add(14_155_550_000 + row, row);
    index.reserve(100_000);
    // 100,000 entries at ≤ 75 % load: 2^18 slots of 12 bytes; adding them does not grow it again.
    expect(index.byteLength).toBe(2 ** 18 * 12);
    for (let row = 11; row <= 100_000; row++) index.add(14_155_550_000 + row, row);
    expect(index.byteLength).toBe(2 ** 18 * 12);
    expect(index.size).toBe(100_000);
    for (const row of [1, 10, 11, 99_999]) expect(index.get(14_155_550_000 + row)).toBe(row);
    index.reserve(10); // never shrinks
    expect(index.byteLength).toBe(2 ** 18 * 12);
  });
});

describe('NumberIndex: moving out', () => {
  it('hands its keys over ascending with their rows, then empties without shrinking', () => {
    const index = new NumberIndex(64);
    const keys = [999_999_999_999_999, 14_155_550_101, 442_071_234_567, 14_155_550_100];
    keys.forEach((k, i) => index.add(k, i + 1));
    const out = new Float64Array(8);
    const rows = new Uint32Array(8);
    expect(index.sortedInto(out, rows)).toBe(4);
    expect([...out.subarray(0, 4)]).toEqual([14_155_550_100, 14_155_550_101, 442_071_234_567, 999_999_999_999_999]);
    expect([...rows.subarray(0, 4)]).toEqual([4, 2, 3, 1]);
    const slots = index.slots;
    index.clear();
    expect(index.size).toBe(0);
    expect(index.slots).toBe(slots);
    expect(index.get(14_155_550_101)).toBe(0);
  });
});
