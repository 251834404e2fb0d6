import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseJobSpec } from '../../../src/config/job-spec.js';
import type { JobSpec } from '../../../src/config/job-spec.js';
import { ingestRecipients } from '../../../src/ingest/index.js';
import type { IngestedRow, IngestOptions, IngestStats } from '../../../src/ingest/index.js';

export const TEXT = 'Hi {{first_name}}, your order {{order_id}} ships today.';

/** A validated job in `dir` reading `file` (written there from `content` when given). */
export function jobFor(
  dir: string,
  file: string,
  content?: string | Buffer,
  overrides: { source?: Record<string, unknown>; sender?: Record<string, unknown>; message?: Record<string, unknown>; suppression?: Record<string, unknown> } = {},
): JobSpec {
  if (content !== undefined) writeFileSync(path.join(dir, file), content);
  return parseJobSpec(
    {
      name: 'test-job',
      source: { path: file, ...overrides.source },
      sender: { mode: 'long_code', from: ['+18445550001'], ...overrides.sender },
      message: { text: TEXT, ...overrides.message },
      ...(overrides.suppression === undefined ? {} : { suppression: overrides.suppression }),
    },
    path.join(dir, 'job.yaml'),
  );
}

/** Runs ingest to the end and returns every row, the batch sizes and the stats. */
export async function ingestAll(spec: JobSpec, options?: IngestOptions): Promise<{ rows: IngestedRow[]; batches: number[]; stats: IngestStats }> {
  const result = ingestRecipients(spec, options);
  const rows: IngestedRow[] = [];
  const batches: number[] = [];
  for await (const batch of result.batches) {
    batches.push(batch.length);
    rows.push(...batch);
  }
  return { rows, batches, stats: await result.stats };
}

/** The first error thrown by iterating the batches (or undefined). */
export async function ingestError(spec: JobSpec, options?: IngestOptions): Promise<unknown> {
  try {
    await ingestAll(spec, options);
  } catch (err) {
    return err;
  }
  return undefined;
}

export function byReason(rows: readonly IngestedRow[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const r of rows) {
    const key = r.skip?.reason ?? 'sendable';
    (out[key] ??= []).push(r.row);
  }
  return out;
}
