/**
 * Ingested rows → the ledger's message columns: `pending` rows pinned to their sender, `skipped` rows
 * with their reason, written straight into columns (no object per row on the way).
 */
import type { JobSpec } from '../config/job-spec.js';
import type { IngestedRow } from '../ingest/index.js';
import { createColumns, type MessageColumns } from '../ledger/message-columns.js';
import { pickSender } from './senders.js';

export function columnsOfIngested(spec: JobSpec, batch: readonly IngestedRow[]): MessageColumns {
  const c = createColumns(batch.length);
  for (const r of batch) {
    const i = c.count++;
    c.row[i] = r.row;
    c.line[i] = r.line;
    c.parts[i] = r.parts;
    c.to.push(r.to);
    c.text.push(r.text);
    c.subject.push(r.subject);
    c.encoding.push(r.encoding);
    c.tz.push(r.zone ?? null);
    if (r.skip === undefined) {
      c.sender.push(pickSender(spec.sender, r.recipients[0] ?? r.to));
      c.status.push('pending');
      c.errorCode.push(null);
      c.errorDetail.push(null);
    } else {
      c.sender.push(null);
      c.status.push('skipped');
      c.errorCode.push(r.skip.reason);
      c.errorDetail.push(`${r.skip.reason}: ${r.skip.detail}`);
    }
  }
  return c;
}
