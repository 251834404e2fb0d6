/**
 * The PostgreSQL ledger: one pool on one database (opened and migrated under the advisory lock), the
 * handle `--db postgres://…` gives the run path. Its stores (a file each in this folder) are reached
 * through the same accessors as the SQLite ledger's (`runStoreOf(ledger)`, …), and answer with Promises.
 *
 * The URL may carry a password: it is kept private here, and every error names the database by
 * user@host:port/db (pgTarget) with any echo of the password scrubbed.
 */
import pg from 'pg';
import { AppError, isAppError } from '../../shared/errors.js';
import { connectPg, pgTarget, scrub } from './connect.js';
import { migratePg } from './migrations.js';

/** bigint columns (ids, millisecond times, counts) as JS numbers: every one of them is far below 2^53. */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

type Param = unknown;

export class PgLedger {
  readonly kind = 'pg' as const;
  /** user@host:port/db: what messages call this ledger (never the URL). */
  readonly target: string;
  /** Read-only handles exist only for SQLite; kept for the callers that ask. */
  readonly readonly = false;
  readonly #url: string;
  readonly #pool: pg.Pool;
  #open = true;

  private constructor(url: string, pool: pg.Pool) {
    this.#url = url;
    this.#pool = pool;
    this.target = pgTarget(url);
  }

  /** Connects to `url` and brings its schema up to date. @throws AppError ERR_LEDGER_UNUSABLE | ERR_LEDGER_SCHEMA */
  static async open(url: string, options: { max?: number } = {}): Promise<PgLedger> {
    const pool = await connectPg(url, { max: options.max ?? 6, types });
    try {
      await migratePg(pool);
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (isAppError(err)) throw err;
      throw new AppError('ERR_LEDGER_UNUSABLE', `cannot migrate the PostgreSQL ledger ${pgTarget(url)}: ${scrub((err as Error).message, url)}`, { cause: err });
    }
    return new PgLedger(url, pool);
  }

  /** Where a message names this ledger: the same field a SQLite ledger's path fills. */
  get path(): string {
    return `postgres ${this.target}`;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    await this.#pool.end().catch(() => undefined);
  }

  /** One statement on any pooled connection; a driver error becomes ERR_LEDGER_IO naming the target, never the URL. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: readonly Param[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.#pool.query<R>(sql, params as Param[]);
    } catch (err) {
      throw this.#failed(err);
    }
  }

  /**
   * Runs `fn` in one transaction on one connection: committed when it resolves, rolled back when it throws.
   * A deadlock or serialization failure rolls everything back, so the whole transaction is tried again (twice
   * at most); `fn` must keep nothing from a failed try.
   */
  async transaction<T>(fn: (tx: PgTx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#transactionOnce(fn);
      } catch (err) {
        const code = ((err as { cause?: { code?: string } }).cause ?? (err as { code?: string })).code;
        if (attempt >= 3 || (code !== '40P01' && code !== '40001')) throw err;
      }
    }
  }

  async #transactionOnce<T>(fn: (tx: PgTx) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw this.#failed(err);
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const tx: PgTx = {
        client,
        query: async <R extends pg.QueryResultRow>(sql: string, params: readonly Param[] = []) => {
          try {
            return await client.query<R>(sql, params as Param[]);
          } catch (err) {
            throw this.#failed(err);
          }
        },
      };
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: unknown) => (broken = e as Error));
      throw isAppError(err) ? err : this.#failed(err);
    } finally {
      client.release(broken);
    }
  }

  /** A refused state move (the triggers' check_violation) is a bug, like SQLite's; anything else is the database failing. */
  #failed(err: unknown): unknown {
    if (isAppError(err)) return err;
    const e = err as Error & { code?: string };
    const message = scrub(e.message, this.#url);
    if (e.code === '23514' && /illegal/.test(message)) return new AppError('ERR_LEDGER_TRANSITION', message, { cause: err });
    return new AppError('ERR_LEDGER_IO', `the PostgreSQL ledger ${this.target} failed: ${message}`, { cause: err });
  }
}

/** A transaction's connection, with the ledger's error mapping. */
export interface PgTx {
  readonly client: pg.PoolClient;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: readonly Param[]): Promise<pg.QueryResult<R>>;
}

