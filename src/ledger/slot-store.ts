/**
 * The scheduler's tables in the ledger (migration 4): which slots of which job have been claimed,
 * skipped or missed, how far each job's schedule has been checked, and which daemons exist.
 *
 * Exactly once per slot: `claim` inserts the slot's row inside an IMMEDIATE transaction before any
 * run starts, and the (job_name, slot) primary key makes every later claim of the same slot, by a
 * restarted daemon or a second one on the same ledger file, find it taken. Synchronous, like the
 * ledger: no transaction spans an await. A slot's state moves only as states.ts's slot table allows,
 * and migration 11's trigger refuses any other move.
 */
import type Database from 'better-sqlite3';
import { connectionOf, type Ledger } from './ledger.js';
import { perLedger } from './per-ledger.js';
import type { MaybePromise } from '../shared/maybe-promise.js';
import { slotSourcesOf, sqlList, type SlotState } from './states.js';

export type { SlotState };

/** A scheduler daemon's row: which process on which host, and when it last said it was alive. */
export interface DaemonRecord {
  daemonId: string;
  pid: number;
  host: string;
  heartbeatAt: number;
  stoppedAt: number | null;
}

export interface SlotRecord {
  jobName: string;
  /** slotKey: the slot instant as ISO-8601 UTC. */
  slot: string;
  state: SlotState;
  runId: string | null;
  reason: string | null;
  recordedAt: number;
  daemonId: string | null;
  finishedAt: number | null;
}

export type ClaimResult =
  /** This daemon owns the slot: start its run. */
  | { kind: 'claimed' }
  /** The slot is recorded as skipped (the job was busy): do not run it. */
  | { kind: 'skipped'; reason: string }
  /** Someone recorded the slot first: do nothing. */
  | { kind: 'taken'; existing: SlotRecord };

/** A schedule_slots row as both backends read it (times as numbers). */
export interface SlotRow {
  job_name: string;
  slot: string;
  state: SlotState;
  run_id: string | null;
  reason: string | null;
  recorded_at: number;
  daemon_id: string | null;
  finished_at: number | null;
}

export interface DaemonRow {
  daemon_id: string;
  pid: number;
  host: string;
  heartbeat_at: number;
  stopped_at: number | null;
}

export const toSlot = (r: SlotRow): SlotRecord => ({
  jobName: r.job_name,
  slot: r.slot,
  state: r.state,
  runId: r.run_id,
  reason: r.reason,
  recordedAt: r.recorded_at,
  daemonId: r.daemon_id,
  finishedAt: r.finished_at,
});

export const toDaemon = (r: DaemonRow): DaemonRecord => ({
  daemonId: r.daemon_id,
  pid: r.pid,
  host: r.host,
  heartbeatAt: r.heartbeat_at,
  stoppedAt: r.stopped_at,
});

/**
 * What the scheduler sees of its tables: the seam a second backend implements (issue 15). Each method may
 * answer now (SQLite) or with a Promise (PostgreSQL: a round trip), and the daemon awaits every answer;
 * none is on the send path. `claim` and `recordChecked` are each one transaction: `INSERT … ON CONFLICT DO
 * NOTHING` makes a claim unique on PostgreSQL as the primary key does here.
 */
export interface SlotStore {
  registerDaemon(d: { daemonId: string; pid: number; host: string }, now: number): MaybePromise<void>;
  /** Records that the daemon is alive; doubles as the health check's proof that the ledger takes writes. */
  heartbeat(daemonId: string, now: number): MaybePromise<void>;
  markDaemonStopped(daemonId: string, now: number): MaybePromise<void>;
  daemon(daemonId: string): MaybePromise<DaemonRecord | undefined>;
  lastChecked(job: string): MaybePromise<number | undefined>;
  recordChecked(job: string, checkedAt: number, missed: readonly { slot: string; reason: string }[], daemonId: string, now: number): MaybePromise<number>;
  /**
   * `busy` is asked inside the claim's transaction. A synchronous store needs a synchronous answer there,
   * and gets one: the daemon's `busy` reads only this store and the ledger, so it answers at once when they do.
   */
  claim(job: string, slot: string, daemonId: string, now: number, busy: () => MaybePromise<string | undefined>): MaybePromise<ClaimResult>;
  setRun(job: string, slot: string, runId: string): MaybePromise<void>;
  finish(job: string, slot: string, now: number, skippedReason?: string): MaybePromise<void>;
  reclaim(job: string, slot: string, fromDaemonId: string | null, daemonId: string, now: number, reason: string): MaybePromise<boolean>;
  markMissed(job: string, slot: string, fromDaemonId: string | null, daemonId: string, now: number, reason: string): MaybePromise<boolean>;
  openClaims(job: string): MaybePromise<{ slot: SlotRecord; daemon: DaemonRecord | undefined }[]>;
  slot(job: string, slot: string): MaybePromise<SlotRecord | undefined>;
  slots(job?: string): MaybePromise<SlotRecord[]>;
  slotCounts(): MaybePromise<{ job: string; state: SlotState; count: number }[]>;
  latestScheduledRunId(job: string): MaybePromise<string | undefined>;
  unsettledRunIds(job: string): MaybePromise<string[]>;
}


export class SqliteSlotStore implements SlotStore {
  readonly #getSlot: Database.Statement;
  readonly #insertSlot: Database.Statement;
  readonly #insertMissed: Database.Statement;
  readonly #getChecked: Database.Statement;
  readonly #upsertChecked: Database.Statement;
  readonly #openClaims: Database.Statement;
  readonly #getDaemon: Database.Statement;
  readonly #registerDaemon: Database.Statement;
  readonly #heartbeat: Database.Statement;
  readonly #markDaemonStopped: Database.Statement;
  readonly #setRun: Database.Statement;
  readonly #finish: Database.Statement;
  readonly #finishSkipped: Database.Statement;
  readonly #reclaim: Database.Statement;
  readonly #markMissed: Database.Statement;
  readonly #allSlots: Database.Statement;
  readonly #jobSlots: Database.Statement;
  readonly #slotCounts: Database.Statement;
  readonly #latestScheduled: Database.Statement;
  readonly #unsettled: Database.Statement;
  readonly #claimTx: Database.Transaction<(job: string, slot: string, daemonId: string, now: number, busy: () => string | undefined) => ClaimResult>;
  readonly #missedTx: Database.Transaction<
    (job: string, missed: readonly { slot: string; reason: string }[], daemonId: string, now: number, checkedAt: number) => number
  >;

  constructor(ledger: Ledger) {
    const db = connectionOf(ledger);
    this.#getSlot = db.prepare(`SELECT * FROM schedule_slots WHERE job_name = ? AND slot = ?`);
    this.#insertSlot = db.prepare(
      `INSERT INTO schedule_slots (job_name, slot, state, reason, recorded_at, daemon_id, finished_at)
       VALUES (@job, @slot, @state, @reason, @now, @daemonId, @finishedAt)`,
    );
    // A slot another daemon already recorded keeps its record.
    this.#insertMissed = db.prepare(
      `INSERT OR IGNORE INTO schedule_slots (job_name, slot, state, reason, recorded_at, daemon_id, finished_at)
       VALUES (?, ?, 'missed', ?, ?, ?, ?)`,
    );
    this.#getChecked = db.prepare(`SELECT last_checked_at AS t FROM scheduler_state WHERE job_name = ?`);
    // Never moves back: two daemons, or a clock stepped back, must not reopen checked time.
    this.#upsertChecked = db.prepare(
      `INSERT INTO scheduler_state (job_name, last_checked_at) VALUES (?, ?)
       ON CONFLICT (job_name) DO UPDATE SET last_checked_at = max(last_checked_at, excluded.last_checked_at)`,
    );
    this.#openClaims = db.prepare(
      `SELECT * FROM schedule_slots WHERE job_name = ? AND finished_at IS NULL AND state = 'started' ORDER BY slot`,
    );
    this.#getDaemon = db.prepare(`SELECT * FROM scheduler_daemons WHERE daemon_id = ?`);
    this.#registerDaemon = db.prepare(`INSERT INTO scheduler_daemons (daemon_id, pid, host, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)`);
    this.#heartbeat = db.prepare(`UPDATE scheduler_daemons SET heartbeat_at = ? WHERE daemon_id = ?`);
    this.#markDaemonStopped = db.prepare(`UPDATE scheduler_daemons SET stopped_at = ?, heartbeat_at = ? WHERE daemon_id = ?`);
    this.#setRun = db.prepare(`UPDATE schedule_slots SET run_id = ? WHERE job_name = ? AND slot = ?`);
    this.#finish = db.prepare(`UPDATE schedule_slots SET finished_at = ? WHERE job_name = ? AND slot = ?`);
    // A run that was created and then removed again (its ingest failed) leaves no run to point at.
    this.#finishSkipped = db.prepare(
      `UPDATE schedule_slots SET finished_at = ?, state = 'skipped', reason = ?, run_id = NULL
       WHERE job_name = ? AND slot = ? AND state IN (${sqlList(slotSourcesOf('skipped'))})
         AND (run_id IS NULL OR run_id NOT IN (SELECT run_id FROM runs))`,
    );
    this.#reclaim = db.prepare(
      `UPDATE schedule_slots SET daemon_id = ?, recorded_at = ?, reason = ?
       WHERE job_name = ? AND slot = ? AND state = 'started' AND finished_at IS NULL AND daemon_id IS ?`,
    );
    this.#markMissed = db.prepare(
      `UPDATE schedule_slots SET state = 'missed', reason = ?, daemon_id = ?, recorded_at = ?, finished_at = ?
       WHERE job_name = ? AND slot = ? AND state IN (${sqlList(slotSourcesOf('missed'))}) AND finished_at IS NULL AND daemon_id IS ?`,
    );
    this.#allSlots = db.prepare(`SELECT * FROM schedule_slots ORDER BY job_name, slot`);
    this.#jobSlots = db.prepare(`SELECT * FROM schedule_slots WHERE job_name = ? ORDER BY slot`);
    this.#slotCounts = db.prepare(`SELECT job_name AS job, state, count(*) AS count FROM schedule_slots GROUP BY job_name, state`);
    this.#latestScheduled = db.prepare(`SELECT run_id AS runId FROM runs WHERE job_name = ? AND trigger = 'schedule' ORDER BY rid DESC LIMIT 1`);
    this.#unsettled = db.prepare(`SELECT run_id AS runId FROM runs WHERE job_name = ? AND state IN ('ingesting', 'running') ORDER BY rid DESC`);

    this.#claimTx = db.transaction(
      (job: string, slot: string, daemonId: string, now: number, busy: () => string | undefined): ClaimResult => {
        const existing = this.#getSlot.get(job, slot) as SlotRow | undefined;
        if (existing !== undefined) return { kind: 'taken', existing: toSlot(existing) };
        const reason = busy();
        this.#insertSlot.run({
          job,
          slot,
          state: reason === undefined ? 'started' : 'skipped',
          reason: reason ?? null,
          now,
          daemonId,
          finishedAt: reason === undefined ? null : now,
        });
        return reason === undefined ? { kind: 'claimed' } : { kind: 'skipped', reason };
      },
    );
    this.#missedTx = db.transaction(
      (job: string, missed: readonly { slot: string; reason: string }[], daemonId: string, now: number, checkedAt: number) => {
        let recorded = 0;
        for (const m of missed) recorded += this.#insertMissed.run(job, m.slot, m.reason, now, daemonId, now).changes;
        this.#upsertChecked.run(job, checkedAt);
        return recorded;
      },
    );
  }

  registerDaemon(d: { daemonId: string; pid: number; host: string }, now: number): void {
    this.#registerDaemon.run(d.daemonId, d.pid, d.host, now, now);
  }

  heartbeat(daemonId: string, now: number): void {
    this.#heartbeat.run(now, daemonId);
  }

  markDaemonStopped(daemonId: string, now: number): void {
    this.#markDaemonStopped.run(now, now, daemonId);
  }

  daemon(daemonId: string): DaemonRecord | undefined {
    const row = this.#getDaemon.get(daemonId) as DaemonRow | undefined;
    return row === undefined ? undefined : toDaemon(row);
  }

  lastChecked(job: string): number | undefined {
    return (this.#getChecked.get(job) as { t: number } | undefined)?.t;
  }

  /**
   * Records the missed slots and moves the job's last-checked time to `checkedAt`, together: a crash
   * between the two would otherwise report the same missed slots twice, or never.
   * Returns how many missed slots were new.
   */
  recordChecked(
    job: string,
    checkedAt: number,
    missed: readonly { slot: string; reason: string }[],
    daemonId: string,
    now: number,
  ): number {
    return this.#missedTx(job, missed, daemonId, now, checkedAt);
  }

  /**
   * Claims a slot for this daemon. `busy` is asked, inside the transaction, why the job cannot run
   * now (undefined: it can); when it answers, the slot is recorded as skipped with that reason.
   * IMMEDIATE takes the write lock first, so two daemons' claims of one slot are serialised.
   */
  claim(job: string, slot: string, daemonId: string, now: number, busy: () => string | undefined): ClaimResult {
    return this.#claimTx.immediate(job, slot, daemonId, now, busy);
  }

  /** Links a claimed slot to the run it started (called as soon as the run exists). */
  setRun(job: string, slot: string, runId: string): void {
    this.#setRun.run(runId, job, slot);
  }

  /**
   * This daemon is done with a claimed slot. With `skippedReason` the slot never got a run (it could
   * not start, or the daemon stopped first) and is recorded as skipped; it is never claimed again.
   */
  finish(job: string, slot: string, now: number, skippedReason?: string): void {
    if (skippedReason === undefined) this.#finish.run(now, job, slot);
    else this.#finishSkipped.run(now, skippedReason, job, slot);
  }

  /**
   * Takes over a slot a dead daemon claimed and never started a run for. Conditional on the old claimer,
   * so of two daemons recovering the same slot only one gets it. Returns whether this one did.
   */
  reclaim(job: string, slot: string, fromDaemonId: string | null, daemonId: string, now: number, reason: string): boolean {
    return this.#reclaim.run(daemonId, now, reason, job, slot, fromDaemonId).changes === 1;
  }

  /** A claimed slot that will never run (its claimer died before the run began, too long ago): missed. */
  markMissed(job: string, slot: string, fromDaemonId: string | null, daemonId: string, now: number, reason: string): boolean {
    return this.#markMissed.run(reason, daemonId, now, now, job, slot, fromDaemonId).changes === 1;
  }

  /** Slots of the job claimed and not finished, with the daemon that claimed each. */
  openClaims(job: string): { slot: SlotRecord; daemon: DaemonRecord | undefined }[] {
    return (this.#openClaims.all(job) as SlotRow[]).map((r) => {
      const slot = toSlot(r);
      return { slot, daemon: slot.daemonId === null ? undefined : this.daemon(slot.daemonId) };
    });
  }

  slot(job: string, slot: string): SlotRecord | undefined {
    const row = this.#getSlot.get(job, slot) as SlotRow | undefined;
    return row === undefined ? undefined : toSlot(row);
  }

  /** Every recorded slot, oldest first (of one job, or of all). */
  slots(job?: string): SlotRecord[] {
    const rows = job === undefined ? this.#allSlots.all() : this.#jobSlots.all(job);
    return (rows as SlotRow[]).map(toSlot);
  }

  /** Slots recorded per job and state (for metrics). */
  slotCounts(): { job: string; state: SlotState; count: number }[] {
    return (this.#slotCounts.all() as { job: string; state: SlotState; count: number }[]).map((r) => ({ job: r.job, state: r.state, count: r.count }));
  }

  /** The newest run the scheduler started for the job, if any. */
  latestScheduledRunId(job: string): string | undefined {
    return (this.#latestScheduled.get(job) as { runId: string } | undefined)?.runId;
  }

  /** Runs of the job the ledger records as not settled (ingesting or running), newest first. */
  unsettledRunIds(job: string): string[] {
    return (this.#unsettled.all(job) as { runId: string }[]).map((r) => r.runId);
  }
}

/** The slot store of an open ledger: one per ledger, so its statements are prepared once. */
export const slotStoreOf: (ledger: Ledger) => SqliteSlotStore = perLedger((ledger) => new SqliteSlotStore(ledger));
