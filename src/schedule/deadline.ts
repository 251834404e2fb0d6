/**
 * Run deadlines: rows still unsent `expires_after` after the run began are expired, never sent.
 * Without `expires_after` (undefined) rows never expire.
 */

/** The first instant at which the run's unsent rows are expired, or undefined for never. */
export function expiresAt(runStartedAt: number, expiresAfterMs: number | undefined): number | undefined {
  return expiresAfterMs === undefined ? undefined : runStartedAt + expiresAfterMs;
}
