/**
 * Opening a ledger file: creating it (0600: it holds phone numbers and texts), WAL and the pragmas every
 * connection needs, the schema migrations (migrations.ts) for a writer, the version check for a reader,
 * and a read-only folder's fallback. The Ledger calls it once; nothing else opens the file to write.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { AppError, isAppError } from '../shared/errors.js';
import { migrations } from './migrations.js';
import { ledgerStorageError, storageCode } from './storage-error.js';

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

/**
 * Opens the ledger file at `path` — created 0600 and migrated for a writer, checked for a reader — with
 * the pragmas every connection needs. A file or disk problem is ERR_LEDGER_UNUSABLE, anything else that
 * stops it opening ERR_LEDGER_SCHEMA.
 */
export function openLedger(path: string, options: LedgerOptions = {}): Database.Database {
  const readonly = options.readonly === true;
  let db: Database.Database | undefined;
  try {
    db = readonly ? openReadOnly(path) : openReadWrite(path);
    if (options.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.trunc(options.maxPageCount)}`);
    if (readonly && schemaVersion(db) < latestVersion) {
      // An older ledger is upgraded once by a writer; a reader then sees the current schema.
      db.close();
      openReadWrite(path).close();
      db = openReadOnly(path);
    }
    if (!readonly) migrate(db);
    else checkVersion(db);
    return db;
  } catch (err) {
    if (db?.open === true) db.close();
    if (isAppError(err)) throw err;
    const storage = ledgerStorageError(err, path, 'before-sending');
    if (storage !== err) throw storage;
    throw new AppError('ERR_LEDGER_SCHEMA', `cannot open ledger ${path}: ${(err as Error).message}`, { cause: err });
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
