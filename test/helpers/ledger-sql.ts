/**
 * Raw SQL against a ledger file, for the tests that deliberately corrupt, downgrade or inspect a ledger
 * beyond what its stores answer. The one place in test/ that opens a SQLite connection: its own, never the
 * Ledger's (which is private). WAL lets it read every commit and write alongside a Ledger that is open.
 */
import Database from 'better-sqlite3';

export class LedgerSql {
  readonly #db: Database.Database;

  constructor(file: string, options: { readonly?: boolean } = {}) {
    this.#db = new Database(file, { readonly: options.readonly === true, fileMustExist: true, timeout: 5000 });
  }

  /** The rows of a query (parameters bound in order). */
  all<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[] {
    return this.#db.prepare(sql).all(...params) as T[];
  }

  /** The first row of a query, undefined when none. */
  get<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T | undefined {
    return this.#db.prepare(sql).get(...params) as T | undefined;
  }

  /** The first column of the first row. */
  value<T = unknown>(sql: string, ...params: unknown[]): T {
    return this.#db.prepare(sql).pluck().get(...params) as T;
  }

  /** A write; returns how many rows it changed. */
  run(sql: string, ...params: unknown[]): number {
    return this.#db.prepare(sql).run(...params).changes;
  }

  /** Several statements (a schema change, a downgrade). */
  exec(sql: string): void {
    this.#db.exec(sql);
  }

  /** A file-level PRAGMA (user_version, page_count, journal_mode), read or set. */
  pragma(text: string): unknown {
    return this.#db.pragma(text, { simple: true });
  }

  close(): void {
    this.#db.close();
  }
}

/** Opens the ledger file, runs `fn` and closes the connection, whatever happens. */
export function withLedgerSql<T>(file: string, fn: (sql: LedgerSql) => T, options: { readonly?: boolean } = {}): T {
  const sql = new LedgerSql(file, options);
  try {
    return fn(sql);
  } finally {
    sql.close();
  }
}

/** Creates a ledger file as an old bulktext left it: `schema` applied, at schema `version` (for upgrade tests). */
export function createLedgerAt(file: string, schema: string, version: number): void {
  const db = new Database(file);
  try {
    db.exec(schema);
    db.pragma(`user_version = ${version}`);
  } finally {
    db.close();
  }
}

/**
 * Removes migration 11 (the run and slot transition tables and their triggers), so a test can rebuild a
 * ledger as an older bulktext left it and reopen it to run the later migrations again.
 */
export const DROP_MIGRATION_11 = `DROP TRIGGER runs_state_insert; DROP TRIGGER runs_state_move; DROP TABLE run_transitions;
  DROP TRIGGER schedule_slots_state_insert; DROP TRIGGER schedule_slots_state_move; DROP TABLE slot_transitions;`;
