/**
 * Where ingest's duplicate check keeps the numbers it has moved out of memory: (number → first row) in a
 * private temporary SQLite database, a file SQLite deletes itself (even if the process is killed: it is
 * unlinked as it is opened) and a page cache of a few MB. Keys arrive in sorted batches, so a batch walks
 * the B-tree's leaves once in order instead of touching a random page per key.
 */
import Database from 'better-sqlite3';
import { AppError } from '../shared/errors.js';

/** Rows per multi-row INSERT (2 parameters each). */
const INSERT_CHUNK = 100;

/** The page cache the spill may hold, in KiB: the rest of its pages wait in the file (and the OS's cache). */
const CACHE_KIB = 4096;

export class NumberSpill {
  readonly #db: Database.Database;
  readonly #find: Database.Statement;
  readonly #insertMany: Database.Statement;
  readonly #insertOne: Database.Statement;
  readonly #params: number[] = new Array<number>(INSERT_CHUNK * 2);

  constructor() {
    try {
      // '' opens an anonymous temporary database: nothing to name, clean up or find again after a crash.
      this.#db = new Database('');
      this.#db.pragma('journal_mode = OFF');
      this.#db.pragma('synchronous = OFF');
      this.#db.pragma(`cache_size = -${CACHE_KIB}`);
      this.#db.exec('CREATE TABLE seen (number INTEGER PRIMARY KEY, row INTEGER NOT NULL)');
    } catch (err) {
      throw spillError('open', err);
    }
    this.#find = this.#db.prepare('SELECT row FROM seen WHERE number = ?').pluck();
    this.#insertOne = this.#db.prepare('INSERT INTO seen (number, row) VALUES (?, ?)');
    this.#insertMany = this.#db.prepare(`INSERT INTO seen (number, row) VALUES ${Array.from({ length: INSERT_CHUNK }, () => '(?, ?)').join(', ')}`);
  }

  /** The row stored for `number`, or 0 when absent. */
  get(number: number): number {
    return (this.#find.get(number) as number | undefined) ?? 0;
  }

  /** Stores `rows[i]` for `numbers[i]`; `numbers` ascending, none stored before. */
  addSorted(numbers: Float64Array, rows: Uint32Array): void {
    const params = this.#params;
    const write = this.#db.transaction(() => {
      let i = 0;
      for (; i + INSERT_CHUNK <= numbers.length; i += INSERT_CHUNK) {
        for (let j = 0; j < INSERT_CHUNK; j++) {
          params[2 * j] = numbers[i + j]!;
          params[2 * j + 1] = rows[i + j]!;
        }
        this.#insertMany.run(params);
      }
      for (; i < numbers.length; i++) this.#insertOne.run(numbers[i]!, rows[i]!);
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
    `cannot ${what} the duplicate check's temporary database (in TMPDIR or /tmp): ${(err as Error).message}`,
    { cause: err },
  );
}
