/**
 * The CSV report's rows as SQLite can hand them over cheaply (src/campaign/report-csv.ts makes the lines).
 * A 10M-row report is mostly the cost of moving values into JS (a JS value per cell, or even an array per
 * row, cost more than the row's text) and of SQL's own formatting (strftime, the formula guard's tests).
 * So SQLite only joins a row's cells with commas, unescaped, into one string with the two times left as
 * integers for JS to format; the few rows whose cells need quoting or guarding are read again cell by
 * cell, a page's at once.
 */
import type Database from 'better-sqlite3';
import { connectionOf, type Ledger } from './ledger.js';
import { perLedger } from './per-ledger.js';
import type { RowStatus } from './states.js';

/**
 * One row as one string: the cells `row` … `error_detail` joined by commas, then `sent_at` (epoch ms, ''
 * for NULL), then `delivery_status` and `delivery_error_code` between commas, then `delivered_at`, the two
 * times each between two PIECE_SEPARATORs, as `1,2,+1…,+1…,sent,…,␟1796670215000␟,delivered,,␟1796670217000`.
 * Text cells are as stored (NULL as ''), so the string can only be used when no cell needs quoting or guarding.
 */
export type ReportLinePieces = string;

/** U+001F around the times; a cell holding one makes more than PIECE_SEPARATORS of them. */
export const PIECE_SEPARATOR = 0x1f;
export const PIECE_SEPARATORS = 3;
/** The commas a row's pieces hold when no cell holds one of its own. */
export const PIECE_COMMAS = 15;
/** The phone cells (`to`, `from`): the cells after this many commas. */
export const PHONE_CELLS: readonly number[] = [2, 3];

/** One row's report cells as stored, in report order (report.ts `reportColumns`); times in epoch ms. */
export type ReportCells = [
  row: number, line: number, to: string, from: string | null, status: string, messageId: string | null, parts: number, cost: string | null,
  currency: string | null, attempts: number, errorCode: string | null, errorDetail: string | null, sentAt: number | null,
  deliveryStatus: string | null, deliveryErrorCode: string | null, deliveredAt: number | null,
];

// A row not sent yet shows the sender it will use: '' in `sender` stands for the run's own (migration 12,
// message-text.ts senderOf), bound as @runSender instead of looked up per row.
const FROM = `coalesce(from_number, CASE sender WHEN '' THEN @runSender ELSE sender END)`;

// One value a row: an array of several cost SQLite and V8 more than the row's text.
const PIECES = `concat(row, ',', line, ',', to_number, ',', ${FROM}, ',', status, ',', message_id, ',', parts, ',', cost, ',', currency, ',',
  attempts, ',', error_code, ',', error_detail, ',', char(31), sent_at, char(31), ',', delivery_status, ',', delivery_error_code, ',',
  char(31), delivered_at)`;

const CELLS = `row, line, to_number, ${FROM}, status, message_id, parts, cost, currency, attempts, error_code, error_detail, sent_at,
  delivery_status, delivery_error_code, delivered_at`;

export interface ReportPageOptions {
  /** Only rows in these statuses; every row when absent. */
  statuses?: readonly RowStatus[] | undefined;
  /** How many row numbers one page spans (fewer rows when filtered or pruned). */
  pageRows: number;
}

class ReportLines {
  readonly #db: Database.Database;
  readonly #page: Database.Statement;
  readonly #filteredPage: Database.Statement;
  readonly #cells: Database.Statement;
  readonly #bounds: Database.Statement;
  readonly #runSender: Database.Statement;

  constructor(ledger: Ledger) {
    this.#db = connectionOf(ledger);
    // Pages are ranges of row numbers, never OFFSET: each is a seek on the primary key, and a connection
    // holds no cursor between pages (the dashboard streams a report across awaits).
    this.#page = this.#db.prepare(`SELECT ${PIECES} FROM messages WHERE rid = @rid AND row BETWEEN @first AND @last ORDER BY row`).pluck();
    // INDEXED BY: see the message store's messages() (the status index reads only the rows asked for); a page's range
    // keeps the sort of several statuses' rows to one page.
    this.#filteredPage = this.#db
      .prepare(
        `SELECT ${PIECES} FROM messages INDEXED BY messages_status
         WHERE rid = @rid AND status IN (SELECT value FROM json_each(@statuses)) AND row BETWEEN @first AND @last ORDER BY row`,
      )
      .pluck();
    this.#cells = this.#db.prepare(`SELECT ${CELLS} FROM messages WHERE rid = @rid AND row IN (SELECT value FROM json_each(@rows)) ORDER BY row`).raw(true);
    this.#bounds = this.#db.prepare(`SELECT min(row), max(row) FROM messages WHERE rid = ?`).raw(true);
    this.#runSender = this.#db.prepare(`SELECT coalesce((SELECT sender FROM run_texts WHERE rid = ?), '')`).pluck();
  }

  runSender(rid: number): string {
    return this.#runSender.get(rid) as string;
  }

  *pages(rid: number, o: ReportPageOptions): Generator<ReportLinePieces[]> {
    const [min, max] = this.#bounds.get(rid) as [number | null, number | null];
    if (min === null || max === null) return;
    const runSender = this.runSender(rid);
    const statuses = o.statuses === undefined ? undefined : JSON.stringify(o.statuses);
    const span = Math.max(1, Math.trunc(o.pageRows) || 1);
    for (let first = min; first <= max; first += span) {
      const range = { rid, runSender, first, last: first + span - 1 };
      const page = (statuses === undefined ? this.#page.all(range) : this.#filteredPage.all({ ...range, statuses })) as ReportLinePieces[];
      if (page.length > 0) yield page;
    }
  }

  cells(rid: number, rows: readonly number[], runSender: string): ReportCells[] {
    return this.#cells.all({ rid, rows: JSON.stringify(rows), runSender }) as ReportCells[];
  }
}

const reportLinesFor = perLedger((ledger) => new ReportLines(ledger));

/** A run's report rows in row order, a page at a time (an empty run yields nothing). */
export function reportLinePages(ledger: Ledger, rid: number, options: ReportPageOptions): Generator<ReportLinePieces[]> {
  return reportLinesFor(ledger).pages(rid, options);
}

/** What '' in a row's sender stands for in this run ('' when the run has no one sender). */
export function reportRunSender(ledger: Ledger, rid: number): string {
  return reportLinesFor(ledger).runSender(rid);
}

/** Some rows' cells as stored, in row order: the rows whose pieces cannot be used as they are. */
export function reportCells(ledger: Ledger, rid: number, rows: readonly number[], runSender: string): ReportCells[] {
  return reportLinesFor(ledger).cells(rid, rows, runSender);
}
