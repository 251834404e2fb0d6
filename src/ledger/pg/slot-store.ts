/**
 * The scheduler's tables on PostgreSQL: ledger/slot-store.ts's SlotStore, statement for statement. A slot is
 * claimed once because `INSERT … ON CONFLICT DO NOTHING` on (job_name, slot) lets one insert win, whoever
 * reads what first. Every method but `claim` is one statement (one round trip, one transaction); `claim`
 * asks the daemon's `busy` between its read and its insert, under a per-job transaction lock, so two claims
 * of one job's slots are serialised as SQLite's IMMEDIATE does.
 *
 * Daemon heartbeats are written with the database's clock and read back as an age, turned into this
 * process's clock: a daemon on another host is judged alive by a heartbeat whose age no host's skew bends.
 */
import type pg from 'pg';
import type { MaybePromise } from '../../shared/maybe-promise.js';
import { slotSourcesOf, sqlList } from '../states.js';
import { toDaemon, toSlot, type ClaimResult, type DaemonRecord, type DaemonRow, type SlotRecord, type SlotRow, type SlotState, type SlotStore } from '../slot-store.js';

/** The database's clock, epoch ms. */
const DB_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;
const SLOT = (t = '') =>
  `${t}job_name, ${t}slot, ${t}state, ${t}run_id, ${t}reason, ${t}recorded_at::float8 AS recorded_at, ${t}daemon_id, ${t}finished_at::float8 AS finished_at`;
const DAEMON = (t = '') =>
  `${t}daemon_id, ${t}pid, ${t}host, (${DB_MS} - ${t}heartbeat_at)::float8 AS heartbeat_age, ${t}stopped_at::float8 AS stopped_at`;

type AgedDaemonRow = Omit<DaemonRow, 'heartbeat_at'> & { heartbeat_age: number };
const toLocalDaemon = (r: AgedDaemonRow): DaemonRecord => toDaemon({ ...r, heartbeat_at: Date.now() - r.heartbeat_age });

const FINISH_SKIPPED = `
  UPDATE schedule_slots SET finished_at = $1, state = 'skipped', reason = $2, run_id = NULL
  WHERE job_name = $3 AND slot = $4 AND state IN (${sqlList(slotSourcesOf('skipped'))})
    AND (run_id IS NULL OR run_id NOT IN (SELECT run_id FROM runs))`;
const MARK_MISSED = `
  UPDATE schedule_slots SET state = 'missed', reason = $1, daemon_id = $2, recorded_at = $3, finished_at = $3
  WHERE job_name = $4 AND slot = $5 AND state IN (${sqlList(slotSourcesOf('missed'))}) AND finished_at IS NULL
    AND daemon_id IS NOT DISTINCT FROM $6`;
// The missed slots and the job's last-checked time in one statement: together or not at all.
const RECORD_CHECKED = `
  WITH missed AS (
    INSERT INTO schedule_slots (job_name, slot, state, reason, recorded_at, daemon_id, finished_at)
      SELECT $1, m.slot, 'missed', m.reason, $4, $3, $4 FROM unnest($5::text[], $6::text[]) AS m(slot, reason)
    ON CONFLICT (job_name, slot) DO NOTHING
    RETURNING 1
  ), checked AS (
    INSERT INTO scheduler_state (job_name, last_checked_at) VALUES ($1, $2)
    ON CONFLICT (job_name) DO UPDATE SET last_checked_at = greatest(scheduler_state.last_checked_at, excluded.last_checked_at)
  )
  SELECT count(*)::int AS n FROM missed`;

export class PgSlotStore implements SlotStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async #rows<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.#pool.query<R>(sql, params)).rows;
  }

  async registerDaemon(d: { daemonId: string; pid: number; host: string }): Promise<void> {
    await this.#pool.query(`INSERT INTO scheduler_daemons (daemon_id, pid, host, started_at, heartbeat_at) VALUES ($1, $2, $3, ${DB_MS}, ${DB_MS})`, [
      d.daemonId,
      d.pid,
      d.host,
    ]);
  }

  async heartbeat(daemonId: string): Promise<void> {
    await this.#pool.query(`UPDATE scheduler_daemons SET heartbeat_at = ${DB_MS} WHERE daemon_id = $1`, [daemonId]);
  }

  async markDaemonStopped(daemonId: string, now: number): Promise<void> {
    await this.#pool.query(`UPDATE scheduler_daemons SET stopped_at = $1, heartbeat_at = ${DB_MS} WHERE daemon_id = $2`, [now, daemonId]);
  }

  async daemon(daemonId: string): Promise<DaemonRecord | undefined> {
    const [row] = await this.#rows<AgedDaemonRow>(`SELECT ${DAEMON()} FROM scheduler_daemons WHERE daemon_id = $1`, [daemonId]);
    return row === undefined ? undefined : toLocalDaemon(row);
  }

  async lastChecked(job: string): Promise<number | undefined> {
    const [row] = await this.#rows<{ t: number }>(`SELECT last_checked_at::float8 AS t FROM scheduler_state WHERE job_name = $1`, [job]);
    return row?.t;
  }

  async recordChecked(job: string, checkedAt: number, missed: readonly { slot: string; reason: string }[], daemonId: string, now: number): Promise<number> {
    const [row] = await this.#rows<{ n: number }>(RECORD_CHECKED, [job, checkedAt, daemonId, now, missed.map((m) => m.slot), missed.map((m) => m.reason)]);
    return row?.n ?? 0;
  }

  async claim(job: string, slot: string, daemonId: string, now: number, busy: () => MaybePromise<string | undefined>): Promise<ClaimResult> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        // Held to COMMIT: another claim of this job waits here, then sees this one's row.
        await client.query(`SELECT pg_advisory_xact_lock(hashtext('bulktext slot claim ' || $1))`, [job]);
        const found = await client.query<SlotRow>(`SELECT ${SLOT()} FROM schedule_slots WHERE job_name = $1 AND slot = $2`, [job, slot]);
        const existing = found.rows[0];
        if (existing !== undefined) {
          await client.query('COMMIT');
          return { kind: 'taken', existing: toSlot(existing) };
        }
        const reason = await busy();
        const inserted = await client.query<SlotRow>(
          `INSERT INTO schedule_slots (job_name, slot, state, reason, recorded_at, daemon_id, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (job_name, slot) DO NOTHING RETURNING ${SLOT()}`,
          [job, slot, reason === undefined ? 'started' : 'skipped', reason ?? null, now, daemonId, reason === undefined ? null : now],
        );
        await client.query('COMMIT');
        if (inserted.rows.length === 1) return reason === undefined ? { kind: 'claimed' } : { kind: 'skipped', reason };
        // Only a writer outside the lock (none in bulktext) could get here; the unique key still decides.
        const winner = await this.slot(job, slot);
        if (winner === undefined) throw new Error(`slot ${slot} of job ${job} was claimed and then removed`);
        return { kind: 'taken', existing: winner };
      } catch (err) {
        await client.query('ROLLBACK').catch((rollback: unknown) => {
          broken = rollback as Error;
        });
        throw err;
      }
    } finally {
      client.release(broken);
    }
  }

  async setRun(job: string, slot: string, runId: string): Promise<void> {
    await this.#pool.query(`UPDATE schedule_slots SET run_id = $1 WHERE job_name = $2 AND slot = $3`, [runId, job, slot]);
  }

  async finish(job: string, slot: string, now: number, skippedReason?: string): Promise<void> {
    if (skippedReason === undefined) await this.#pool.query(`UPDATE schedule_slots SET finished_at = $1 WHERE job_name = $2 AND slot = $3`, [now, job, slot]);
    else await this.#pool.query(FINISH_SKIPPED, [now, skippedReason, job, slot]);
  }

  async reclaim(job: string, slot: string, fromDaemonId: string | null, daemonId: string, now: number, reason: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `UPDATE schedule_slots SET daemon_id = $1, recorded_at = $2, reason = $3
       WHERE job_name = $4 AND slot = $5 AND state = 'started' AND finished_at IS NULL AND daemon_id IS NOT DISTINCT FROM $6`,
      [daemonId, now, reason, job, slot, fromDaemonId],
    );
    return rowCount === 1;
  }

  async markMissed(job: string, slot: string, fromDaemonId: string | null, daemonId: string, now: number, reason: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query(MARK_MISSED, [reason, daemonId, now, job, slot, fromDaemonId]);
    return rowCount === 1;
  }

  async openClaims(job: string): Promise<{ slot: SlotRecord; daemon: DaemonRecord | undefined }[]> {
    const rows = await this.#rows<SlotRow & { d_id: string | null } & Partial<AgedDaemonRow>>(
      `SELECT ${SLOT('s.')}, d.daemon_id AS d_id, d.pid, d.host, (${DB_MS} - d.heartbeat_at)::float8 AS heartbeat_age, d.stopped_at::float8 AS stopped_at
       FROM schedule_slots s LEFT JOIN scheduler_daemons d ON d.daemon_id = s.daemon_id
       WHERE s.job_name = $1 AND s.finished_at IS NULL AND s.state = 'started' ORDER BY s.slot`,
      [job],
    );
    return rows.map((r) => ({
      slot: toSlot(r),
      daemon:
        r.d_id === null
          ? undefined
          : toLocalDaemon({ daemon_id: r.d_id, pid: r.pid!, host: r.host!, heartbeat_age: r.heartbeat_age!, stopped_at: r.stopped_at ?? null }),
    }));
  }

  async slot(job: string, slot: string): Promise<SlotRecord | undefined> {
    const [row] = await this.#rows<SlotRow>(`SELECT ${SLOT()} FROM schedule_slots WHERE job_name = $1 AND slot = $2`, [job, slot]);
    return row === undefined ? undefined : toSlot(row);
  }

  async slots(job?: string): Promise<SlotRecord[]> {
    const rows =
      job === undefined
        ? await this.#rows<SlotRow>(`SELECT ${SLOT()} FROM schedule_slots ORDER BY job_name, slot`)
        : await this.#rows<SlotRow>(`SELECT ${SLOT()} FROM schedule_slots WHERE job_name = $1 ORDER BY slot`, [job]);
    return rows.map(toSlot);
  }

  async slotCounts(): Promise<{ job: string; state: SlotState; count: number }[]> {
    return this.#rows(`SELECT job_name AS job, state, count(*)::int AS count FROM schedule_slots GROUP BY job_name, state ORDER BY job_name, state`);
  }

  async latestScheduledRunId(job: string): Promise<string | undefined> {
    const [row] = await this.#rows<{ run_id: string }>(`SELECT run_id FROM runs WHERE job_name = $1 AND trigger = 'schedule' ORDER BY rid DESC LIMIT 1`, [job]);
    return row?.run_id;
  }

  async unsettledRunIds(job: string): Promise<string[]> {
    const rows = await this.#rows<{ run_id: string }>(`SELECT run_id FROM runs WHERE job_name = $1 AND state IN ('ingesting', 'running') ORDER BY rid DESC`, [job]);
    return rows.map((r) => r.run_id);
  }
}
