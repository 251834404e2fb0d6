/**
 * The message-id index (migration 5): Telnyx's message id → (run, row), the lookup webhooks and reconcile
 * use. Send commits leave it out on purpose, to keep the hot path one index lighter; a pass here adds the
 * ids of every send committed since the last one, read from the attempts log, and feeds campaign memory
 * from the same attempts. Statements prepared once per ledger, like every store here.
 */
import type Database from 'better-sqlite3';
import { connectionOf, internalsOf, type Ledger } from './ledger.js';
import { REMEMBER_LATEST } from './campaign-memory.js';
import type { WalDurability } from './durability.js';
import { perLedger } from './per-ledger.js';

/**
 * The seam a second backend implements. On PostgreSQL the pass is one round trip and would return a
 * Promise; it runs when a run's sends end and when a lookup misses, never per send.
 */
export interface MessageIdStore {
  /**
   * Adds the message ids of every send committed since the last call to `message_ids` and returns how
   * many it added. Derived data, so committed without an fsync of its own: a pass lost with the process
   * is redone.
   */
  indexMessageIds(): number;
}

export class SqliteMessageIdStore implements MessageIdStore {
  readonly #db: Database.Database;
  readonly #durability: WalDurability;
  readonly #lastAttempt: Database.Statement;
  readonly #indexedUpTo: Database.Statement;
  readonly #indexIds: Database.Transaction<() => number>;

  constructor(ledger: Ledger) {
    const db = connectionOf(ledger);
    this.#db = db;
    this.#durability = internalsOf(ledger).durability;
    this.#lastAttempt = db.prepare(`SELECT coalesce(max(id), 0) FROM attempts`).pluck();
    this.#indexedUpTo = db.prepare(`SELECT last_attempt FROM message_index WHERE id = 1`).pluck();
    // Sorted, so the inserts walk the index's leaves in order: each leaf is written once per pass.
    const indexRange = db.prepare(
      `INSERT OR IGNORE INTO message_ids (message_id, rid, row)
       SELECT m.message_id, m.rid, m.row FROM attempts a JOIN messages m ON m.rid = a.rid AND m.row = a.row
       WHERE a.id > ? AND a.id <= ? AND a.outcome = 'accepted' AND m.message_id IS NOT NULL
       ORDER BY m.message_id`,
    );
    // The same attempts feed campaign memory: accepted (sent) and in-doubt (unknown) requests both count
    // as texting the number. Sorted by the memory's key for the same reason. A test run (--test-to) texted
    // the operator's own numbers, not the list: it is never remembered.
    const rememberRange = db.prepare(
      `INSERT INTO campaign_memory (cid, number, at, rid)
       SELECT r.cid, m.to_number, coalesce(m.sent_at, a.started_at), m.rid
       FROM attempts a JOIN messages m ON m.rid = a.rid AND m.row = a.row JOIN runs r ON r.rid = a.rid
       WHERE a.id > ? AND a.id <= ? AND a.outcome IN ('accepted', 'in_doubt') AND r.test_to IS NULL
       ORDER BY 1, 2
       ${REMEMBER_LATEST}`,
    );
    const setIndexedUpTo = db.prepare(`UPDATE message_index SET last_attempt = ? WHERE id = 1`);
    this.#indexIds = db.transaction((): number => {
      const from = this.#indexedUpTo.get() as number;
      const to = this.#lastAttempt.get() as number;
      if (to <= from) return 0;
      setIndexedUpTo.run(to);
      rememberRange.run(from, to);
      return indexRange.run(from, to).changes;
    });
  }

  indexMessageIds(): number {
    if ((this.#lastAttempt.get() as number) <= (this.#indexedUpTo.get() as number)) return 0;
    // Inside a caller's transaction (a webhook being applied) it is part of that one.
    if (this.#db.inTransaction) return this.#indexIds();
    let added = 0;
    this.#durability.unsynced(() => {
      added = this.#indexIds.immediate();
    });
    return added;
  }
}

/** The message-id store of an open ledger: one per ledger, so its statements are prepared once. */
export const messageIdStoreOf: (ledger: Ledger) => MessageIdStore = perLedger((ledger) => new SqliteMessageIdStore(ledger));
