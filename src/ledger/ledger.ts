/**
 * The SQLite ledger: one connection to one ledger file (open-ledger.ts opens and migrates it), its
 * transactions and its durability (durability.ts). What the ledger holds is read and written through
 * one store per aggregate, each reached by its accessor and preparing its statements once per ledger:
 * runs (run-store.ts), message rows and the dispatcher's commits (message-store.ts), the message-id
 * index, campaign memory, delivery, suppressions, slots, limits, the run's plan, metrics and maintenance.
 * Each store's interface is the seam a second backend implements (issue 15).
 *
 * Modelled on undici's sqlite-cache-store: WAL, prepared statements kept in private fields, a
 * synchronous API. Transactions never span an `await` (better-sqlite3 cannot, and we would not want it).
 */
import type Database from 'better-sqlite3';
import { openLedger, type LedgerOptions } from './open-ledger.js';
import { columnsOf, type MessageColumns } from './message-columns.js';
import { WalDurability } from './durability.js';
import { createMessageInsert } from './message-insert.js';
import { registerMessageText, type StoredTexts } from './message-text.js';
import type { AttemptRecord, DeferrableBatch, NewMessageRow, Outcome, PendingMessage, WriteBatch } from './types.js';

export type { AttemptRecord, DeferrableBatch, MessageColumns, NewMessageRow, Outcome, PendingMessage, WriteBatch };

/**
 * The ledger's connection, for the stores in this folder only (slot-store, delivery-store, …): outside
 * src/ledger/ nothing prepares SQL, so a second backend has one seam to implement (issue 15). Set by
 * Ledger's static block, the one place that may read its private connection.
 */
export let connectionOf: (ledger: Ledger) => Database.Database;

/** What the stores in this folder share with the Ledger beyond its connection; read once, in a store's constructor. */
export interface LedgerInternals {
  readonly durability: WalDurability;
  /** What a run's rows stored in short form stand for (message-text.ts), read once per run and kept. */
  textsOf(rid: number): StoredTexts | null;
  /** Drops a run's kept texts (the run is gone). */
  forgetTexts(rid: number): void;
}

/** Set by Ledger's static block, like `connectionOf`. */
export let internalsOf: (ledger: Ledger) => LedgerInternals;

export class Ledger {
  readonly path: string;
  /** Private: the stores in this folder reach it through `connectionOf`, nothing else does. */
  private readonly db: Database.Database;
  /** Opened with `readonly` (see LedgerOptions). */
  readonly readonly: boolean;
  #insertRows;
  readonly #durability: WalDurability;
  /** run_texts by rid, read once (before a statement iterates: the connection cannot run two at once). */
  readonly #runTexts = new Map<number, StoredTexts | null>();

  static {
    connectionOf = (ledger) => ledger.db;
    internalsOf = (ledger) => ({
      durability: ledger.#durability,
      textsOf: (rid) => ledger.#textsOf(rid),
      forgetTexts: (rid) => ledger.#runTexts.delete(rid),
    });
  }

  constructor(path: string, options: LedgerOptions = {}) {
    this.path = path;
    this.readonly = options.readonly === true;
    const db = openLedger(path, options);
    this.db = db;
    registerMessageText(db);
    this.#durability = new WalDurability(db, path, !this.readonly);
    this.#insertRows = createMessageInsert(this.db);
  }

  /** This connection's PRAGMA synchronous: `full` for every write but the deferred ones (see durability.ts). */
  synchronous(): 'off' | 'normal' | 'full' | 'extra' {
    const level = this.db.pragma('synchronous', { simple: true }) as number;
    return (['off', 'normal', 'full', 'extra'] as const)[level] ?? 'off';
  }

  /** False once closed (a metrics scrape or health check after shutdown reads nothing). */
  get isOpen(): boolean {
    return this.db.open;
  }

  close(): void {
    if (this.db.open) this.db.close();
    this.#durability.close();
  }

  /** Runs `fn` in one IMMEDIATE transaction: what it reads cannot change under it before it writes. */
  exclusively<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /**
   * What a run's rows stored in short form stand for (message-text.ts): the template's literal pieces
   * and the run's own sender (null: none). Set before ingest writes such rows.
   */
  setRunTexts(rid: number, literals: readonly string[], sender: string | null): void {
    this.db
      .prepare(`INSERT INTO run_texts (rid, literals, sender) VALUES (?, ?, ?) ON CONFLICT (rid) DO UPDATE SET literals = excluded.literals, sender = excluded.sender`)
      .run(rid, JSON.stringify(literals), sender);
    this.#runTexts.delete(rid);
  }

  #textsOf(rid: number): StoredTexts | null {
    let texts = this.#runTexts.get(rid);
    if (texts === undefined) {
      const r = this.db.prepare(`SELECT literals, sender FROM run_texts WHERE rid = ?`).get(rid) as { literals: string; sender: string | null } | undefined;
      texts = r === undefined ? null : { literals: JSON.parse(r.literals) as string[], sender: r.sender };
      this.#runTexts.set(rid, texts);
    }
    return texts;
  }

  /** Inserts ingested rows in one transaction. */
  insertRows(rid: number, rows: readonly NewMessageRow[]): void {
    this.insertColumns(rid, columnsOf(rows));
  }

  /**
   * Inserts a batch of ingested rows in one transaction, committed without an fsync of its own: a run
   * that dies while ingesting is ingested again from scratch, and the commit that ends ingest
   * (`setRunTotal`, synchronous=FULL) makes every row before it durable with one fsync of the WAL.
   */
  insertColumns(rid: number, columns: MessageColumns): void {
    this.#unsynced(() => this.#insertRows(rid, columns));
  }

  /**
   * Runs `write` with its commits made without an fsync (synchronous=NORMAL): for writes that need no
   * durability of their own (the sandbox's receipts). A full disk or an I/O error is still ERR_LEDGER_IO.
   */
  withoutFsync<T>(write: () => T): T {
    let result: T | undefined;
    this.#unsynced(() => {
      result = write();
    });
    return result as T;
  }

  /** Runs a bulk write committed with synchronous=NORMAL (its durability comes later, see its callers). */
  #unsynced(write: () => void): void {
    this.#durability.unsynced(write);
  }
}
