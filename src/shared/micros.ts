/**
 * Money as whole millionths of a unit (micro-dollars): a daily spend is summed in the ledger as an
 * integer, so a day of 200,000 × "0.0040" neither drifts like binary floats nor needs decimals in SQL.
 */

/** A plain decimal amount ("0.0040", "25") in millionths, rounded up (a spend is never undercounted). */
export function toMicros(text: string): number {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (m === null) throw new RangeError(`not a plain decimal amount: ${text}`);
  const fraction = m[2] ?? '';
  const beyond = /[1-9]/.test(fraction.slice(6)) ? 1 : 0;
  return Number(m[1]) * 1_000_000 + Number(fraction.slice(0, 6).padEnd(6, '0')) + beyond;
}

/** Millionths as a decimal with at least two places and no trailing zeros beyond them ("25.00", "0.004"). */
export function formatMicros(micros: number): string {
  const whole = Math.floor(micros / 1_000_000);
  const fraction = String(micros % 1_000_000).padStart(6, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${whole}.${fraction}`;
}
