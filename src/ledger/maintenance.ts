/**
 * Keeping a ledger's size in check: `bulktext prune` strips finished runs of what only an investigation
 * needs, `vacuum` gives the space back to the disk, `sizeBytes` says what the file takes. Statements
 * prepared once per ledger, like every store here.
 */
import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { connectionOf, type Ledger } from './ledger.js';
import { messageIdStoreOf, type MessageIdStore } from './message-id-store.js';
import { perLedger } from './per-ledger.js';
import { writingTo } from './storage-error.js';

/** What `prune` did. */
export interface PruneResult {
  runs: number;
  /** Rows whose text was deleted. */
  stripped: number;
  /** Rows deleted outright (never became a message; only without keepCounts). */
  deletedRows: number;
  attempts: number;
  webhookEvents: number;
}

/**
 * The seam a second backend implements (PostgreSQL's VACUUM and size are its own; each would return a
 * Promise). Never on the send path.
 */
export interface Maintenance {
  /**
   * For finished runs (completed or cancelled) that ended before `before`, deletes what only an
   * investigation needs — message texts and subjects, error details, the HTTP attempts log and the
   * delivery receipts' payloads — and keeps what the ledger must remember: each row's number, status,
   * send time, parts, cost and delivery status, and the run itself (job, spec, counts, cost). Without
   * `keepCounts` the rows that never became a message (skipped, expired, failed) are deleted too.
   * Space is reclaimed by `vacuum()`.
   */
  prune(before: number, options: { keepCounts: boolean; now?: number }): PruneResult;
  /** Rewrites the ledger file without its free pages (after `prune`), and empties the WAL into it. */
  vacuum(): void;
  /** The ledger's size on disk: the database file and its WAL. */
  sizeBytes(): number;
}

export class SqliteMaintenance implements Maintenance {
  readonly #db: Database.Database;
  readonly #path: string;
  readonly #ids: MessageIdStore;
  readonly #prunable: Database.Statement;
  readonly #events: Database.Statement;
  readonly #attempts: Database.Statement;
  readonly #never: Database.Statement;
  readonly #strip: Database.Statement;
  readonly #mark: Database.Statement;

  constructor(ledger: Ledger) {
    const db = connectionOf(ledger);
    this.#db = db;
    this.#path = ledger.path;
    this.#ids = messageIdStoreOf(ledger);
    this.#prunable = db
      .prepare(`SELECT rid FROM runs WHERE state IN ('completed', 'cancelled') AND coalesce(finished_at, started_at) < ? AND pruned_at IS NULL`)
      .pluck();
    this.#events = db.prepare(`DELETE FROM webhook_events WHERE message_id IN (SELECT message_id FROM message_ids WHERE rid = ?)`);
    this.#attempts = db.prepare(`DELETE FROM attempts WHERE rid = ?`);
    this.#never = db.prepare(`DELETE FROM messages WHERE rid = ? AND status IN ('skipped', 'expired', 'failed')`);
    this.#strip = db.prepare(
      `UPDATE messages SET text = NULL, vars = NULL, subject = NULL, error_detail = NULL, delivery_error_detail = NULL
       WHERE rid = ? AND (text IS NOT NULL OR vars IS NOT NULL)`,
    );
    this.#mark = db.prepare(`UPDATE runs SET pruned_at = ? WHERE rid = ?`);
  }

  prune(before: number, options: { keepCounts: boolean; now?: number }): PruneResult {
    // The message-id lookup is filled from the attempts log: catch it up before the log goes.
    this.#ids.indexMessageIds();
    return this.#db.transaction(() => {
      const rids = this.#prunable.all(before) as number[];
      const result: PruneResult = { runs: rids.length, stripped: 0, deletedRows: 0, attempts: 0, webhookEvents: 0 };
      for (const rid of rids) {
        result.webhookEvents += this.#events.run(rid).changes;
        result.attempts += this.#attempts.run(rid).changes;
        if (!options.keepCounts) result.deletedRows += this.#never.run(rid).changes;
        result.stripped += this.#strip.run(rid).changes;
        this.#mark.run(options.now ?? Date.now(), rid);
      }
      return result;
    })();
  }

  vacuum(): void {
    writingTo(this.#path, () => {
      this.#db.exec('VACUUM');
      this.#db.pragma('wal_checkpoint(TRUNCATE)');
    });
  }

  sizeBytes(): number {
    const size = (file: string) => {
      try {
        return statSync(file).size;
      } catch {
        return 0;
      }
    };
    return size(this.#path) + size(`${this.#path}-wal`);
  }
}

/** The maintenance of an open ledger: one per ledger, so its statements are prepared once. */
export const maintenanceOf: (ledger: Ledger) => Maintenance = perLedger((ledger) => new SqliteMaintenance(ledger));
