/**
 * A run's message rows, from the dispatcher's side: the rows it sends next, the commits of its marks,
 * outcomes and attempts (the attempts log), and the moves a resume makes (in-flight rows to `unknown`,
 * reopening). Every move is one of states.ts's, compiled into the UPDATE's `WHERE status IN (…)`; a
 * move the table does not allow changes nothing and throws ERR_LEDGER_TRANSITION.
 *
 * Durability: every commit is fsynced (synchronous=FULL), except the dispatcher's batches when it defers
 * their fsync (durability.ts has the rule and the machinery). The cost is paid per transaction, not per
 * row, because the dispatcher commits all the marks and outcomes of one event-loop turn together (see
 * dispatch/ledger-writer.ts). Statements prepared once per ledger, like every store here.
 */
import type Database from 'better-sqlite3';
import { AppError } from '../shared/errors.js';
import { connectionOf, internalsOf, type Ledger, type LedgerInternals } from './ledger.js';
import { REMEMBER_LATEST } from './campaign-memory.js';
import { perLedger } from './per-ledger.js';
import { restoreRow } from './message-text.js';
import { rowStatuses, sourcesOf, sqlList, type RowStatus } from './states.js';
import { writingTo } from './storage-error.js';
import type { AttemptRecord, DeferrableBatch, Outcome, PendingMessage, WriteBatch } from './types.js';
import { onPg } from './backend.js';
import type { PgLedger } from './pg/pg-ledger.js';
import { pgMessageStoreOf, type PgMessageStore } from './pg/message-store.js';

export type StatusCounts = Record<RowStatus, number> & { total: number };

export interface MessageRecord {
  row: number;
  line: number;
  to: string;
  sender: string | null;
  fromNumber: string | null;
  text: string | null;
  status: RowStatus;
  messageId: string | null;
  parts: number;
  cost: string | null;
  currency: string | null;
  attempts: number;
  errorCode: string | null;
  errorDetail: string | null;
  sendingAt: number | null;
  sentAt: number | null;
  /** Delivery receipts (migration 2): the latest status Telnyx reported, its error code, when it became final. */
  deliveryStatus: string | null;
  deliveryErrorCode: string | null;
  deliveredAt: number | null;
}

/**
 * The seam a second backend implements; with a run's rid bound, it is the dispatcher's DispatchLedger
 * (dispatch/ports.ts). On PostgreSQL each method is a round trip and would return a Promise.
 */
export interface MessageStore {
  /** The next pending rows after `afterRow`, in row order. */
  nextPending(rid: number, afterRow: number, limit: number): PendingMessage[];
  /** Deferred rows whose window has opened by `now`, earliest first. */
  nextDue(rid: number, now: number, limit: number): PendingMessage[];
  /** When the earliest deferred row may go (undefined when none is deferred). */
  nextDeferral(rid: number): number | undefined;
  /**
   * Commits outcomes, attempts and `sending` marks in one transaction; throws ERR_LEDGER_TRANSITION on an
   * illegal move and ERR_LEDGER_IO on a storage failure. Durable on return, unless it calls the batch's
   * `deferDurability`.
   */
  commit(rid: number, batch: DeferrableBatch): void;
  /** The run's deadline passed: every row not yet sent is expired and will never be sent. Returns how many. */
  expireUnsent(rid: number, detail: string, now?: number): number;
  /** Rows left `sending` by a process that died become `unknown` (their request may have gone out). Returns how many. */
  markInFlightUnknown(rid: number, now?: number): number;
  /** `resume --resend-unknown`: unknown rows back to pending. Returns how many. */
  reopenUnknown(rid: number, now?: number): number;
  /** `resume --retry-failed [codes]`: failed rows that provably created no message back to pending. Returns how many. */
  reopenFailed(rid: number, codes: readonly string[] | undefined, now?: number): number;
  /** The row of a run's `n`th pending row, in row order; undefined when the run has fewer. */
  nthPendingRow(rid: number, n: number): number | undefined;
  /** Turns a freshly ingested run into a test run sent to `numbers`; returns the rows kept. */
  keepTestRows(rid: number, numbers: readonly string[], now?: number): number[];
  /** A run's rows by status. */
  counts(rid: number): StatusCounts;
  /** Every message row of a run in row order, streamed; with `statuses`, only rows in one of them. */
  messages(rid: number, statuses?: readonly RowStatus[]): IterableIterator<MessageRecord>;
  message(rid: number, row: number): MessageRecord | undefined;
  /** A row's HTTP attempts, oldest first. */
  attempts(rid: number, row: number): AttemptRecord[];
}

/** What `message()` and `messages()` read of a row, as MessageRecord names it. */
// Text and sender as stored: restoreRow puts a short row's back (message-text.ts), cheaper in JS than in SQL.
const MESSAGE_COLUMNS = `row, line, to_number AS "to", sender, from_number AS fromNumber, text, vars, status, message_id AS messageId, parts,
  cost, currency, attempts, error_code AS errorCode, error_detail AS errorDetail, sending_at AS sendingAt, sent_at AS sentAt,
  delivery_status AS deliveryStatus, delivery_error_code AS deliveryErrorCode, delivered_at AS deliveredAt`;

/** What the dispatcher needs of a row to send it (PendingMessage). */
const PENDING_COLUMNS = 'row, to_number AS "to", sender, text, vars, subject, parts, attempts, tz';


export class SqliteMessageStore implements MessageStore {
  readonly #db: Database.Database;
  readonly #path: string;
  readonly #internals: LedgerInternals;
  readonly #markSending: [RowStatus, Database.Statement][];
  readonly #addStatus: Database.Statement;
  readonly #addWire: Database.Statement;
  readonly #markSent: Database.Statement;
  readonly #markOther: Record<'failed' | 'unknown' | 'pending' | 'skipped', Database.Statement>;
  readonly #markDeferred: Database.Statement;
  readonly #markExpired: Database.Statement;
  readonly #insertAttempt: Database.Statement;
  readonly #nextPending: Database.Statement;
  readonly #nextDue: Database.Statement;
  readonly #nextDeferral: Database.Statement;
  readonly #expireUnsent: Database.Statement;
  readonly #rememberInFlight: Database.Statement;
  readonly #inFlightUnknown: Database.Statement;
  readonly #reopenUnknown: Database.Statement;
  readonly #reopenFailed: Database.Statement;
  readonly #nthPending: Database.Statement;
  readonly #firstPending: Database.Statement;
  readonly #retarget: Database.Statement;
  readonly #keepOnly: Database.Statement;
  readonly #setTotal: Database.Statement;
  readonly #countStatus: Database.Statement;
  readonly #allMessages: Database.Statement;
  readonly #messagesIn: Database.Statement;
  readonly #message: Database.Statement;
  readonly #attempts: Database.Statement;
  readonly #commitBatch: Database.Transaction<(rid: number, batch: WriteBatch) => void>;

  constructor(ledger: Ledger) {
    const db = connectionOf(ledger);
    this.#db = db;
    this.#path = ledger.path;
    this.#internals = internalsOf(ledger);
    // One statement per source state, so a send commit knows what each mark moved from and counts the
    // marks itself (migration 10: the totals trigger leaves moves that start an attempt to it).
    const sendingFrom = (from: RowStatus) =>
      db.prepare(
        `UPDATE messages SET status = 'sending', attempts = attempts + 1, sending_at = ?, updated_at = ?
         WHERE rid = ? AND row = ? AND status = '${from}' RETURNING coalesce(error_code, '')`,
      ).pluck();
    this.#markSending = sourcesOf('sending').map((from) => [from, sendingFrom(from)]);
    this.#addStatus = db.prepare(
      `INSERT INTO run_status_totals (rid, status, code, n) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n`,
    );
    this.#addWire = db.prepare(
      `INSERT INTO run_seconds (rid, second, wire, delivered) VALUES (?, ?, ?, 0) ON CONFLICT DO UPDATE SET wire = wire + excluded.wire`,
    );
    this.#markSent = db.prepare(
      `UPDATE messages SET status = 'sent', message_id = ?, from_number = coalesce(?, from_number), parts = coalesce(?, parts),
         cost = ?, currency = ?, sent_at = ?, updated_at = ?, error_code = NULL, error_detail = ?
       WHERE rid = ? AND row = ? AND status IN (${sqlList(sourcesOf('sent'))})`,
    );
    const other = (s: 'failed' | 'unknown' | 'pending' | 'skipped') =>
      db.prepare(
        `UPDATE messages SET status = '${s}', error_code = ?, error_detail = ?, updated_at = ?
         WHERE rid = ? AND row = ? AND status IN (${sqlList(sourcesOf(s))})`,
      );
    this.#markOther = { failed: other('failed'), unknown: other('unknown'), pending: other('pending'), skipped: other('skipped') };
    this.#markDeferred = db.prepare(
      `UPDATE messages SET status = 'deferred', not_before = ?, error_code = 'deferred', error_detail = ?, updated_at = ?
       WHERE rid = ? AND row = ? AND status IN (${sqlList(sourcesOf('deferred'))})`,
    );
    this.#markExpired = db.prepare(
      `UPDATE messages SET status = 'expired', error_code = 'expired', error_detail = ?, updated_at = ?
       WHERE rid = ? AND row = ? AND status IN (${sqlList(sourcesOf('expired'))})`,
    );
    this.#insertAttempt = db.prepare(
      `INSERT INTO attempts (rid, row, attempt, started_at, latency_ms, http_status, outcome, telnyx_code, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // INDEXED BY: left to itself SQLite picks the primary key here (it yields row order too) and walks every
    // row already sent before the first pending one: 170 ms at a million rows, on a resume's first send.
    this.#nextPending = db.prepare(
      `SELECT ${PENDING_COLUMNS} FROM messages INDEXED BY messages_status
       WHERE rid = ? AND status = 'pending' AND row > ? ORDER BY row LIMIT ?`,
    );
    this.#nextDue = db.prepare(
      `SELECT ${PENDING_COLUMNS} FROM messages
       WHERE rid = ? AND status = 'deferred' AND not_before <= ? ORDER BY not_before, row LIMIT ?`,
    );
    this.#nextDeferral = db.prepare(`SELECT min(not_before) AS t FROM messages WHERE rid = ? AND status = 'deferred'`);
    this.#expireUnsent = db.prepare(
      `UPDATE messages SET status = 'expired', error_code = 'expired', error_detail = ?, updated_at = ?
       WHERE rid = ? AND status IN (${sqlList(sourcesOf('expired'))})`,
    );
    // In-flight rows have no attempt in the log for campaign memory to find: they are remembered here.
    this.#rememberInFlight = db.prepare(
      `INSERT INTO campaign_memory (cid, number, at, rid)
       SELECT r.cid, m.to_number, coalesce(m.sending_at, m.updated_at), m.rid FROM messages m INDEXED BY messages_status JOIN runs r ON r.rid = m.rid
       WHERE m.rid = ? AND m.status = 'sending' AND r.test_to IS NULL
       ORDER BY 2
       ${REMEMBER_LATEST}`,
    );
    this.#inFlightUnknown = db.prepare(
      // INDEXED BY: without it SQLite walks the run's every row by primary key (140 ms at a million rows,
      // on the path to a resume's first send) instead of seeking the few `sending` ones.
      `UPDATE messages INDEXED BY messages_status SET status = 'unknown', error_code = 'in_doubt',
         error_detail = 'the run stopped while this request may have been in flight; Telnyx may have sent it', updated_at = ?
       WHERE rid = ? AND status = 'sending'`,
    );
    this.#reopenUnknown = db.prepare(
      `UPDATE messages INDEXED BY messages_status SET status = 'pending', error_detail = 'resent by --resend-unknown after: ' || coalesce(error_detail, ''), updated_at = ?
       WHERE rid = ? AND status = 'unknown'`,
    );
    // The codes as one JSON parameter (null: any code), so one statement serves every list.
    this.#reopenFailed = db.prepare(
      `UPDATE messages AS m SET status = 'pending', error_detail = 're-queued by --retry-failed after: ' || coalesce(m.error_detail, ''), updated_at = ?
       WHERE m.rid = ? AND m.status = 'failed' AND m.message_id IS NULL
         AND (? IS NULL OR m.error_code IN (SELECT value FROM json_each(?)))
         AND EXISTS (SELECT 1 FROM attempts a WHERE a.rid = m.rid AND a.row = m.row)
         AND NOT EXISTS (
           SELECT 1 FROM attempts a WHERE a.rid = m.rid AND a.row = m.row
             AND NOT (a.outcome IN ('rejected', 'throttled', 'fatal', 'unreachable')
                      OR (a.outcome = 'retryable' AND (a.http_status IS NULL OR a.http_status = 503))))`,
    );
    this.#nthPending = db
      .prepare(`SELECT row FROM messages INDEXED BY messages_status WHERE rid = ? AND status = 'pending' ORDER BY row LIMIT 1 OFFSET ?`)
      .pluck();
    this.#firstPending = db
      .prepare(`SELECT row FROM messages INDEXED BY messages_status WHERE rid = ? AND status = 'pending' ORDER BY row LIMIT ?`)
      .pluck();
    this.#retarget = db.prepare(`UPDATE messages SET to_number = ?, updated_at = ? WHERE rid = ? AND row = ?`);
    this.#keepOnly = db.prepare(`DELETE FROM messages WHERE rid = ? AND NOT (status = 'pending' AND row IN (SELECT value FROM json_each(?)))`);
    this.#setTotal = db.prepare(`UPDATE runs SET total = ? WHERE rid = ?`);
    this.#countStatus = db.prepare(`SELECT status, sum(n) AS n FROM run_status_totals WHERE rid = ? GROUP BY status`);
    this.#allMessages = db.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE rid = ? ORDER BY row`);
    // INDEXED BY: left to itself SQLite walks the run's every row by primary key (1.4 s at a million rows to
    // find a few failed ones); through the status index it reads only the rows asked for, then sorts them.
    this.#messagesIn = db.prepare(
      `SELECT ${MESSAGE_COLUMNS} FROM messages INDEXED BY messages_status WHERE rid = ? AND status IN (SELECT value FROM json_each(?)) ORDER BY row`,
    );
    this.#message = db.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE rid = ? AND row = ?`);
    this.#attempts = db.prepare(
      `SELECT row, attempt, started_at AS startedAt, latency_ms AS latencyMs, http_status AS httpStatus, outcome,
              telnyx_code AS telnyxCode, detail FROM attempts WHERE rid = ? AND row = ? ORDER BY id`,
    );
    this.#commitBatch = db.transaction((rid: number, batch: WriteBatch) => {
      let sent = 0;
      for (const o of batch.outcomes) {
        this.applyOutcome(rid, o);
        if (o.status === 'sent') sent++;
      }
      // The run's attempts per second (run_seconds) are counted here, the one place attempts are inserted.
      const wire = new Map<number, number>();
      for (const a of batch.attempts) {
        this.#insertAttempt.run(rid, a.row, a.attempt, a.startedAt, a.latencyMs, a.httpStatus, a.outcome, a.telnyxCode, a.detail);
        if (a.outcome === 'accepted') sent--;
        const second = Math.trunc(a.startedAt / 1000);
        wire.set(second, (wire.get(second) ?? 0) + 1);
      }
      for (const [second, n] of wire) this.#addWire.run(rid, second, n);
      // indexMessageIds finds sends through their accepted attempts: a send without one would never be found.
      if (sent !== 0) {
        throw new AppError('ERR_LEDGER_TRANSITION', `run ${rid}: every sent row must be committed with the accepted attempt that sent it`);
      }
      // Send marks are counted here, per commit (see migration 10): each moves its row's (status, code)
      // total to (sending, code). Pending comes first: rows are pending far more often than deferred.
      const moved = new Map<string, { from: RowStatus; code: string; n: number }>();
      for (const s of batch.sending) {
        let from: RowStatus | undefined;
        let code: string | undefined;
        for (const [source, mark] of this.#markSending) {
          code = mark.get(s.at, s.at, rid, s.row) as string | undefined;
          if (code !== undefined) {
            from = source;
            break;
          }
        }
        if (from === undefined || code === undefined) return expectMoved(0, rid, s.row, 'sending');
        const key = `${from}\u0000${code}`;
        const m = moved.get(key);
        if (m === undefined) moved.set(key, { from, code, n: 1 });
        else m.n++;
      }
      for (const m of moved.values()) {
        this.#addStatus.run(rid, m.from, m.code, -m.n);
        this.#addStatus.run(rid, 'sending', m.code, m.n);
      }
    });
  }

  /** Served by the (rid, status, row) index. */
  nextPending(rid: number, afterRow: number, limit: number): PendingMessage[] {
    return this.#restored(rid, this.#nextPending.all(rid, afterRow, limit) as PendingMessage[]);
  }

  nextDue(rid: number, now: number, limit: number): PendingMessage[] {
    return this.#restored(rid, this.#nextDue.all(rid, now, limit) as PendingMessage[]);
  }

  nextDeferral(rid: number): number | undefined {
    const r = this.#nextDeferral.get(rid) as { t: number | null };
    return r.t ?? undefined;
  }

  expireUnsent(rid: number, detail: string, now = Date.now()): number {
    return this.#expireUnsent.run(detail, now, rid).changes;
  }

  /** Outcomes go first, so a row answered and re-marked in the same batch (a retry) moves sending → pending → sending legally. */
  commit(rid: number, batch: DeferrableBatch): void {
    const defer = batch.deferDurability;
    const durability = this.#internals.durability;
    if (defer === undefined || !durability.wal) {
      writingTo(this.#path, () => this.#commitBatch(rid, batch));
      return;
    }
    // See the module comment: committed now, durable when the promise handed to `defer` resolves.
    writingTo(this.#path, () => durability.unsynced(() => this.#commitBatch(rid, batch)));
    defer(durability.durable());
  }

  /** Their request may have reached Telnyx, so they become `unknown`, never silently pending. */
  markInFlightUnknown(rid: number, now = Date.now()): number {
    this.#rememberInFlight.run(rid);
    return this.#inFlightUnknown.run(now, rid).changes;
  }

  /** The operator accepts that these recipients may get a second message. */
  reopenUnknown(rid: number, now = Date.now()): number {
    return this.#reopenUnknown.run(now, rid).changes;
  }

  /**
   * Failed rows go back to `pending` when their attempts log proves no message was created — at least
   * one attempt, every one of them refused (a 4xx, a 429, a 503) or never written (connect phase: no HTTP
   * status) — and no message id was recorded; with `codes`, only rows that failed with one of them. A
   * `retryable` attempt with another 5xx status was recorded by an earlier bulktext that retried those:
   * today they are in doubt, so such a row stays failed.
   */
  reopenFailed(rid: number, codes: readonly string[] | undefined, now = Date.now()): number {
    const byCode = codes === undefined || codes.length === 0 ? null : JSON.stringify(codes);
    return this.#reopenFailed.run(now, rid, byCode, byCode).changes;
  }

  /** `run --canary N` sends up to this row. */
  nthPendingRow(rid: number, n: number): number | undefined {
    return this.#nthPending.get(rid, n - 1) as number | undefined;
  }

  /**
   * The run's first pending rows (one per number, in row order) keep their rendered message but go to
   * `numbers` instead; every other row is deleted, so the run holds exactly the test messages.
   */
  keepTestRows(rid: number, numbers: readonly string[], now = Date.now()): number[] {
    return this.#db.transaction(() => {
      const rows = this.#firstPending.all(rid, numbers.length) as number[];
      rows.forEach((row, i) => this.#retarget.run(numbers[i], now, rid, row));
      this.#keepOnly.run(rid, JSON.stringify(rows));
      this.#setTotal.run(rows.length, rid);
      return rows;
    })();
  }

  /** Read from the totals the ledger's triggers keep (migration 10): a few rows, whatever the run's size. */
  counts(rid: number): StatusCounts {
    const counts = Object.fromEntries(rowStatuses.map((s) => [s, 0])) as Record<RowStatus, number>;
    let total = 0;
    for (const r of this.#countStatus.all(rid) as { status: RowStatus; n: number }[]) {
      counts[r.status] = r.n;
      total += r.n;
    }
    return { ...counts, total };
  }

  *messages(rid: number, statuses?: readonly RowStatus[]): IterableIterator<MessageRecord> {
    if (statuses === undefined) {
      yield* this.#restoring(rid, this.#allMessages.iterate(rid) as IterableIterator<MessageRecord>);
      return;
    }
    yield* this.#restoring(rid, this.#messagesIn.iterate(rid, JSON.stringify(statuses)) as IterableIterator<MessageRecord>);
  }

  message(rid: number, row: number): MessageRecord | undefined {
    const m = this.#message.get(rid, row) as MessageRecord | undefined;
    if (m !== undefined) restoreRow(m, this.#internals.textsOf(rid));
    return m;
  }

  attempts(rid: number, row: number): AttemptRecord[] {
    return this.#attempts.all(rid, row) as AttemptRecord[];
  }

  /** One row's move, as the state table allows it; the stores of this folder (campaign memory's skips) use it inside their transactions. */
  applyOutcome(rid: number, o: Outcome): void {
    if (o.status === 'deferred') {
      expectMoved(this.#markDeferred.run(o.until, o.errorDetail, o.at, rid, o.row).changes, rid, o.row, 'deferred');
    } else if (o.status === 'expired') {
      expectMoved(this.#markExpired.run(o.errorDetail, o.at, rid, o.row).changes, rid, o.row, 'expired');
    } else if (o.status === 'sent') {
      const changes = this.#markSent.run(o.messageId, o.fromNumber, o.parts, o.cost, o.currency, o.at, o.at, o.note ?? null, rid, o.row).changes;
      expectMoved(changes, rid, o.row, 'sent');
    } else {
      const changes = this.#markOther[o.status].run(o.errorCode, o.errorDetail, o.at, rid, o.row).changes;
      expectMoved(changes, rid, o.row, o.status);
    }
  }

  #restored<T extends PendingMessage | MessageRecord>(rid: number, rows: T[]): T[] {
    const texts = this.#internals.textsOf(rid);
    for (const r of rows) restoreRow(r, texts);
    return rows;
  }

  *#restoring(rid: number, rows: IterableIterator<MessageRecord>): IterableIterator<MessageRecord> {
    const texts = this.#internals.textsOf(rid);
    for (const m of rows) {
      restoreRow(m, texts);
      yield m;
    }
  }
}

function expectMoved(changes: number, rid: number, row: number, to: RowStatus): void {
  if (changes !== 1) {
    throw new AppError(
      'ERR_LEDGER_TRANSITION',
      `illegal ledger move: run ${rid} row ${row} cannot become ${to} (allowed only from ${sourcesOf(to).join(', ')})`,
    );
  }
}

/** The message store of an open ledger: one per ledger, so its statements are prepared once. */
export const sqliteMessageStoreOf: (ledger: Ledger) => SqliteMessageStore = perLedger((ledger) => new SqliteMessageStore(ledger));
/** The message store of either backend's handle: SQLite's answers now, PostgreSQL's with Promises. */
export function messageStoreOf(ledger: Ledger): MessageStore;
export function messageStoreOf(ledger: PgLedger): PgMessageStore;
export function messageStoreOf(ledger: Ledger | PgLedger): MessageStore | PgMessageStore;
export function messageStoreOf(ledger: Ledger | PgLedger): MessageStore | PgMessageStore {
  return onPg(ledger) ? pgMessageStoreOf(ledger) : sqliteMessageStoreOf(ledger);
}
