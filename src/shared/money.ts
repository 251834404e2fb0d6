/**
 * Exact decimal money for cost estimates: prices are decimal strings ("0.0040"), amounts are summed as
 * integers of the smallest unit the prices use. 200,000 × 0.0040 summed in binary floats drifts; an
 * estimate someone compares with an invoice should not.
 */

/** A decimal as an integer count of 10^-scale. */
export interface Decimal {
  units: bigint;
  scale: number;
}

/** Parses a plain decimal string ("0.0040", "12", "1.5"); throws RangeError on anything else. */
export function parseDecimal(text: string): Decimal {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (m === null) throw new RangeError(`not a plain decimal: ${text}`);
  const fraction = m[2] ?? '';
  return { units: BigInt(m[1]! + fraction), scale: fraction.length };
}

/** `d` expressed at a larger or equal `scale`. */
export function rescale(d: Decimal, scale: number): bigint {
  if (scale < d.scale) throw new RangeError(`cannot rescale ${d.scale} down to ${scale}`);
  return d.units * 10n ** BigInt(scale - d.scale);
}

/** Formats an integer count of 10^-scale as a decimal string with exactly `scale` places. */
export function formatUnits(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? '-' : ''}${whole}${scale > 0 ? `.${fraction}` : ''}`;
}

/** Telnyx reports amounts with 4 places ("0.0040"); estimates use at least as many. */
export const MIN_SCALE = 4;

/** Sums `count × price` over lines, exactly; the result has max(MIN_SCALE, price scales) places. */
export function sumCost(lines: Iterable<{ count: number; price: string }>): string {
  const parsed = [...lines].map((l) => ({ count: BigInt(l.count), price: parseDecimal(l.price) }));
  const scale = Math.max(MIN_SCALE, ...parsed.map((l) => l.price.scale));
  let total = 0n;
  for (const l of parsed) total += l.count * rescale(l.price, scale);
  return formatUnits(total, scale);
}

/** a − b for two decimal strings, with the larger scale of the two (at least MIN_SCALE). */
export function subtractDecimals(a: string, b: string): string {
  const x = parseSigned(a);
  const y = parseSigned(b);
  const scale = Math.max(MIN_SCALE, x.scale, y.scale);
  return formatUnits(signed(x, scale) - signed(y, scale), scale);
}

function parseSigned(text: string): Decimal & { negative: boolean } {
  const negative = text.startsWith('-');
  return { ...parseDecimal(negative ? text.slice(1) : text), negative };
}

function signed(d: Decimal & { negative: boolean }, scale: number): bigint {
  const v = rescale(d, scale);
  return d.negative ? -v : v;
}
