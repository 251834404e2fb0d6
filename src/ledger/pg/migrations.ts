/**
 * The PostgreSQL ledger's versioned migrations. Each is applied in its own transaction and recorded in
 * schema_migrations; the whole pass runs under one advisory lock, so processes opening a new database at
 * once (workers starting on several hosts) take turns: the first migrates, the others wait and find it
 * done. Append only: never edit a migration that has shipped; add the next version.
 */
import type pg from 'pg';
import { AppError, isAppError } from '../../shared/errors.js';
import { schema1 } from './schema-1.js';
import { schema3 } from './schema-3.js';

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

export const pgMigrations: readonly PgMigration[] = [
  { version: 1, name: 'the SQLite ledger (migration 12) plus workers and claims', sql: schema1 },
  { version: 3, name: 'the scheduler leader lease', sql: schema3 },
];

/** The advisory lock every bulktext migrating a database takes ('bulktext' in ASCII, as a bigint). */
export const migrationLockKey = '7094695996762191988';

export interface MigrateResult {
  /** The version found, 0 for an empty database. */
  from: number;
  to: number;
  applied: number[];
}

/**
 * Brings the database at `pool` up to the latest migration. @throws AppError ERR_LEDGER_SCHEMA when the
 * database's version is newer than this bulktext knows (written by a newer one): nothing is changed.
 */
export async function migratePg(pool: pg.Pool, list: readonly PgMigration[] = pgMigrations): Promise<MigrateResult> {
  const latest = list.at(-1)?.version ?? 0;
  const client = await pool.connect();
  let broken: unknown;
  try {
    // Session-level, on this one connection: held across the per-migration transactions below.
    await client.query('SELECT pg_advisory_lock($1)', [migrationLockKey]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const found = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
      const from = found.rows[0]?.v ?? 0;
      if (from > latest) {
        const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
        throw new AppError(
          'ERR_LEDGER_SCHEMA',
          `the PostgreSQL ledger ${rows[0]?.db ?? ''} has schema version ${from}, written by a newer bulktext; this bulktext knows versions up to ${latest}: upgrade bulktext`,
        );
      }
      const applied: number[] = [];
      for (const m of list) {
        if (m.version <= from) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new AppError('ERR_LEDGER_SCHEMA', `cannot apply PostgreSQL ledger migration ${m.version} (${m.name}): ${(err as Error).message}`, {
            cause: err,
          });
        }
        applied.push(m.version);
      }
      return { from, to: Math.max(from, latest), applied };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [migrationLockKey]);
    }
  } catch (err) {
    broken = err;
    throw err;
  } finally {
    // A connection whose unlock failed may still hold the lock: destroy it rather than return it to the pool.
    client.release(broken !== undefined && !isAppError(broken) ? (broken as Error) : undefined);
  }
}
