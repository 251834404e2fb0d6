/** Messages between `ingestInWorker` and its thread. */
import type { JobSpec } from '../config/job-spec.js';
import type { IngestStats } from '../ingest/index.js';
import type { MessageColumns } from '../ledger/message-columns.js';
import type { PlanTally } from '../plan/types.js';
import type { ErrorData } from '../shared/errors.js';
import type { MemoryScope } from './campaign-memory.js';

export interface IngestWorkerStart {
  spec: JobSpec;
  /** Numbers the ledger has seen opt out, skipped like the job's own suppression list. */
  suppressedNumbers: string[];
  /** Also tally the plan estimate from the same rows (what `run` records on the run). */
  estimate: boolean;
  /** Batches the thread may send before the parent has taken the first of them. */
  ahead: number;
  /** Campaign memory to look each batch up in (the thread opens the ledger read-only for it). */
  memory: MemoryScope | undefined;
}

/** Parent → thread: one batch was written to the ledger; the thread may send one more. */
export type IngestWorkerAck = 'ack';

export type IngestWorkerMessage =
  | { type: 'rows'; columns: MessageColumns }
  | { type: 'done'; stats: IngestStats; estimate: PlanTally | undefined }
  | { type: 'failed'; error: ErrorData };
