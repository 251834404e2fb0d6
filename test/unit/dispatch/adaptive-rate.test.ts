import { afterEach, describe, expect, it } from 'vitest';
import { AdaptiveRate } from '../../../src/dispatch/adaptive-rate.js';

let rate: AdaptiveRate | undefined;
afterEach(() => rate?.stop());

/** An AdaptiveRate on a clock and an accepted count the test moves by hand. */
function adaptive(ceiling: number) {
  const state = { now: 0, accepted: 0, set: [] as number[] };
  rate = new AdaptiveRate({ setRate: (r) => state.set.push(r) }, ceiling, () => state.accepted, () => state.now);
  return { rate, state };
}

describe('AdaptiveRate', () => {
  it('drops to just under what Telnyx accepted when it throttles', () => {
    const { rate, state } = adaptive(50);
    // Two seconds in, Telnyx has taken 12 messages: it drains 6 a second.
    state.now = 2000;
    state.accepted = 12;
    rate.throttled();
    expect(rate.current).toBeCloseTo(5.7, 5);
    expect(rate.slowed).toBe(true);
    expect(state.set).toEqual([rate.current]);
  });

  it('cuts at least 10 % even when the acceptance measured is higher than the rate', () => {
    const { rate, state } = adaptive(50);
    state.now = 1000;
    state.accepted = 200;
    rate.throttled();
    expect(rate.current).toBe(45);
  });

  it('halves when nothing was accepted to measure, never below the floor, at most once a second', () => {
    const { rate, state } = adaptive(50);
    state.now = 1000;
    rate.throttled();
    expect(rate.current).toBe(25);
    state.now = 1500;
    rate.throttled();
    expect(rate.current).toBe(25);
    for (let t = 2000; t <= 20_000; t += 1000) {
      state.now = t;
      rate.throttled();
    }
    expect(rate.current).toBe(rate.floor);
    expect(rate.floor).toBe(1);
  });

  it('with no acceptance to measure, a throttle right at the start halves', () => {
    const { rate, state } = adaptive(10_000);
    state.now = 5;
    state.accepted = 1;
    rate.throttled();
    expect(rate.current).toBe(5000);
  });
});
