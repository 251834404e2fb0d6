/**
 * The suppression list (migration 2): numbers no run texts, with why — a STOP reply, Telnyx's 40300
 * refusal, or the operator. Synchronous, statements prepared once per ledger, like every store here; a
 * webhook's change runs inside the delivery store's transaction, on the same connection.
 */
import type Database from 'better-sqlite3';
import { connectionOf, type Ledger } from './ledger.js';
import { perLedger } from './per-ledger.js';
import { onPg } from './backend.js';
import type { PgLedger } from './pg/pg-ledger.js';
import { pgSuppressionStoreOf, type PgSuppressionStore } from './pg/suppression-store.js';

export type SuppressionSource = 'stop_reply' | '40300' | 'manual';

export interface SuppressionRecord {
  number: string;
  source: SuppressionSource;
  detail: string | null;
  addedAt: number;
}

/**
 * The seam a second backend implements. On PostgreSQL each method is a round trip and would return a
 * Promise; a run reads the list once before it sends and watches it in the background.
 */
export interface SuppressionStore {
  /** Adds a number; an existing entry is kept as it is (its first reason stands). True if added. */
  addSuppression(number: string, source: SuppressionSource, detail: string | null, at: number): boolean;
  /** Removes a number if its entry came from one of `sources`. True if removed. */
  removeSuppression(number: string, sources: readonly SuppressionSource[]): boolean;
  /** Every entry, oldest first. */
  suppressions(): SuppressionRecord[];
  isSuppressed(number: string): boolean;
  /** Every suppressed number, streamed. */
  suppressedNumbers(): IterableIterator<string>;
}

export class SqliteSuppressionStore implements SuppressionStore {
  readonly #add: Database.Statement;
  readonly #remove: Database.Statement;
  readonly #list: Database.Statement;
  readonly #isSuppressed: Database.Statement;
  readonly #numbers: Database.Statement;

  constructor(ledger: Ledger) {
    const db = connectionOf(ledger);
    this.#add = db.prepare(`INSERT INTO suppressions (number, source, detail, added_at) VALUES (?, ?, ?, ?) ON CONFLICT (number) DO NOTHING`);
    this.#remove = db.prepare(`DELETE FROM suppressions WHERE number = ? AND source IN (SELECT value FROM json_each(?))`);
    this.#list = db.prepare(`SELECT number, source, detail, added_at AS addedAt FROM suppressions ORDER BY added_at, number`);
    this.#isSuppressed = db.prepare(`SELECT 1 FROM suppressions WHERE number = ?`).pluck();
    this.#numbers = db.prepare(`SELECT number FROM suppressions`).pluck();
  }

  addSuppression(number: string, source: SuppressionSource, detail: string | null, at: number): boolean {
    return this.#add.run(number, source, detail, at).changes === 1;
  }

  removeSuppression(number: string, sources: readonly SuppressionSource[]): boolean {
    return this.#remove.run(number, JSON.stringify(sources)).changes === 1;
  }

  suppressions(): SuppressionRecord[] {
    return this.#list.all() as SuppressionRecord[];
  }

  isSuppressed(number: string): boolean {
    return this.#isSuppressed.get(number) !== undefined;
  }

  *suppressedNumbers(): IterableIterator<string> {
    yield* this.#numbers.iterate() as IterableIterator<string>;
  }
}

/** The suppression store of an open ledger: one per ledger, so its statements are prepared once. */
const sqliteSuppressionStoreOf: (ledger: Ledger) => SuppressionStore = perLedger((ledger) => new SqliteSuppressionStore(ledger));

/** The suppression store of either backend's handle: SQLite's answers now, PostgreSQL's with Promises. */
export function suppressionStoreOf(ledger: Ledger): SuppressionStore;
export function suppressionStoreOf(ledger: PgLedger): PgSuppressionStore;
export function suppressionStoreOf(ledger: Ledger | PgLedger): SuppressionStore | PgSuppressionStore;
export function suppressionStoreOf(ledger: Ledger | PgLedger): SuppressionStore | PgSuppressionStore {
  return onPg(ledger) ? pgSuppressionStoreOf(ledger) : sqliteSuppressionStoreOf(ledger);
}
