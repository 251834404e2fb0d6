/**
 * Workers on PostgreSQL: every process sending on the database (`run`, `resume`, `worker`, on any host) has
 * a row with a heartbeat and a lease. A worker whose heartbeat is older than its lease is dead; so is one on
 * this host whose process is gone (no need to wait out its lease). Whichever live worker notices settles a
 * dead one in one transaction: its rows in flight (`sending`) become `unknown` — in doubt, never resent
 * automatically — its claimed rows it never started go back to the pool, and its row is deleted.
 */
import { perLedger } from '../per-ledger.js';
import { lockRunTotals, rememberInFlight } from './message-store.js';
import type { PgLedger } from './pg-ledger.js';

export interface WorkerIdentity {
  id: string;
  host: string;
  pid: number;
}

/** How a worker on this host is probed: its process is gone (a SIGKILL leaves no chance to say so). */
export type LocalProbe = { host: string; alive(pid: number): boolean };

const IN_DOUBT = 'its worker died while this request may have been in flight; Telnyx may have sent it';

export class PgWorkerStore {
  readonly #pg: PgLedger;

  constructor(pg: PgLedger) {
    this.#pg = pg;
  }

  async register(w: WorkerIdentity, leaseMs: number, now = Date.now()): Promise<void> {
    await this.#pg.query(
      `INSERT INTO workers (id, host, pid, started_at, heartbeat_at, lease_ms) VALUES ($1, $2, $3, $4, $4, $5)
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, lease_ms = excluded.lease_ms`,
      [w.id, w.host, w.pid, now, leaseMs],
    );
  }

  /** False when the row is gone: another worker judged this one dead and settled its rows. */
  async heartbeat(id: string, now = Date.now()): Promise<boolean> {
    const { rowCount } = await this.#pg.query(`UPDATE workers SET heartbeat_at = $2 WHERE id = $1`, [id, now]);
    return rowCount === 1;
  }

  /** A worker leaving: its claimed rows it did not start go back to the pool, its row is deleted. */
  async leave(id: string): Promise<void> {
    await this.#pg.transaction(async (tx) => {
      await tx.query(`UPDATE messages SET claimed_by = NULL WHERE claimed_by = $1 AND status IN ('pending', 'deferred')`, [id]);
      await tx.query(`DELETE FROM workers WHERE id = $1`, [id]);
    });
  }

  /** The ids of the workers alive now (those of this host whose process is gone excluded). */
  async alive(local: LocalProbe, now = Date.now()): Promise<string[]> {
    const { rows } = await this.#pg.query<{ id: string; host: string; pid: number }>(`SELECT id, host, pid FROM workers WHERE heartbeat_at + lease_ms >= $1`, [now]);
    return rows.filter((w) => w.host !== local.host || local.alive(w.pid)).map((w) => w.id);
  }

  /**
   * Settles every dead worker (see the module comment), each in one transaction; SKIP LOCKED so two
   * workers noticing the same death settle it once. Returns the rows that became unknown and those released.
   */
  async reapDead(local: LocalProbe, now = Date.now()): Promise<{ workers: number; inDoubt: number; released: number }> {
    const found = await this.#pg.query<{ id: string; host: string; pid: number; stale: boolean }>(
      `SELECT id, host, pid, heartbeat_at + lease_ms < $1 AS stale FROM workers`,
      [now],
    );
    const dead = found.rows.filter((w) => w.stale || (w.host === local.host && !local.alive(w.pid))).map((w) => w.id);
    let inDoubt = 0;
    let released = 0;
    let workers = 0;
    for (const id of dead) {
      const settled = await this.#pg.transaction(async (tx) => {
        const locked = await tx.query(`SELECT 1 FROM workers WHERE id = $1 FOR UPDATE SKIP LOCKED`, [id]);
        if (locked.rows.length === 0) return undefined;
        // Its runs' totals in rid order, as a commit takes one run's (see lockRunTotals).
        const runs = await tx.query<{ rid: number }>(`SELECT DISTINCT rid FROM messages WHERE claimed_by = $1 AND status = 'sending' ORDER BY rid`, [id]);
        for (const r of runs.rows) await lockRunTotals(tx, r.rid);
        await rememberInFlight(tx, `m.claimed_by = $1 AND m.status = 'sending'`, [id]);
        const unknown = await tx.query(
          `UPDATE messages SET status = 'unknown', error_code = 'in_doubt', error_detail = $2, updated_at = $3, claimed_by = NULL
           WHERE claimed_by = $1 AND status = 'sending'`,
          [id, IN_DOUBT, now],
        );
        const back = await tx.query(`UPDATE messages SET claimed_by = NULL WHERE claimed_by = $1 AND status IN ('pending', 'deferred')`, [id]);
        await tx.query(`DELETE FROM workers WHERE id = $1`, [id]);
        return { inDoubt: unknown.rowCount ?? 0, released: back.rowCount ?? 0 };
      });
      if (settled === undefined) continue;
      inDoubt += settled.inDoubt;
      released += settled.released;
      workers++;
    }
    return { workers, inDoubt, released };
  }

  /**
   * Whether a live worker holds rows of the run, or its `owner` process is a live worker (it may be
   * ingesting, or between batches).
   */
  async busyOn(rid: number, owner: { host: string; pid: number } | null, local: LocalProbe, now = Date.now()): Promise<boolean> {
    const alive = await this.alive(local, now);
    if (alive.length === 0) return false;
    if (owner !== null) {
      const { rows } = await this.#pg.query(`SELECT 1 FROM workers WHERE host = $1 AND pid = $2 AND id = ANY($3::text[])`, [owner.host, owner.pid, alive]);
      if (rows.length > 0) return true;
    }
    const { rows } = await this.#pg.query(`SELECT 1 FROM messages WHERE rid = $1 AND claimed_by = ANY($2::text[]) LIMIT 1`, [rid, alive]);
    return rows.length > 0;
  }

  /** Rows of the run claimed (pending, deferred or sending) by a worker: someone is still on it. */
  async claimedRows(rid: number): Promise<number> {
    const { rows } = await this.#pg.query<{ n: number }>(`SELECT count(*)::bigint AS n FROM messages WHERE rid = $1 AND claimed_by IS NOT NULL`, [rid]);
    return rows[0]?.n ?? 0;
  }
}

export const pgWorkerStoreOf = perLedger((ledger: PgLedger) => new PgWorkerStore(ledger));
