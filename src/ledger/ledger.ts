/**
 * The SQLite ledger: every run, every message row, every HTTP attempt.
 *
 * Modelled on undici's sqlite-cache-store: WAL, prepared statements kept in private fields, a
 * synchronous API. Transactions never span an `await` (better-sqlite3 cannot, and we would not want it).
 *
 * Durability: WAL with synchronous=FULL, every commit fsynced, except the dispatcher's batches when it
 * defers their fsync (durability.ts has the rule and the machinery). The cost is paid per transaction,
 * not per row, because the dispatcher commits all the marks and outcomes of one event-loop turn together
 * (see dispatch/ledger-writer.ts).
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { AppError, isAppError } from '../shared/errors.js';
import { ledgerStorageError, storageCode } from './storage-error.js';
import { migrations } from './migrations.js';
import { columnsOf, type MessageColumns } from './message-columns.js';
import { WalDurability } from './durability.js';
import { registerMessageText, type StoredTexts } from './message-text.js';
import type { AttemptRecord, DeferrableBatch, NewMessageRow, Outcome, PendingMessage, WriteBatch } from './types.js';

export type { AttemptRecord, DeferrableBatch, MessageColumns, NewMessageRow, Outcome, PendingMessage, WriteBatch };

export interface LedgerOptions {
  /**
   * Open for reading only (status, report, plan): never writes, and works on a read-only file in a
   * read-only folder. @default false
   */
  readonly?: boolean;
  /**
   * Test only: PRAGMA max_page_count for this connection, so a test can make the disk "full" at a chosen
   * size without mounting anything. The limit is per connection, which is why the process under test sets it.
   */
  maxPageCount?: number;
}

/** Rows per multi-row INSERT during ingest (15 parameters each, far under SQLite's 32,766). */
const INSERT_CHUNK = 50;

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
  #insertMessage;
  #insertRows;
  #insertMany;
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
    let db: Database.Database | undefined;
    try {
      db = this.readonly ? openReadOnly(path) : openReadWrite(path);
      if (options.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.trunc(options.maxPageCount)}`);
      if (this.readonly && schemaVersion(db) < latestVersion) {
        // An older ledger is upgraded once by a writer; a reader then sees the current schema.
        db.close();
        openReadWrite(path).close();
        db = openReadOnly(path);
      }
      if (!this.readonly) migrate(db);
      else checkVersion(db);
    } catch (err) {
      if (db?.open === true) db.close();
      if (isAppError(err)) throw err;
      const storage = ledgerStorageError(err, path, 'before-sending');
      if (storage !== err) throw storage;
      throw new AppError('ERR_LEDGER_SCHEMA', `cannot open ledger ${path}: ${(err as Error).message}`, { cause: err });
    }
    this.db = db;
    registerMessageText(db);
    this.#durability = new WalDurability(db, path, !this.readonly);

    this.#insertMessage = this.db.prepare(
      `INSERT INTO messages (rid, row, line, to_number, sender, text, vars, subject, parts, encoding, tz, status, error_code, error_detail, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // Ingest inserts INSERT_CHUNK rows per statement: one bind-and-step per chunk instead of per row.
    this.#insertMany = this.db.prepare(
      `INSERT INTO messages (rid, row, line, to_number, sender, text, vars, subject, parts, encoding, tz, status, error_code, error_detail, updated_at)
       VALUES ${Array.from({ length: INSERT_CHUNK }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    );
    const params: unknown[] = new Array(INSERT_CHUNK * 15);
    this.#insertRows = this.db.transaction((rid: number, c: MessageColumns, now: number) => {
      let i = 0;
      for (; i + INSERT_CHUNK <= c.count; i += INSERT_CHUNK) {
        let p = 0;
        for (let j = i; j < i + INSERT_CHUNK; j++) {
          params[p++] = rid;
          params[p++] = c.row[j];
          params[p++] = c.line[j];
          params[p++] = c.to[j];
          params[p++] = c.sender[j];
          params[p++] = c.text[j];
          params[p++] = c.vars[j];
          params[p++] = c.subject[j];
          params[p++] = c.parts[j];
          params[p++] = c.encoding[j];
          params[p++] = c.tz[j];
          params[p++] = c.status[j];
          params[p++] = c.errorCode[j];
          params[p++] = c.errorDetail[j];
          params[p++] = now;
        }
        this.#insertMany.run(params);
      }
      for (; i < c.count; i++) {
        this.#insertMessage.run(
          rid, c.row[i], c.line[i], c.to[i], c.sender[i], c.text[i], c.vars[i], c.subject[i], c.parts[i], c.encoding[i], c.tz[i], c.status[i],
          c.errorCode[i], c.errorDetail[i], now,
        );
      }
    });
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
  insertRows(rid: number, rows: readonly NewMessageRow[], now = Date.now()): void {
    this.insertColumns(rid, columnsOf(rows), now);
  }

  /**
   * Inserts a batch of ingested rows in one transaction, committed without an fsync of its own: a run
   * that dies while ingesting is ingested again from scratch, and the commit that ends ingest
   * (`setRunTotal`, synchronous=FULL) makes every row before it durable with one fsync of the WAL.
   */
  insertColumns(rid: number, columns: MessageColumns, now = Date.now()): void {
    this.#unsynced(() => this.#insertRows(rid, columns, now));
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

const latestVersion = migrations.at(-1)?.version ?? 0;

function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function checkVersion(db: Database.Database, current = schemaVersion(db)): void {
  if (current > latestVersion) {
    throw new AppError(
      'ERR_LEDGER_SCHEMA',
      `the ledger ${db.name} has schema version ${current}, written by a newer bulktext; this bulktext knows versions up to ${latestVersion}: upgrade bulktext`,
    );
  }
}

/**
 * Brings the schema up to date. The version is read again inside the BEGIN IMMEDIATE that migrates, so
 * processes opening a new ledger at once take turns: the first migrates, the others find it done.
 * (Read outside, two of them would both run migration 1: "table runs already exists".)
 */
function migrate(db: Database.Database): void {
  if (schemaVersion(db) === latestVersion) return; // versions only grow: nothing to do, no lock taken
  db.transaction(() => {
    const current = schemaVersion(db);
    checkVersion(db, current);
    for (const m of migrations) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }
  }).immediate();
}

/** Opens (creating if needed) for writing. A new file is created 0600: it holds phone numbers and texts. */
function openReadWrite(path: string): Database.Database {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AppError('ERR_LEDGER_UNUSABLE', `cannot create the ledger ${path}: its folder does not exist`, { cause: err });
    if (code !== 'EEXIST') throw new AppError('ERR_LEDGER_UNUSABLE', `cannot create the ledger ${path}: ${(err as Error).message}`, { cause: err });
  }
  const db = new Database(path, { timeout: 5000 });
  // Set before anything that locks: several processes opening a new file at once wait for each other.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // Checkpoint every ~40 MB of WAL instead of every 4 MB: a page the send path touches again and again
  // (a status-index leaf, a message-id leaf) is copied into the database once per checkpoint, not ten
  // times, and checkpoints (each with an fsync of the database) are a tenth as frequent.
  db.pragma('wal_autocheckpoint = 10000');
  return db;
}

/**
 * Opens for reading. A WAL database needs its -shm file even to read; when that file is absent and the
 * folder is read-only, SQLite cannot create it (SQLITE_READONLY_DIRECTORY / CANTOPEN) and this build has
 * no URI filenames for `immutable=1`. Then the file is read into memory as a snapshot, marked as a
 * rollback-journal database (header bytes 18-19) so SQLite reads it without a WAL: nothing can be writing
 * a file no one may write.
 */
function openReadOnly(path: string): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5000 });
  try {
    schemaVersion(db);
    return db;
  } catch (err) {
    db.close();
    const code = storageCode(err);
    if (code !== 'SQLITE_READONLY_DIRECTORY' && code !== 'SQLITE_CANTOPEN' && code !== 'SQLITE_READONLY_CANTINIT') throw err;
  }
  const image = readFileSync(path);
  if (image.length >= 20 && image[18] === 2 && image[19] === 2) {
    image[18] = 1;
    image[19] = 1;
  }
  return new Database(image, { readonly: true });
}
