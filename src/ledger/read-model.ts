/**
 * Read-only questions an operator asks of the ledger beyond a run's counts: why rows failed or were
 * skipped, which rows are in doubt, how fast each sender went, what the scheduler did. Used by `status`
 * and the dashboard. Every query here reads the per-run totals of migration 10 or is bounded by an index
 * range (the first rows in doubt, a range of attempt ids).
 */
import type Database from 'better-sqlite3';
import { connectionOf, type Ledger } from './ledger.js';
import type { RowStatus } from './states.js';
import { perLedger } from './per-ledger.js';
import { senderOf } from './message-text.js';

/** Rows that failed at send time (`failed`, or `unknown` when in doubt), or after it (a failed receipt). */
export interface FailureGroup {
  stage: 'send' | 'delivery';
  /** The row status (send) or the final delivery status (delivery). */
  status: string;
  code: string | null;
  count: number;
}

export interface ReasonCount {
  reason: string | null;
  count: number;
}

export interface UnknownRowView {
  row: number;
  line: number;
  to: string;
  errorDetail: string | null;
  sendingAt: number | null;
}

/** One HTTP attempt as the dashboard charts it. */
export interface AttemptTick {
  id: number;
  startedAt: number;
  sender: string | null;
}

export interface SlotView {
  jobName: string;
  slot: string;
  state: string;
  runId: string | null;
  reason: string | null;
  recordedAt: number;
}

export interface JobSpecView {
  jobName: string;
  jobSpec: string;
}

export class ReadModel {
  readonly #db: Database.Database;
  #sendFailures;
  #deliveryFailures;
  #skipped;
  #unknown;
  #seconds;
  #lastSecond;
  #lastAttempt;
  #attemptsWithSender;

  constructor(ledger: Ledger) {
    const db = connectionOf(ledger);
    this.#db = db;
    // Rows by status and code, and accepted rows by delivery status and code, from the totals the ledger's
    // triggers keep (migration 10): a few rows per run, however many rows failed or were skipped.
    this.#sendFailures = db.prepare(
      `SELECT status, nullif(code, '') AS code, n AS count FROM run_status_totals
       WHERE rid = ? AND status IN ('failed', 'unknown') AND n > 0 ORDER BY count DESC, code`,
    );
    this.#deliveryFailures = db.prepare(
      `SELECT delivery_status AS status, nullif(code, '') AS code, sum(n) AS count FROM run_sent_totals
       WHERE rid = ? AND delivery_status IN ('delivery_failed', 'delivery_unconfirmed', 'sending_failed', 'expired')
       GROUP BY delivery_status, code HAVING sum(n) > 0 ORDER BY count DESC, code`,
    );
    this.#skipped = db.prepare(
      `SELECT nullif(code, '') AS reason, n AS count FROM run_status_totals WHERE rid = ? AND status = ? AND n > 0 ORDER BY count DESC, reason`,
    );
    this.#unknown = db.prepare(
      `SELECT row, line, to_number AS "to", error_detail AS errorDetail, sending_at AS sendingAt FROM messages INDEXED BY messages_status
       WHERE rid = ? AND status = 'unknown' ORDER BY row LIMIT ?`,
    );
    this.#seconds = db.prepare(
      `SELECT second, wire, delivered FROM run_seconds WHERE rid = ? AND second >= ? AND (wire > 0 OR delivered > 0) ORDER BY second`,
    );
    this.#lastSecond = db.prepare(`SELECT max(second) FROM run_seconds WHERE rid = ? AND (wire > 0 OR delivered > 0)`).pluck();
    this.#lastAttempt = db.prepare(`SELECT coalesce(max(id), 0) FROM attempts`).pluck();
    this.#attemptsWithSender = db.prepare(
      `SELECT a.id, a.started_at AS startedAt, ${senderOf('m')} AS sender FROM attempts a JOIN messages m ON m.rid = a.rid AND m.row = a.row
       WHERE a.id > ? AND a.rid = ? ORDER BY a.id LIMIT ?`,
    );
  }

  /** Failures of a run by code, most frequent first: at send time and in delivery receipts. */
  failures(rid: number): FailureGroup[] {
    const send = (this.#sendFailures.all(rid) as Omit<FailureGroup, 'stage'>[]).map((g) => ({ stage: 'send' as const, ...g }));
    const delivery = (this.#deliveryFailures.all(rid) as Omit<FailureGroup, 'stage'>[]).map((g) => ({ stage: 'delivery' as const, ...g }));
    return [...send, ...delivery].sort((a, b) => b.count - a.count);
  }

  /** Rows of one status by their reason code (`skipped` by skip reason, `expired`, `deferred`). */
  byReason(rid: number, status: Extract<RowStatus, 'skipped' | 'expired' | 'deferred'>): ReasonCount[] {
    return this.#skipped.all(rid, status) as ReasonCount[];
  }

  /** The first `limit` rows whose request is in doubt. */
  unknownRows(rid: number, limit: number): UnknownRowView[] {
    return this.#unknown.all(rid, limit) as UnknownRowView[];
  }

  /**
   * The run's HTTP attempts (`wire`, by when they started) and final receipts (`delivered`, by delivered_at)
   * per second from `fromSecond` on (epoch seconds), seconds with neither left out.
   */
  perSecond(rid: number, fromSecond: number): { second: number; wire: number; delivered: number }[] {
    return this.#seconds.all(rid, fromSecond) as { second: number; wire: number; delivered: number }[];
  }

  /** The latest second with an attempt or a receipt of the run; undefined when it has none. */
  lastSecond(rid: number): number | undefined {
    return (this.#lastSecond.get(rid) as number | null) ?? undefined;
  }

  /** The id of the latest attempt of any run (0 when none): later attempts are new. */
  lastAttemptId(): number {
    return this.#lastAttempt.get() as number;
  }

  /** The run's attempts after attempt id `afterId`, in id order, at most `limit`, each with the sender its row is pinned to. */
  attemptsSince(rid: number, afterId: number, limit: number): AttemptTick[] {
    return this.#attemptsWithSender.all(afterId, rid, limit) as AttemptTick[];
  }

  /**
   * A number that changes whenever another connection commits to the ledger (SQLite's data_version):
   * while it stays the same, nothing read from the ledger can have changed.
   */
  dataVersion(): number {
    return this.#db.pragma('data_version', { simple: true }) as number;
  }

  /** Slot history, newest first (`limit` rows). */
  slots(limit: number): SlotView[] {
    return this.#db
      .prepare(
        `SELECT job_name AS jobName, slot, state, run_id AS runId, reason, recorded_at AS recordedAt
         FROM schedule_slots ORDER BY slot DESC, job_name LIMIT ?`,
      )
      .all(limit) as SlotView[];
  }

  /** Each scheduled job's latest stored spec (the newest run the scheduler started, or the job's state row). */
  scheduledJobs(): JobSpecView[] {
    return this.#db
      .prepare(
        `SELECT r.job_name AS jobName, r.job_spec AS jobSpec FROM runs r
         JOIN (SELECT job_name, max(rid) AS rid FROM runs WHERE trigger = 'schedule' GROUP BY job_name) last ON last.rid = r.rid
         ORDER BY r.job_name`,
      )
      .all() as JobSpecView[];
  }
}

/** One read model per open ledger, so its statements are prepared once. */
export const readModelFor = perLedger((ledger) => new ReadModel(ledger));
