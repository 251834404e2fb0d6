/**
 * Ingest into the PostgreSQL ledger: the source is read in the ingest thread as for SQLite, and each batch
 * the thread hands over is COPYed into `messages` here. The suppression list is read once before (the
 * thread skips those numbers); campaign memory is looked up per batch with one `= ANY` probe, on this
 * thread, since the thread's own lookups read a SQLite file.
 */
import type { JobSpec } from '../config/job-spec.js';
import type { IngestStats } from '../ingest/index.js';
import type { MessageColumns } from '../ledger/message-columns.js';
import type { MemoryWindow } from '../ledger/campaign-memory.js';
import type { PgLedger } from '../ledger/pg/pg-ledger.js';
import type { RunRecord } from '../ledger/run-store.js';
import { memoryStoreOf } from '../ledger/memory-store.js';
import { messageStoreOf } from '../ledger/message-store.js';
import { runStoreOf } from '../ledger/run-store.js';
import { suppressionStoreOf } from '../ledger/suppression-store.js';
import { AppError } from '../shared/errors.js';
import { describeEarlierSend, memoryWindow } from './campaign-memory.js';
import { ingestInWorker } from './ingest-thread.js';
import { runTextsOf } from './ingested-columns.js';

/** The campaign memory a PostgreSQL run respects: its campaign and which earlier sends count. */
export interface PgMemoryScope {
  cid: number;
  window: MemoryWindow;
  sandbox: boolean;
}

/** The memory a new run must respect, caught up first; undefined when there is nothing in the window (or repeats are allowed). */
export async function pgMemoryScope(pg: PgLedger, spec: JobSpec, run: RunRecord, allowRepeat = false): Promise<PgMemoryScope | undefined> {
  if (allowRepeat) return undefined;
  const memory = memoryStoreOf(pg);
  await memory.rememberCampaign(run.cid);
  const window = memoryWindow(spec, run.startedAt, run.slot);
  return (await memory.hasMemory(run.cid, window)) ? { cid: run.cid, window, sandbox: run.sandbox } : undefined;
}

/** Marks the batch's sendable rows the campaign already texted as skipped `already_sent`; returns how many. */
async function skipRemembered(pg: PgLedger, scope: PgMemoryScope, c: MessageColumns): Promise<number> {
  const numbers: string[] = [];
  for (let j = 0; j < c.count; j++) if (c.status[j] === 'pending') numbers.push(c.to[j]!);
  const found = await memoryStoreOf(pg).alreadySent(scope.cid, scope.window, numbers);
  if (found.size === 0) return 0;
  let skipped = 0;
  for (let j = 0; j < c.count; j++) {
    const earlier = c.status[j] === 'pending' ? found.get(c.to[j]!) : undefined;
    if (earlier === undefined) continue;
    c.status[j] = 'skipped';
    c.errorCode[j] = 'already_sent';
    c.errorDetail[j] = `already_sent: ${describeEarlierSend(earlier, scope.sandbox)}`;
    skipped++;
  }
  return skipped;
}

export async function ingestIntoPg(
  pg: PgLedger,
  run: RunRecord,
  spec: JobSpec,
  options: { expectedSha256: string; memory?: PgMemoryScope | undefined; signal?: AbortSignal },
): Promise<IngestStats> {
  const texts = runTextsOf(spec);
  await messageStoreOf(pg).setRunTexts(run.rid, texts.literals ?? [], texts.sender);
  const suppressed = new Set(await suppressionStoreOf(pg).suppressedNumbers());
  let remembered = 0;
  const { stats } = await ingestInWorker(
    spec,
    { suppressedNumbers: suppressed, ...(options.signal === undefined ? {} : { signal: options.signal }) },
    async (columns) => {
      if (options.memory !== undefined) remembered += await skipRemembered(pg, options.memory, columns);
      await messageStoreOf(pg).insertColumns(run.rid, columns);
    },
  );
  if (stats.sourceSha256 !== options.expectedSha256) {
    throw new AppError('ERR_SOURCE_CHANGED', `source ${spec.source.path} changed while it was being read; run again`);
  }
  await runStoreOf(pg).setRunTotal(run.rid, stats.total);
  return { ...stats, sendable: stats.sendable - remembered, skipped: { ...stats.skipped, already_sent: stats.skipped.already_sent + remembered } };
}
