/**
 * The CSV report's lines, a page at a time, as UTF-8. The ledger hands over each row as one string, its
 * cells joined by commas and its two times left as integers (src/ledger/report-lines.ts); one pass over
 * its characters decides whether it can be used as it is — no cell holds a quote, comma, CR or LF, and
 * none starts like a formula except a phone cell holding one E.164 number — which is so for nearly every
 * row, and reads the times, formatted here with the last second's text kept. A row that fails is read
 * again cell by cell (a page's such rows in one query) and written by the reference rules (report.ts
 * `csvRowLine`), so every line is the same bytes either way.
 */
import type { Ledger } from '../ledger/ledger.js';
import {
  PHONE_CELLS, PIECE_COMMAS, PIECE_SEPARATOR, PIECE_SEPARATORS, reportCells, reportLinePages, reportRunSender, type ReportCells,
} from '../ledger/report-lines.js';
import type { RowStatus } from '../ledger/states.js';
import type { ReportRow } from './report.js';

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;
const TAB = 9;
const EQUALS = 61;
const PLUS = 43;
const MINUS = 45;
const AT = 64;
const ZERO = 48;
const ONE = 49;
const NINE = 57;

/** A cell a spreadsheet would run: =, +, -, @, tab or carriage return first (report.ts FORMULA_START). */
const formulaStart = (c: number) => c === EQUALS || c === PLUS || c === MINUS || c === AT || c === TAB || c === CR;

/** Whether `s` from `start` up to the next comma (or its end) is one E.164 number: +, 1–9, then 1–14 digits. */
function oneE164(s: string, start: number): boolean {
  if (s.charCodeAt(start) !== PLUS) return false;
  const first = s.charCodeAt(start + 1);
  if (first < ONE || first > NINE) return false;
  let i = start + 2;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === COMMA) break;
    if (c < ZERO || c > NINE) return false;
  }
  const digits = i - start - 1;
  return digits >= 2 && digits <= 15;
}

/**
 * Reads a row's pieces (report-lines.ts ReportLinePieces) in one pass over its characters: whether they
 * can be written as they are — exactly PIECE_COMMAS commas and PIECE_SEPARATORS separators (no cell holds
 * one), no quote, CR or LF, and when guarding no cell starting like a formula, bar a phone cell's one E.164
 * number — and where the two times are, with their values.
 */
class PieceScan {
  /** Where the separators are: the head ends at the first, the tail lies between the second and third. */
  first = 0;
  second = 0;
  third = 0;
  sentAt: number | null = null;
  deliveredAt: number | null = null;

  plain(s: string, guard: boolean): boolean {
    let commas = 0;
    let separators = 0;
    let cellStart = true;
    // Inside a time (after an odd separator): its digits, read as they go by.
    let inTime = false;
    let time = 0;
    let digits = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (inTime) {
        if (c >= ZERO && c <= NINE) {
          time = time * 10 + (c - ZERO);
          digits++;
          continue;
        }
        if (c !== PIECE_SEPARATOR) return false;
      }
      if (c === PIECE_SEPARATOR) {
        if (separators === PIECE_SEPARATORS) return false;
        separators++;
        if (separators === 1) this.first = i;
        else if (separators === 2) this.second = i;
        else this.third = i;
        if (inTime && separators === 2) this.sentAt = digits === 0 ? null : time;
        inTime = separators !== 2;
        time = 0;
        digits = 0;
        cellStart = false;
        continue;
      }
      if (c === COMMA) {
        commas++;
        cellStart = true;
        continue;
      }
      if (c === QUOTE || c === LF || c === CR) return false;
      if (cellStart) {
        cellStart = false;
        if (guard && formulaStart(c) && !(PHONE_CELLS.includes(commas) && oneE164(s, i))) return false;
      }
    }
    if (commas !== PIECE_COMMAS || separators !== PIECE_SEPARATORS) return false;
    this.deliveredAt = digits === 0 ? null : time;
    return true;
  }
}

/** Date.prototype.toISOString of epoch ms, remembering the last second's text (a run's times cluster). */
class IsoTimes {
  #second = Number.NaN;
  #prefix = '';

  format(ms: number | null): string {
    if (ms === null) return '';
    const second = Math.floor(ms / 1000);
    if (second !== this.#second) {
      const iso = new Date(second * 1000).toISOString();
      // Everything up to the milliseconds: "2026-12-07T19:12:34." (longer for years past 9999).
      this.#prefix = iso.slice(0, iso.length - 4);
      this.#second = second;
    }
    return this.#prefix + MILLIS[ms - second * 1000]!;
  }
}

/** "000Z" … "999Z". */
const MILLIS = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, '0')}Z`);

export interface CsvPageOptions {
  /** Only rows in these statuses; every row when absent. */
  statuses?: readonly RowStatus[] | undefined;
  /** Guard cells a spreadsheet would run as formulas (report.ts spreadsheetSafe); false: cells as stored. */
  guard: boolean;
  /** How many row numbers one page spans. */
  pageRows: number;
  /** A row as the reference rules write it, for the rows whose pieces cannot be used as they are. */
  lineOf: (row: ReportRow) => string;
}

/** The report row of cells read as stored (report.ts `reportRow` of a MessageRecord, from the ledger's cells). */
function rowOf(c: ReportCells): ReportRow {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    row: c[0], line: c[1], to: c[2], from: c[3], status: c[4], message_id: c[5], parts: c[6], cost: c[7], currency: c[8], attempts: c[9],
    error_code: c[10], error_detail: c[11], sent_at: iso(c[12]), delivery_status: c[13], delivery_error_code: c[14], delivered_at: iso(c[15]),
  };
}

/** Bytes a page's buffer starts with; a page that outgrows it goes out in more than one. */
const PAGE_BYTES = 1 << 20;

/**
 * A page's lines as UTF-8 in Buffers, written line by line. Cheaper than joining the page into one string
 * and encoding that (the join flattened a string of a million pieces per 4,096 rows, twice the time).
 */
class PageBytes {
  #buf = Buffer.allocUnsafe(PAGE_BYTES);
  #used = 0;
  readonly #full: Buffer[] = [];

  add(line: string): void {
    // A UTF-16 code unit is at most 3 bytes of UTF-8: room for that is room for the line.
    if (this.#buf.length - this.#used < line.length * 3) {
      if (this.#used > 0) this.#full.push(this.#buf.subarray(0, this.#used));
      this.#buf = Buffer.allocUnsafe(Math.max(PAGE_BYTES, line.length * 3));
      this.#used = 0;
    }
    this.#used += this.#buf.write(line, this.#used);
  }

  /** The page's bytes so far, in order; the next line starts a new buffer. */
  take(): Buffer[] {
    const out = this.#full.splice(0);
    if (this.#used > 0) out.push(this.#buf.subarray(0, this.#used));
    this.#buf = Buffer.allocUnsafe(PAGE_BYTES);
    this.#used = 0;
    return out;
  }
}

/** Every line of a run's CSV report (no header), in row order, as UTF-8, a page at a time. */
export function* csvPages(ledger: Ledger, rid: number, o: CsvPageOptions): Generator<Buffer> {
  const sent = new IsoTimes();
  const delivered = new IsoTimes();
  const bytes = new PageBytes();
  const scan = new PieceScan();
  let runSender: string | undefined;
  for (const page of reportLinePages(ledger, rid, { statuses: o.statuses, pageRows: o.pageRows })) {
    // The page's lines in order, '' for a row written by the reference rules (those rows are read again together).
    const others: number[] = [];
    const lines: string[] = [];
    for (const s of page) {
      if (scan.plain(s, o.guard)) {
        lines.push(`${s.slice(0, scan.first)}${sent.format(scan.sentAt)}${s.slice(scan.second + 1, scan.third)}${delivered.format(scan.deliveredAt)}\n`);
      } else {
        // The row's number: its first cell, digits up to the first comma.
        others.push(Number.parseInt(s, 10));
        lines.push('');
      }
    }
    let byRow = new Map<number, ReportCells>();
    if (others.length > 0) {
      runSender ??= reportRunSender(ledger, rid);
      byRow = new Map(reportCells(ledger, rid, others, runSender).map((c) => [c[0], c]));
    }
    let k = 0;
    for (const line of lines) {
      if (line !== '') {
        bytes.add(line);
        continue;
      }
      // A row gone since its page was read (only `prune` deletes rows, of finished runs) is left out.
      const cells = byRow.get(others[k++]!);
      if (cells !== undefined) bytes.add(o.lineOf(rowOf(cells)));
    }
    yield* bytes.take();
  }
}
