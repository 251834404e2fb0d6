/**
 * Ingested rows → the ledger's message columns: `pending` rows pinned to their sender, `skipped` rows
 * with their reason.
 */
import type { JobSpec } from '../config/job-spec.js';
import type { IngestedRow } from '../ingest/index.js';
import { createColumns, pushRow, type MessageColumns } from '../ledger/message-columns.js';
import { pickSender } from './senders.js';

export function columnsOfIngested(spec: JobSpec, batch: readonly IngestedRow[]): MessageColumns {
  const c = createColumns(batch.length);
  for (const r of batch) {
    // One plain literal per row (no spread): cheap enough that the column code exists once.
    const skip = r.skip;
    pushRow(c, {
      row: r.row,
      line: r.line,
      to: r.to,
      sender: skip === undefined ? pickSender(spec.sender, r.recipients[0] ?? r.to) : null,
      text: r.text,
      subject: r.subject,
      parts: r.parts,
      encoding: r.encoding,
      tz: r.zone ?? null,
      status: skip === undefined ? 'pending' : 'skipped',
      errorCode: skip === undefined ? null : skip.reason,
      errorDetail: skip === undefined ? null : `${skip.reason}: ${skip.detail}`,
    });
  }
  return c;
}
