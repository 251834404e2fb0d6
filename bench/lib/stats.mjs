/** Median and range of repeated measurements. */
export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n === 0 ? NaN : n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { median, min: sorted[0], max: sorted[n - 1], n, values };
}

export function fmt(x, digits = 0) {
  if (x === null || x === undefined || Number.isNaN(x)) return 'n/a';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** "12,345 (range 12,000–12,900, n=3)" */
export function fmtSummary(s, digits = 0, unit = '') {
  return `${fmt(s.median, digits)}${unit} (range ${fmt(s.min, digits)}–${fmt(s.max, digits)}${unit}, n=${s.n})`;
}
