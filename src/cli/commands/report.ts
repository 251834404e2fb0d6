import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { reportColumns, reportRow } from '../../campaign/report-rows.js';
import type { Io } from '../io.js';
import { openExistingLedger } from '../ledger-file.js';

export interface ReportOptions {
  runId: string;
  db?: string | undefined;
  format: 'csv' | 'json';
  out?: string | undefined;
}

export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Streams one line per input row; a million-row report never sits in memory at once. */
export async function reportCommand(o: ReportOptions, io: Io): Promise<number> {
  const ledger = openExistingLedger(o.db, io);
  const file = o.out === undefined ? undefined : createWriteStream(path.resolve(io.cwd, o.out));
  const write = async (chunk: string) => {
    if (file === undefined) io.stdout(chunk);
    else if (!file.write(chunk)) await once(file, 'drain');
  };
  try {
    const run = ledger.getRun(o.runId);
    let buffer: string[] = [];
    let first = true;
    await write(o.format === 'csv' ? `${reportColumns.join(',')}\n` : '[');
    for (const m of ledger.messages(run.rid)) {
      const row = reportRow(m);
      if (o.format === 'csv') buffer.push(`${reportColumns.map((c) => csvField(row[c])).join(',')}\n`);
      else {
        buffer.push(`${first ? '\n' : ',\n'}${JSON.stringify(row)}`);
        first = false;
      }
      if (buffer.length >= 1000) {
        await write(buffer.join(''));
        buffer = [];
      }
    }
    buffer.push(o.format === 'csv' ? '' : first ? ']\n' : '\n]\n');
    await write(buffer.join(''));
    return 0;
  } finally {
    ledger.close();
    if (file !== undefined) {
      file.end();
      await once(file, 'close');
    }
  }
}
