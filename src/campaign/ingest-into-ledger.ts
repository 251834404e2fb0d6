/**
 * Streams a job's source into the ledger: every input row becomes a message row, `pending` or
 * `skipped` with its line and reason, in 1,000-row transactions. Nothing is sent while this runs.
 */
import type { JobSpec } from '../config/job-spec.js';
import { ingestRecipients, type IngestedRow, type IngestStats } from '../ingest/index.js';
import type { Ledger, NewMessageRow } from '../ledger/ledger.js';
import { AppError } from '../shared/errors.js';
import { pickSender } from './senders.js';

export function toMessageRow(spec: JobSpec, r: IngestedRow): NewMessageRow {
  const base = {
    row: r.row,
    line: r.line,
    to: r.to,
    text: r.text,
    subject: r.subject,
    parts: r.parts,
    encoding: r.encoding,
    tz: r.zone ?? null,
  };
  if (r.skip !== undefined) {
    return { ...base, sender: null, status: 'skipped', errorCode: r.skip.reason, errorDetail: `${r.skip.reason}: ${r.skip.detail}` };
  }
  return { ...base, sender: pickSender(spec.sender, r.recipients[0] ?? r.to), status: 'pending' };
}

export async function ingestIntoLedger(
  ledger: Ledger,
  rid: number,
  spec: JobSpec,
  options: {
    expectedSha256: string;
    suppressed?: (e164: string) => boolean;
    signal?: AbortSignal;
    /** Sees every row as it is recorded (run feeds its plan estimate from here instead of reading twice). */
    onRow?: (row: IngestedRow) => void;
  },
): Promise<IngestStats> {
  const { batches, stats } = ingestRecipients(spec, {
    ...(options.suppressed === undefined ? {} : { suppressed: options.suppressed }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  // Consume `stats` eagerly so a structural error surfaces once, through the loop below.
  stats.catch(() => {});
  const onRow = options.onRow;
  for await (const batch of batches) {
    ledger.insertRows(rid, batch.map((r) => toMessageRow(spec, r)));
    if (onRow !== undefined) for (const r of batch) onRow(r);
  }
  const result = await stats;
  if (result.sourceSha256 !== options.expectedSha256) {
    throw new AppError('ERR_SOURCE_CHANGED', `source ${spec.source.path} changed while it was being read; run again`);
  }
  ledger.setRunTotal(rid, result.total);
  return result;
}
