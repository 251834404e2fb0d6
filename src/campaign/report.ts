/**
 * `report`: one line per input row, as CSV or JSON, streamed in chunks so a million-row report never sits
 * in memory. The CLI writes it to stdout or a file, the dashboard to an HTTP response; both filter by
 * row status the same way.
 */
import type { Ledger } from '../ledger/ledger.js';
import { messageStoreOf, type MessageRecord } from '../ledger/message-store.js';
import { rowStatuses, type RowStatus } from '../ledger/states.js';
import { AppError } from '../shared/errors.js';
import { csvPages } from './report-csv.js';

export type ReportFormat = 'csv' | 'json';

/** `row` is the row's number among the source's records (what `plan` and `report` count); `line` the line it starts on. */
export const reportColumns = [
  'row', 'line', 'to', 'from', 'status', 'message_id', 'parts', 'cost', 'currency', 'attempts', 'error_code', 'error_detail', 'sent_at',
  'delivery_status', 'delivery_error_code', 'delivered_at',
] as const;

export type ReportRow = Record<(typeof reportColumns)[number], string | number | null>;

export function reportRow(m: MessageRecord): ReportRow {
  return {
    row: m.row,
    line: m.line,
    to: m.to,
    from: m.fromNumber ?? m.sender,
    status: m.status,
    message_id: m.messageId,
    parts: m.parts,
    cost: m.cost,
    currency: m.currency,
    attempts: m.attempts,
    error_code: m.errorCode,
    error_detail: m.errorDetail,
    sent_at: m.sentAt === null ? null : new Date(m.sentAt).toISOString(),
    delivery_status: m.deliveryStatus,
    delivery_error_code: m.deliveryErrorCode,
    delivered_at: m.deliveredAt === null ? null : new Date(m.deliveredAt).toISOString(),
  };
}

export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * `failed,unknown` → the statuses, checked; undefined or empty → every row.
 * @throws AppError ERR_USAGE naming an unknown status and the valid ones
 */
export function parseStatusFilter(text: string | undefined): RowStatus[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = names.filter((s) => !(rowStatuses as readonly string[]).includes(s));
  if (bad.length > 0) {
    throw new AppError('ERR_USAGE', `--status: no row status ${bad.map((b) => JSON.stringify(b)).join(', ')}; choose from ${rowStatuses.join(', ')}`);
  }
  return [...new Set(names)] as RowStatus[];
}

/** A cell a spreadsheet would run as a formula (OWASP "CSV injection"): =, +, -, @, tab or carriage return first. */
const FORMULA_START = /^[=+\-@\t\r]/;
const E164_LIST = /^\+[1-9]\d{1,14}(,\+[1-9]\d{1,14})*$/;
const PHONE_COLUMNS: ReadonlySet<string> = new Set(['to', 'from']);

/**
 * A report cell as a spreadsheet may open it: a leading `'` keeps Excel, LibreOffice and Sheets from
 * evaluating it, except for valid E.164 numbers in a phone column ("+14155550101" is data, not a formula).
 */
export function spreadsheetSafe(column: string, value: string | number | null): string | number | null {
  if (typeof value !== 'string' || !FORMULA_START.test(value)) return value;
  if (PHONE_COLUMNS.has(column) && E164_LIST.test(value)) return value;
  return `'${value}`;
}

const asStored = (_: string, value: string | number | null) => value;

export interface ReportChunkOptions {
  /** Only rows in these statuses; every row when absent. */
  statuses?: readonly RowStatus[] | undefined;
  /** CSV cells exactly as stored, without the spreadsheet-formula guard. @default false */
  raw?: boolean | undefined;
  /** Rows a chunk holds at most (JSON), or row numbers it spans (CSV). @default 4096 */
  rowsPerChunk?: number | undefined;
}

/**
 * The report of one run in chunks of at most `rowsPerChunk` rows each: CSV as UTF-8 bytes, JSON as text.
 * CSV cells are spreadsheet-safe unless `raw`.
 */
export function* reportChunks(ledger: Ledger, rid: number, format: ReportFormat, options: ReportChunkOptions = {}): Generator<string | Uint8Array> {
  const { statuses, rowsPerChunk = 4096 } = options;
  if (format === 'csv') {
    yield `${reportColumns.join(',')}\n`;
    const raw = options.raw === true;
    yield* csvPages(ledger, rid, { statuses, guard: !raw, pageRows: rowsPerChunk, lineOf: (row) => csvRowLine(row, raw) });
    return;
  }
  let buffer: string[] = [];
  let first = true;
  yield '[';
  for (const m of messageStoreOf(ledger).messages(rid, statuses)) {
    buffer.push(`${first ? '\n' : ',\n'}${JSON.stringify(reportRow(m))}`);
    first = false;
    if (buffer.length >= rowsPerChunk) {
      yield buffer.join('');
      buffer = [];
    }
  }
  buffer.push(first ? ']\n' : '\n]\n');
  yield buffer.join('');
}

/** One report row's CSV line: the rules every line follows (report-csv.ts writes most lines faster, to the same bytes). */
export function csvRowLine(row: ReportRow, raw = false): string {
  const cell = raw ? asStored : spreadsheetSafe;
  return `${reportColumns.map((c) => csvField(cell(c, row[c]))).join(',')}\n`;
}

/** One row's CSV line from a MessageRecord in hand: the reference the report's lines are tested against. */
export function csvLine(m: MessageRecord, raw = false): string {
  return csvRowLine(reportRow(m), raw);
}
