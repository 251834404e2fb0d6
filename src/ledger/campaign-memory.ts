/**
 * Campaign memory lookups: which numbers a campaign (job, message template, sandbox or real) texted
 * since a time, and by which run. The Ledger answers them on its own connection (plan); ingest's thread
 * opens a read-only connection of its own, so the lookups run beside the parsing, off the thread that
 * writes the ledger (WAL lets a reader see the last commit while the writer goes on).
 */
import Database from 'better-sqlite3';
import { AppError } from '../shared/errors.js';

/** An earlier send of a campaign to a number: the run that made it and when. */
export interface EarlierSend {
  /** Null when that run has since been removed from the ledger. */
  runId: string | null;
  at: number;
}

/**
 * Which earlier sends count: those at or after `since`; with `fromSlot`, only those of runs of that cron slot
 * or a later one, or of manual runs started since (an older slot's run resumed late is not this slot's).
 */
export interface MemoryWindow {
  since: number;
  fromSlot: string | null;
}

/** Campaign memory keeps each number's latest send (a window looks back from now): an INSERT's conflict clause. */
export const REMEMBER_LATEST = 'ON CONFLICT (cid, number) DO UPDATE SET at = excluded.at, rid = excluded.rid WHERE excluded.at > campaign_memory.at';

/** The window's SQL condition over campaign_memory `m` joined to runs `r`, and its parameters. */
export const WINDOW_SQL = `m.at >= ? AND (? IS NULL OR r.slot >= ? OR (r.slot IS NULL AND r.started_at >= ?))`;
export const windowParams = (w: MemoryWindow): unknown[] => [w.since, w.fromSlot, w.fromSlot, w.since];

// One indexed probe per number; json_each hands SQLite the whole batch as one parameter, and SQLite
// probes the (cid, number) key in sorted order.
const ALREADY_SENT = `SELECT m.number, r.run_id AS runId, m.at FROM campaign_memory m LEFT JOIN runs r ON r.rid = m.rid
  WHERE m.cid = ? AND ${WINDOW_SQL} AND m.number IN (SELECT value FROM json_each(?))`;

export type AlreadySentLookup = (cid: number, window: MemoryWindow, numbers: readonly string[]) => Map<string, EarlierSend>;

/** A lookup over `db`: which of `numbers` campaign `cid` texted within `window` (the latest send of each). */
export function alreadySentQuery(db: Database.Database): AlreadySentLookup {
  const stmt = db.prepare(ALREADY_SENT);
  return (cid, window, numbers) => {
    const found = new Map<string, EarlierSend>();
    if (numbers.length === 0) return found;
    for (const r of stmt.iterate(cid, ...windowParams(window), JSON.stringify(numbers)) as IterableIterator<{ number: string; runId: string | null; at: number }>) {
      found.set(r.number, { runId: r.runId, at: r.at });
    }
    return found;
  };
}

/** A read-only connection to a ledger file, for campaign memory lookups from another thread. */
export class CampaignMemoryReader {
  readonly #db: Database.Database;
  readonly alreadySent: AlreadySentLookup;

  constructor(path: string) {
    try {
      this.#db = new Database(path, { readonly: true, fileMustExist: true });
    } catch (err) {
      throw new AppError('ERR_LEDGER_SCHEMA', `cannot open ledger ${path} to look up earlier sends: ${(err as Error).message}`, { cause: err });
    }
    this.#db.pragma('busy_timeout = 5000');
    this.alreadySent = alreadySentQuery(this.#db);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
