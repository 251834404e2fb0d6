/**
 * The CSV report's lines, built by SQLite. A 10M-row report spent three quarters of its time turning each
 * row into a JS object, then a record of cells, then an array of escaped strings; here each row crosses
 * into JS once, as its finished line. The rules are the report's (src/campaign/report.ts `csvField` and
 * `spreadsheetSafe`), written in SQL; a test holds the two to the same output.
 */
import type Database from 'better-sqlite3';
import { connectionOf, type Ledger } from './ledger.js';
import { senderOf } from './message-text.js';
import { perLedger } from './per-ledger.js';
import type { RowStatus } from './states.js';

export interface ReportLineOptions {
  /** Only rows in these statuses; every row when absent. */
  statuses?: readonly RowStatus[] | undefined;
  /** Guard cells a spreadsheet would run as formulas (a leading `'`); false: cells as stored. */
  guard: boolean;
  /**
   * Whether a phone cell that starts like a formula is data all the same (a list of E.164 numbers).
   * Asked only of values that are not one plain E.164 number, which SQL recognises itself.
   */
  phoneIsData: (value: string) => boolean;
}

/** What SQL calls `phoneIsData`. */
const PHONE_IS_DATA = 'bulktext_report_phone_is_data';

/** A cell a spreadsheet would run: =, +, -, @, tab or carriage return first (report.ts FORMULA_START). */
const formulaStart = (v: string) => `unicode(${v}) IN (61, 43, 45, 64, 9, 13)`;
/** Exactly one E.164 number: +, a digit 1–9, then 1–14 digits. */
const oneE164 = (v: string) => `(length(${v}) BETWEEN 3 AND 16 AND ${v} GLOB '+[1-9]*' AND substr(${v}, 2) NOT GLOB '*[^0-9]*')`;
/** Holds a character that makes a CSV cell need quotes: ", comma, LF or CR. */
const needsQuotes = (v: string) => `${v} GLOB '*[",\n\r]*'`;

type Guard = 'none' | 'text' | 'phone';

/** A text column formula-guarded as asked (report.ts spreadsheetSafe); NULL stays NULL. */
function guarded(v: string, guard: Guard): string {
  if (guard === 'text') return `CASE WHEN ${formulaStart(v)} THEN '''' || ${v} ELSE ${v} END`;
  if (guard === 'phone') return `CASE WHEN ${formulaStart(v)} AND NOT ${oneE164(v)} AND NOT ${PHONE_IS_DATA}(${v}) THEN '''' || ${v} ELSE ${v} END`;
  return v;
}

/** A text column as a CSV cell (report.ts csvField): '' for NULL, quoted only when `quote` and it needs it. */
function textCell(v: string, guard: Guard, quote: boolean): string {
  const g = guarded(v, guard);
  // The guard adds only a leading ', so whether to quote is decided on the stored value.
  if (quote) return `CASE WHEN ${v} IS NULL THEN '' WHEN ${needsQuotes(v)} THEN '"' || replace(${g}, '"', '""') || '"' ELSE ${g} END`;
  return `coalesce(${g}, '')`;
}

/** Epoch ms as Date.prototype.toISOString writes it (2026-12-07T19:12:34.054Z); '' for NULL. */
const isoCell = (ms: string) =>
  `CASE WHEN ${ms} IS NULL THEN '' ELSE strftime('%Y-%m-%dT%H:%M:%S', ${ms} / 1000, 'unixepoch') || printf('.%03dZ', ${ms} % 1000) END`;

const TO = 'to_number';
// A row not sent yet shows the sender it will use: '' in `sender` stands for the run's own (migration 12).
const FROM = `coalesce(from_number, ${senderOf('messages')})`;
/** The text columns after `to` and `from`; a row's cells are these, four integers and two times. */
const TEXT_COLUMNS = ['status', 'message_id', 'cost', 'currency', 'error_code', 'error_detail', 'delivery_status', 'delivery_error_code'] as const;

/** The report's columns in order (report.ts `reportColumns`). Integer columns need no escaping. */
function cells(guard: boolean, quote: boolean): string {
  const text = guard ? 'text' : 'none';
  const phone = guard ? 'phone' : 'none';
  const cell = (c: (typeof TEXT_COLUMNS)[number]) => textCell(c, text, quote);
  return [
    'row', 'line', textCell(TO, phone, quote), textCell(FROM, phone, quote), cell('status'), cell('message_id'), 'parts', cell('cost'),
    cell('currency'), 'attempts', cell('error_code'), cell('error_detail'), isoCell('sent_at'), cell('delivery_status'),
    cell('delivery_error_code'), isoCell('delivered_at'),
  ].join(` || ',' || `);
}

/**
 * A row's line. Most rows hold no character that needs quoting anywhere: one test over all their text
 * decides that, instead of one a cell (the per-cell tests were half of the report's time).
 */
function lineExpression(guard: boolean): string {
  const allText = [TO, FROM, ...TEXT_COLUMNS].map((c) => `coalesce(${c}, '')`).join(' || ');
  return `CASE WHEN ${needsQuotes(allText)} THEN ${cells(guard, true)} ELSE ${cells(guard, false)} END || char(10)`;
}

class ReportLines {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  #phoneIsData: (value: string) => boolean = () => false;

  constructor(ledger: Ledger) {
    this.#db = connectionOf(ledger);
    // Registered once: SQLite binds a function when a statement is prepared.
    this.#db.function(PHONE_IS_DATA, { deterministic: true }, (value: unknown) => (typeof value === 'string' && this.#phoneIsData(value) ? 1 : 0));
  }

  #statement(guard: boolean, filtered: boolean): Database.Statement {
    const key = `${guard}-${filtered}`;
    let stmt = this.#statements.get(key);
    if (stmt === undefined) {
      // INDEXED BY for a filter: see the message store's messages() (the status index reads only the rows asked for).
      const from = filtered
        ? 'FROM messages INDEXED BY messages_status WHERE rid = ? AND status IN (SELECT value FROM json_each(?)) ORDER BY row'
        : 'FROM messages WHERE rid = ? ORDER BY row';
      stmt = this.#db.prepare(`SELECT ${lineExpression(guard)} ${from}`).pluck();
      this.#statements.set(key, stmt);
    }
    return stmt;
  }

  *lines(rid: number, o: ReportLineOptions): IterableIterator<string> {
    this.#phoneIsData = o.phoneIsData;
    const stmt = this.#statement(o.guard, o.statuses !== undefined);
    const rows = o.statuses === undefined ? stmt.iterate(rid) : stmt.iterate(rid, JSON.stringify(o.statuses));
    yield* rows as IterableIterator<string>;
  }
}

const reportLinesFor = perLedger((ledger) => new ReportLines(ledger));

/** Every line of a run's CSV report (each ending in \n, no header), in row order, streamed. */
export function reportCsvLines(ledger: Ledger, rid: number, options: ReportLineOptions): IterableIterator<string> {
  return reportLinesFor(ledger).lines(rid, options);
}
