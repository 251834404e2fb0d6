import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../shared/errors.js';
import type { MessageRecord } from '../../ledger/ledger.js';
import type { Io } from '../io.js';
import { openExistingLedger } from '../ledger-file.js';

export interface ReportOptions {
  runId: string;
  db?: string | undefined;
  format: 'csv' | 'json';
  out?: string | undefined;
  /** CSV cells exactly as stored, without the spreadsheet-formula guard. @default false */
  raw?: boolean | undefined;
}

export const reportColumns = [
  'row', 'to', 'from', 'status', 'message_id', 'parts', 'cost', 'currency', 'attempts', 'error_code', 'error_detail', 'sent_at',
  'delivery_status', 'delivery_error_code', 'delivered_at',
] as const;

type ReportRow = Record<(typeof reportColumns)[number], string | number | null>;

export function reportRow(m: MessageRecord): ReportRow {
  return {
    row: m.row,
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

/** Where the report goes: stdout, or a temporary file beside --out that is renamed onto it only when complete. */
interface ReportSink {
  write(chunk: string): Promise<void>;
  commit(): Promise<void>;
  /** Removes the temporary file; never throws over the error that caused it. */
  abort(): Promise<void>;
}

function stdoutSink(io: Io): ReportSink {
  return {
    write: async (chunk) => {
      io.stdout(chunk);
      // Let a closed pipe's EPIPE surface now (main.ts ends the command quietly), not after the last row.
      await new Promise((resolve) => setImmediate(resolve));
    },
    commit: async () => {},
    abort: async () => {},
  };
}

async function fileSink(target: string): Promise<ReportSink> {
  const dir = path.dirname(target);
  const fail = (err: unknown): AppError =>
    new AppError('ERR_OUTPUT', `cannot write the report ${target}: ${(err as Error).message}`, { cause: err });
  if (!existsSync(dir)) throw new AppError('ERR_OUTPUT', `cannot write the report ${target}: the folder ${dir} does not exist`);
  const temp = path.join(dir, `.${path.basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
  let handle: FileHandle;
  try {
    // 0600: a report lists phone numbers and what was sent to them.
    handle = await open(temp, 'wx', 0o600);
  } catch (err) {
    throw fail(err);
  }
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    write: async (chunk) => {
      try {
        await handle.write(chunk);
      } catch (err) {
        throw fail(err);
      }
    },
    commit: async () => {
      try {
        await handle.sync();
        await close();
        await rename(temp, target);
      } catch (err) {
        throw fail(err);
      }
    },
    abort: async () => {
      await close().catch(() => {});
      await unlink(temp).catch(() => {});
    },
  };
}

/** Streams one line per input row; a million-row report never sits in memory at once. */
export async function reportCommand(o: ReportOptions, io: Io): Promise<number> {
  const ledger = openExistingLedger(o.db, io);
  let sink: ReportSink | undefined;
  try {
    const run = ledger.getRun(o.runId);
    sink = o.out === undefined ? stdoutSink(io) : await fileSink(path.resolve(io.cwd, o.out));
    const cell = o.format === 'csv' && o.raw !== true ? spreadsheetSafe : (_: string, v: string | number | null) => v;
    let buffer: string[] = [];
    let first = true;
    await sink.write(o.format === 'csv' ? `${reportColumns.join(',')}\n` : '[');
    for (const m of ledger.messages(run.rid)) {
      const row = reportRow(m);
      if (o.format === 'csv') buffer.push(`${reportColumns.map((c) => csvField(cell(c, row[c]))).join(',')}\n`);
      else {
        buffer.push(`${first ? '\n' : ',\n'}${JSON.stringify(row)}`);
        first = false;
      }
      if (buffer.length >= 1000) {
        await sink.write(buffer.join(''));
        buffer = [];
      }
    }
    buffer.push(o.format === 'csv' ? '' : first ? ']\n' : '\n]\n');
    await sink.write(buffer.join(''));
    await sink.commit();
    return 0;
  } catch (err) {
    // No half report: whatever failed (the disk, the ledger), the target is left as it was.
    await sink?.abort();
    throw err;
  } finally {
    ledger.close();
  }
}
