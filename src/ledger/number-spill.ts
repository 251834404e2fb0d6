/**
 * Where ingest's duplicate check keeps the keys it has moved out of memory: (number, or a group's numbers
 * joined → first row) in a private temporary SQLite database, a file SQLite deletes itself (even if the
 * process is killed: it is unlinked as it is opened) and a page cache of a few MB. Keys arrive in sorted
 * batches, so a batch walks the B-tree's leaves once in order instead of touching a random page per key.
 */
import Database from 'better-sqlite3';
import { AppError } from '../shared/errors.js';

/** Rows per multi-row INSERT (2 parameters each). */
const INSERT_CHUNK = 100;

/** The page cache the spill may hold, in KiB: the rest of its pages wait in the file (and the OS's cache). */
const CACHE_KIB = 4096;

/** Single numbers as integers (E.164 digits), groups as their joined text. */
export type SpillKey = 'integer' | 'text';

export class NumberSpill<K extends number | string> {
  readonly #db: Database.Database;
  readonly #find: Database.Statement;
  readonly #insertMany: Database.Statement;
  readonly #insertOne: Database.Statement;
  readonly #params: (K | number)[] = new Array<K | number>(INSERT_CHUNK * 2);

  constructor(keys: SpillKey) {
    try {
      // '' opens an anonymous temporary database: nothing to name, clean up or find again after a crash.
      this.#db = new Database('');
      this.#db.pragma('journal_mode = OFF');
      this.#db.pragma('synchronous = OFF');
      this.#db.pragma(`cache_size = -${CACHE_KIB}`);
      this.#db.exec(
        keys === 'integer'
          ? 'CREATE TABLE seen (key INTEGER PRIMARY KEY, row INTEGER NOT NULL)'
          : 'CREATE TABLE seen (key TEXT PRIMARY KEY, row INTEGER NOT NULL) WITHOUT ROWID',
      );
    } catch (err) {
      throw spillError('open', err);
    }
    this.#find = this.#db.prepare('SELECT row FROM seen WHERE key = ?').pluck();
    this.#insertOne = this.#db.prepare('INSERT INTO seen (key, row) VALUES (?, ?)');
    this.#insertMany = this.#db.prepare(`INSERT INTO seen (key, row) VALUES ${Array.from({ length: INSERT_CHUNK }, () => '(?, ?)').join(', ')}`);
  }

  /** The row stored for `key`, or 0 when absent. */
  get(key: K): number {
    return (this.#find.get(key) as number | undefined) ?? 0;
  }

  /** Stores `rows[i]` for `keys[i]`; `keys` ascending, none stored before. */
  addSorted(keys: ArrayLike<K>, rows: ArrayLike<number>): void {
    const params = this.#params;
    const write = this.#db.transaction(() => {
      let i = 0;
      for (; i + INSERT_CHUNK <= keys.length; i += INSERT_CHUNK) {
        for (let j = 0; j < INSERT_CHUNK; j++) {
          params[2 * j] = keys[i + j]!;
          params[2 * j + 1] = rows[i + j]!;
        }
        this.#insertMany.run(params);
      }
      for (; i < keys.length; i++) this.#insertOne.run(keys[i]!, rows[i]!);
    });
    try {
      write();
    } catch (err) {
      throw spillError('write', err);
    }
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

/** A full or unwritable temporary directory stops the ingest like a full ledger disk would. */
function spillError(what: 'open' | 'write', err: unknown): AppError {
  return new AppError(
    'ERR_LEDGER_IO',
    `cannot ${what} the duplicate check's temporary database (in SQLITE_TMPDIR, TMPDIR or /var/tmp): ${(err as Error).message}`,
    { cause: err },
  );
}
