import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { parseStatusFilter, reportChunks } from '../../campaign/report.js';
import type { Io } from '../io.js';
import { openExistingLedger } from '../ledger-file.js';

export interface ReportOptions {
  runId: string;
  db?: string | undefined;
  format: 'csv' | 'json';
  out?: string | undefined;
  /** Only rows in these statuses, comma-separated (`failed,unknown`). */
  status?: string | undefined;
}

/** Streams one line per input row; a million-row report never sits in memory at once. */
export async function reportCommand(o: ReportOptions, io: Io): Promise<number> {
  const statuses = parseStatusFilter(o.status);
  const ledger = openExistingLedger(o.db, io);
  const file = o.out === undefined ? undefined : createWriteStream(path.resolve(io.cwd, o.out));
  const write = async (chunk: string) => {
    if (file === undefined) io.stdout(chunk);
    else if (!file.write(chunk)) await once(file, 'drain');
  };
  try {
    const run = ledger.getRun(o.runId);
    for (const chunk of reportChunks(ledger, run.rid, o.format, statuses)) await write(chunk);
    return 0;
  } finally {
    ledger.close();
    if (file !== undefined) {
      file.end();
      await once(file, 'close');
    }
  }
}
