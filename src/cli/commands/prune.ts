import { parseDuration } from '../../config/schedule-spec.js';
import { formatBytes } from '../../plan/index.js';
import { AppError } from '../../shared/errors.js';
import type { Io } from '../io.js';
import { openExistingLedger } from '../ledger-file.js';
import { maintenanceOf } from '../../ledger/maintenance.js';

export interface PruneOptions {
  /** A duration ("90d", "12h") back from now, or an ISO date. */
  before: string;
  keepCounts: boolean;
  db?: string | undefined;
}

/** "90d" → now − 90 days; "2026-09-01" → that instant. */
export function parseCutoff(text: string, now: number): number {
  const ago = parseDuration(text);
  if (ago !== undefined) return now - ago;
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) throw new AppError('ERR_USAGE', `--before "${text}" is neither a duration such as 90d or 12h nor a date such as 2026-09-01`);
  return at;
}

export function pruneCommand(o: PruneOptions, io: Io): number {
  const now = Date.now();
  const cutoff = parseCutoff(o.before, now);
  const ledger = openExistingLedger(o.db, io, { readonly: false });
  const maintenance = maintenanceOf(ledger);
  try {
    const before = maintenance.sizeBytes();
    const r = maintenance.prune(cutoff, { keepCounts: o.keepCounts, now });
    const since = new Date(cutoff).toISOString();
    if (r.runs === 0) {
      io.stderr(`no finished run ended before ${since} that is not pruned already; ledger ${formatBytes(before)}\n`);
      return 0;
    }
    const t0 = performance.now();
    maintenance.vacuum();
    const seconds = (performance.now() - t0) / 1000;
    const deleted = o.keepCounts ? '' : `, ${r.deletedRows} row(s) that never became a message`;
    io.stderr(
      `pruned ${r.runs} run(s) finished before ${since}: the texts of ${r.stripped} row(s), ${r.attempts} attempt(s), ${r.webhookEvents} receipt(s)${deleted}\n` +
        `ledger ${formatBytes(before)} → ${formatBytes(maintenance.sizeBytes())} (space reclaimed in ${seconds.toFixed(1)} s)\n`,
    );
    return 0;
  } finally {
    ledger.close();
  }
}
