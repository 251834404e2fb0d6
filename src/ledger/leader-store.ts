/**
 * Which `schedule` daemon leads on a ledger: a lease, one row with the leader's daemon id and its expiry.
 * Only the leader fires slots; the others stand by and take the lease when it has expired (its holder died,
 * paused, or lost the ledger) or was released (it stopped cleanly). Expiry is judged by the store's clock:
 * this host's on SQLite (one host shares a file), the database's on PostgreSQL, so hosts' skew cannot make
 * two leaders.
 */
import type Database from 'better-sqlite3';
import { connectionOf, type Ledger } from './ledger.js';
import { perLedger } from './per-ledger.js';
import type { MaybePromise } from '../shared/maybe-promise.js';

/** The lease as the store sees it now. */
export interface LeaseHolder {
  daemonId: string;
  /** How long the lease still runs, by the store's clock (≤ 0: expired, free to take). */
  remainingMs: number;
}

/**
 * The lease's store: the seam SQLite and PostgreSQL implement alike (test/contract/leader-store.contract.ts).
 * Each method is one transaction.
 */
export interface LeaderStore {
  /**
   * Takes the lease for `ttlMs` when nobody holds it or it has expired, or renews it when `daemonId` holds it.
   * Answers the holder after the attempt (undefined when a concurrent taker's row was not visible yet):
   * `daemonId` leads iff it is the holder.
   */
  acquire(daemonId: string, ttlMs: number, now: number): MaybePromise<LeaseHolder | undefined>;
  /**
   * Takes the lease from `fromDaemonId`, expired or not: for a holder known to be dead (its process is gone
   * from this host, or it recorded its stop), so its standby need not wait out the lease. Conditional on the
   * holder, so of two standbys only one gets it. Returns whether `daemonId` now holds it.
   */
  takeOver(fromDaemonId: string, daemonId: string, ttlMs: number, now: number): MaybePromise<boolean>;
  /** Gives the lease up if `daemonId` holds it, so a standby takes over at once. Returns whether it did. */
  release(daemonId: string): MaybePromise<boolean>;
  /** The current holder, expired or not; undefined when nobody has held it or it was released. */
  holder(now: number): MaybePromise<LeaseHolder | undefined>;
}

export class SqliteLeaderStore implements LeaderStore {
  readonly #take: Database.Statement;
  readonly #get: Database.Statement;
  readonly #release: Database.Statement;
  readonly #takeOver: Database.Statement;
  readonly #acquireTx: Database.Transaction<(daemonId: string, ttlMs: number, now: number) => LeaseHolder | undefined>;

  constructor(ledger: Ledger) {
    const db = connectionOf(ledger);
    // Renewal keeps acquired_at; a takeover sets it. The WHERE is the whole rule: mine, or expired.
    this.#take = db.prepare(
      `INSERT INTO scheduler_leader (id, daemon_id, acquired_at, expires_at) VALUES (1, @daemonId, @now, @expires)
       ON CONFLICT (id) DO UPDATE SET
         acquired_at = CASE WHEN daemon_id = excluded.daemon_id THEN acquired_at ELSE excluded.acquired_at END,
         daemon_id = excluded.daemon_id, expires_at = excluded.expires_at
       WHERE daemon_id = excluded.daemon_id OR expires_at <= excluded.acquired_at`,
    );
    this.#get = db.prepare(`SELECT daemon_id AS daemonId, expires_at - ? AS remainingMs FROM scheduler_leader WHERE id = 1`);
    this.#release = db.prepare(`DELETE FROM scheduler_leader WHERE id = 1 AND daemon_id = ?`);
    this.#takeOver = db.prepare(
      `UPDATE scheduler_leader SET daemon_id = @daemonId, acquired_at = @now, expires_at = @expires WHERE id = 1 AND daemon_id = @from`,
    );
    this.#acquireTx = db.transaction((daemonId: string, ttlMs: number, now: number) => {
      this.#take.run({ daemonId, now, expires: now + ttlMs });
      return this.#get.get(now) as LeaseHolder | undefined;
    });
  }

  acquire(daemonId: string, ttlMs: number, now: number): LeaseHolder | undefined {
    // IMMEDIATE: two daemons' attempts are serialised by the write lock.
    return this.#acquireTx.immediate(daemonId, ttlMs, now);
  }

  takeOver(fromDaemonId: string, daemonId: string, ttlMs: number, now: number): boolean {
    return this.#takeOver.run({ from: fromDaemonId, daemonId, now, expires: now + ttlMs }).changes === 1;
  }

  release(daemonId: string): boolean {
    return this.#release.run(daemonId).changes === 1;
  }

  holder(now: number): LeaseHolder | undefined {
    return this.#get.get(now) as LeaseHolder | undefined;
  }
}

/** The leader store of an open SQLite ledger: one per ledger, so its statements are prepared once. */
export const leaderStoreOf: (ledger: Ledger) => SqliteLeaderStore = perLedger((ledger) => new SqliteLeaderStore(ledger));
