import { describe, expect, it } from 'vitest';
import { chance, createRng, uuidFrom } from '../../../src/telnyx/simulator/random.js';

describe('simulator randomness', () => {
  it('draws RFC 4122 v4 uuids, the same sequence for the same seed', () => {
    const a = createRng(9);
    const b = createRng(9);
    const ids = Array.from({ length: 1000 }, () => uuidFrom(a));
    expect(ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(1000);
    expect(Array.from({ length: 1000 }, () => uuidFrom(b))).toEqual(ids);
    expect(uuidFrom(createRng(10))).not.toBe(ids[0]);
  });

  it('chance() is a pure, roughly uniform function of its arguments', () => {
    expect(chance(1, 'fault', '+15550001', 0)).toBe(chance(1, 'fault', '+15550001', 0));
    expect(chance(1, 'fault', '+15550001', 0)).not.toBe(chance(1, 'fault', '+15550001', 1));
    expect(chance(1, 'fault', '+15550001', 0)).not.toBe(chance(2, 'fault', '+15550001', 0));
    expect(chance(1, 'fault', '+15550001', 0)).not.toBe(chance(1, 'outcome', '+15550001', 0));
    const draws = Array.from({ length: 20_000 }, (_, i) => chance(3, 'fault', `+1555${i}`, 0));
    expect(draws.every((u) => u >= 0 && u < 1)).toBe(true);
    const buckets = new Array<number>(10).fill(0);
    for (const u of draws) buckets[Math.floor(u * 10)]!++;
    for (const n of buckets) expect(Math.abs(n - 2000)).toBeLessThan(250);
  });
});
