/**
 * Money as whole millionths of a unit (micro-dollars): a daily spend is summed in the ledger as an
 * integer, so a day of 200,000 × "0.0040" neither drifts like binary floats nor needs decimals in SQL.
 */
import { parseDecimal, rescale } from './money.js';

const MICRO_SCALE = 6;

/** A plain decimal amount ("0.0040", "25") in millionths, rounded up (a spend is never undercounted). */
export function toMicros(text: string): number {
  const d = parseDecimal(text.trim());
  if (d.scale <= MICRO_SCALE) return Number(rescale(d, MICRO_SCALE));
  const divisor = 10n ** BigInt(d.scale - MICRO_SCALE);
  return Number((d.units + divisor - 1n) / divisor);
}

/** Millionths as a decimal with at least two places and no trailing zeros beyond them ("25.00", "0.004"). */
export function formatMicros(micros: number): string {
  const whole = Math.floor(micros / 1_000_000);
  const fraction = String(micros % 1_000_000).padStart(6, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${whole}.${fraction}`;
}
