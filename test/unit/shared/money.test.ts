import { describe, expect, it } from 'vitest';
import { formatUnits, parseDecimal, subtractDecimals, sumCost } from '../../../src/shared/money.js';
import { formatMicros, toMicros } from '../../../src/shared/micros.js';

describe('money', () => {
  it('parses and formats plain decimals', () => {
    expect(parseDecimal('0.0040')).toEqual({ units: 40n, scale: 4 });
    expect(parseDecimal('12')).toEqual({ units: 12n, scale: 0 });
    expect(() => parseDecimal('-1')).toThrow(RangeError);
    expect(() => parseDecimal('1e-3')).toThrow(RangeError);
    expect(formatUnits(5n, 4)).toBe('0.0005');
    expect(formatUnits(123456n, 4)).toBe('12.3456');
    expect(formatUnits(-5n, 2)).toBe('-0.05');
  });

  it('sums count × price exactly where binary floats drift', () => {
    // 200,000 × 0.0040 as repeated float addition is not 800.
    let float = 0;
    for (let i = 0; i < 200_000; i++) float += 0.004;
    expect(float).not.toBe(800);
    expect(sumCost([{ count: 200_000, price: '0.0040' }])).toBe('800.0000');
    expect(sumCost([{ count: 3, price: '0.1' }, { count: 7, price: '0.00125' }])).toBe('0.30875');
    expect(sumCost([])).toBe('0.0000');
  });

  it('subtracts with the larger scale', () => {
    expect(subtractDecimals('1.2000', '1.25')).toBe('-0.0500');
    expect(subtractDecimals('0.0080', '0.0040')).toBe('0.0040');
  });
});

describe('toMicros / formatMicros (the daily spend cap counts in millionths)', () => {
  it('parses a plain decimal into millionths, rounding anything beyond the sixth place up', () => {
    expect(toMicros('0.0040')).toBe(4_000);
    expect(toMicros('25')).toBe(25_000_000);
    expect(toMicros(' 1.5 ')).toBe(1_500_000);
    expect(toMicros('0.0000001')).toBe(1);
    expect(toMicros('0.0000010000')).toBe(1);
    expect(toMicros('0.00000100001')).toBe(2);
    expect(() => toMicros('-1')).toThrow(RangeError);
    expect(() => toMicros('1e3')).toThrow(RangeError);
  });

  it('formats millionths with at least two places and no trailing zeros beyond them', () => {
    expect(formatMicros(25_000_000)).toBe('25.00');
    expect(formatMicros(4_000)).toBe('0.004');
    expect(formatMicros(1_234_567)).toBe('1.234567');
  });
});
