/**
 * The scheduler's leader lease on PostgreSQL (ledger/leader-store.ts has the contract). Each call is one
 * statement, so one round trip and one transaction; expiry is compared with the database's clock_timestamp(),
 * never with the caller's `now`, so daemons on hosts whose clocks disagree still see one leader.
 */
import type pg from 'pg';
import type { LeaderStore, LeaseHolder } from '../leader-store.js';

const REMAINING = `(extract(epoch FROM (expires_at - clock_timestamp())) * 1000)::float8`;

// A takeover or renewal, then the holder either way. When the upsert changed nothing (someone else holds an
// unexpired lease) the holder is read from the statement's snapshot: it may predate a concurrent taker, and
// then names the previous holder (or none), never this caller.
const ACQUIRE = `
  WITH taken AS (
    INSERT INTO scheduler_leader AS l (id, daemon_id, acquired_at, expires_at)
      VALUES (1, $1, clock_timestamp(), clock_timestamp() + $2 * interval '1 millisecond')
    ON CONFLICT (id) DO UPDATE SET
      acquired_at = CASE WHEN l.daemon_id = excluded.daemon_id THEN l.acquired_at ELSE excluded.acquired_at END,
      daemon_id = excluded.daemon_id, expires_at = excluded.expires_at
    WHERE l.daemon_id = excluded.daemon_id OR l.expires_at <= clock_timestamp()
    RETURNING daemon_id, expires_at
  )
  SELECT daemon_id, ${REMAINING} AS remaining FROM taken
  UNION ALL
  SELECT daemon_id, ${REMAINING} FROM scheduler_leader WHERE id = 1 AND NOT EXISTS (SELECT 1 FROM taken)`;

const toHolder = (rows: { daemon_id: string; remaining: number }[]): LeaseHolder | undefined => {
  const row = rows[0];
  return row === undefined ? undefined : { daemonId: row.daemon_id, remainingMs: Math.round(row.remaining) };
};

export class PgLeaderStore implements LeaderStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async acquire(daemonId: string, ttlMs: number): Promise<LeaseHolder | undefined> {
    const { rows } = await this.#pool.query<{ daemon_id: string; remaining: number }>(ACQUIRE, [daemonId, ttlMs]);
    return toHolder(rows);
  }

  async takeOver(fromDaemonId: string, daemonId: string, ttlMs: number): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `UPDATE scheduler_leader SET daemon_id = $1, acquired_at = clock_timestamp(), expires_at = clock_timestamp() + $2 * interval '1 millisecond'
       WHERE id = 1 AND daemon_id = $3`,
      [daemonId, ttlMs, fromDaemonId],
    );
    return rowCount === 1;
  }

  async release(daemonId: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query(`DELETE FROM scheduler_leader WHERE id = 1 AND daemon_id = $1`, [daemonId]);
    return rowCount === 1;
  }

  async holder(): Promise<LeaseHolder | undefined> {
    const { rows } = await this.#pool.query<{ daemon_id: string; remaining: number }>(
      `SELECT daemon_id, ${REMAINING} AS remaining FROM scheduler_leader WHERE id = 1`,
    );
    return toHolder(rows);
  }
}
