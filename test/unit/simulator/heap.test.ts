import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../../src/telnyx/simulator/heap.js';
import { createRng } from '../../../src/telnyx/simulator/random.js';

describe('MinHeap', () => {
  it('pops in due order whatever the push order', () => {
    const rng = createRng(1);
    const heap = new MinHeap<{ due: number }>();
    const dues = Array.from({ length: 2000 }, () => rng() % 500);
    for (const due of dues) heap.push({ due });
    expect(heap.size).toBe(2000);
    const out: number[] = [];
    for (let item = heap.pop(); item !== undefined; item = heap.pop()) out.push(item.due);
    expect(out).toEqual([...dues].sort((a, b) => a - b));
    expect(heap.peek()).toBeUndefined();
  });
});
