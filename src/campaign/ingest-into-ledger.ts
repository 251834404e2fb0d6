/**
 * Streams a job's source into the ledger: every input row becomes a message row, `pending` or
 * `skipped` with its line and reason, in 1,000-row transactions. Nothing is sent while this runs.
 * Reading happens in a worker thread (ingest-thread.ts); the rows are written here.
 */
import type { JobSpec } from '../config/job-spec.js';
import type { IngestStats } from '../ingest/index.js';
import type { Ledger } from '../ledger/ledger.js';
import type { PlanTally } from '../plan/types.js';
import { AppError } from '../shared/errors.js';
import type { MemoryScope } from './campaign-memory.js';
import { ingestInWorker } from './ingest-thread.js';
import { runTextsOf } from './ingested-columns.js';
import { loadSuppressedSet } from './suppressions.js';
import { runStoreOf } from '../ledger/run-store.js';

export async function ingestIntoLedger(
  ledger: Ledger,
  rid: number,
  spec: JobSpec,
  options: {
    expectedSha256: string;
    /** Tally the plan estimate from the same rows (run records it instead of reading the source twice). */
    estimate?: boolean;
    /** Campaign memory: skip numbers an earlier run texted (memoryScope). */
    memory?: MemoryScope | undefined;
    signal?: AbortSignal;
  },
): Promise<{ stats: IngestStats; estimate: PlanTally | undefined }> {
  // What the worker's short rows stand for (ingested-columns.ts), written before the first of them.
  const texts = runTextsOf(spec);
  ledger.setRunTexts(rid, texts.literals ?? [], texts.sender);
  const result = await ingestInWorker(
    spec,
    {
      // Numbers that replied STOP, that Telnyx refused with 40300, or that an operator added are skipped
      // here, by every run (run, the scheduler, a resume that ingests again), like the job's own list.
      suppressedNumbers: loadSuppressedSet(ledger),
      ...(options.estimate === undefined ? {} : { estimate: options.estimate }),
      memory: options.memory,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    },
    (columns) => ledger.insertColumns(rid, columns),
  );
  if (result.stats.sourceSha256 !== options.expectedSha256) {
    throw new AppError('ERR_SOURCE_CHANGED', `source ${spec.source.path} changed while it was being read; run again`);
  }
  runStoreOf(ledger).setRunTotal(rid, result.stats.total);
  return result;
}
