import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../shared/errors.js';
import { parseStatusFilter, reportChunks } from '../../campaign/report.js';
import type { Io } from '../io.js';
import { openExistingLedger } from '../ledger-file.js';
import { runStoreOf } from '../../ledger/run-store.js';

export interface ReportOptions {
  runId: string;
  db?: string | undefined;
  format: 'csv' | 'json';
  out?: string | undefined;
  /** CSV cells exactly as stored, without the spreadsheet-formula guard. @default false */
  raw?: boolean | undefined;
  /** Only rows in these statuses, comma-separated (`failed,unknown`). */
  status?: string | undefined;
}

/** Where the report goes: stdout, or a temporary file beside --out that is renamed onto it only when complete. */
interface ReportSink {
  write(chunk: string | Uint8Array): Promise<void>;
  commit(): Promise<void>;
  /** Removes the temporary file; never throws over the error that caused it. */
  abort(): Promise<void>;
}

function stdoutSink(io: Io): ReportSink {
  return {
    write: async (chunk) => {
      if (typeof chunk === 'string') io.stdout(chunk);
      else if (io.stdoutBytes !== undefined) await io.stdoutBytes(chunk);
      else io.stdout(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8'));
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
        if (typeof chunk === 'string') await handle.write(chunk);
        // write(2) may take part of a buffer (a disk filling up): the rest goes in the next call, or fails there.
        else for (let done = 0; done < chunk.byteLength; ) done += (await handle.write(chunk, done)).bytesWritten;
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
  const statuses = parseStatusFilter(o.status);
  const ledger = openExistingLedger(o.db, io);
  let sink: ReportSink | undefined;
  try {
    const run = runStoreOf(ledger).getRun(o.runId);
    sink = o.out === undefined ? stdoutSink(io) : await fileSink(path.resolve(io.cwd, o.out));
    for (const chunk of reportChunks(ledger, run.rid, o.format, { statuses, raw: o.raw })) await sink.write(chunk);
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
