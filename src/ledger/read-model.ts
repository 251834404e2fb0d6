/**
 * Read-only questions an operator asks of the ledger beyond a run's counts: why rows failed or were
 * skipped, which rows are in doubt, how fast each sender went, what the scheduler did. Used by `status`
 * and the dashboard. Every query here is bounded by an index range (a run's rows of one status, a
 * range of attempt ids, a run's delivered rows by time). Only the dashboard's first look at a run reads
 * all of its attempts and deliveries (per second); after that it reads what is new since.
 */
import type Database from 'better-sqlite3';
import type { Ledger } from './ledger.js';
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
  #wirePerSecond;
  #attemptsWithSender;
  #deliveredSince;

  constructor(ledger: Ledger) {
    const db = ledger.db;
    this.#db = db;
    // The (rid, status, row) index bounds each of these to the rows of one status.
    this.#sendFailures = db.prepare(
      `SELECT status, error_code AS code, count(*) AS count FROM messages INDEXED BY messages_status
       WHERE rid = ? AND status IN ('failed', 'unknown') GROUP BY status, error_code ORDER BY count DESC, code`,
    );
    this.#deliveryFailures = db.prepare(
      `SELECT delivery_status AS status, delivery_error_code AS code, count(*) AS count FROM messages INDEXED BY messages_delivery_failed
       WHERE rid = ? AND delivery_status IN ('delivery_failed', 'delivery_unconfirmed', 'sending_failed', 'expired')
       GROUP BY delivery_status, delivery_error_code ORDER BY count DESC, code`,
    );
    this.#skipped = db.prepare(
      `SELECT error_code AS reason, count(*) AS count FROM messages INDEXED BY messages_status
       WHERE rid = ? AND status = ? GROUP BY error_code ORDER BY count DESC, reason`,
    );
    this.#unknown = db.prepare(
      `SELECT row, line, to_number AS "to", error_detail AS errorDetail, sending_at AS sendingAt FROM messages INDEXED BY messages_status
       WHERE rid = ? AND status = 'unknown' ORDER BY row LIMIT ?`,
    );
    this.#wirePerSecond = db.prepare(
      `SELECT started_at / 1000 AS second, count(*) AS count, max(id) AS last FROM attempts
       WHERE id > ? AND rid = ? GROUP BY 1 ORDER BY 1`,
    );
    this.#attemptsWithSender = db.prepare(
      `SELECT a.id, a.started_at AS startedAt, ${senderOf('m')} AS sender FROM attempts a JOIN messages m ON m.rid = a.rid AND m.row = a.row
       WHERE a.id > ? AND a.rid = ? ORDER BY a.id LIMIT ?`,
    );
    this.#deliveredSince = db.prepare(
      `SELECT delivered_at / 1000 AS second, count(*) AS count FROM messages INDEXED BY messages_delivered
       WHERE rid = ? AND delivered_at >= ? GROUP BY 1 ORDER BY 1`,
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
   * The run's HTTP attempts after attempt id `afterId` (a range of the primary key) per second of their
   * start, with the last attempt id in each second.
   */
  attemptsPerSecond(rid: number, afterId: number): { second: number; count: number; last: number }[] {
    return this.#wirePerSecond.all(afterId, rid) as { second: number; count: number; last: number }[];
  }

  /** The run's attempts after attempt id `afterId`, in id order, at most `limit`, each with the sender its row is pinned to. */
  attemptsSince(rid: number, afterId: number, limit: number): AttemptTick[] {
    return this.#attemptsWithSender.all(afterId, rid, limit) as AttemptTick[];
  }

  /** Rows of the run whose final status came at or after `since` (ms), counted per second. */
  deliveriesPerSecond(rid: number, since: number): { second: number; count: number }[] {
    return this.#deliveredSince.all(rid, since) as { second: number; count: number }[];
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
