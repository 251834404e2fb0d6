/**
 * Ingested rows → the ledger's message columns: `pending` rows pinned to their sender, `skipped` rows
 * with their reason. A sendable row of a job with a text template is stored short (ledger/message-text.ts):
 * its template values instead of its text, and '' for the run's own sender; no row stores its encoding.
 */
import type { JobSpec } from '../config/job-spec.js';
import { parseTemplate } from '../ingest/template.js';
import type { IngestedRow } from '../ingest/index.js';
import { createColumns, pushRow, type MessageColumns } from '../ledger/message-columns.js';
import { pickSender } from './senders.js';

/** What a run's short rows stand for: its template's literal pieces and its one sender (null: per row). */
export interface RunTexts {
  literals: readonly string[] | null;
  sender: string | null;
}

export function runTextsOf(spec: JobSpec): RunTexts {
  return {
    literals: spec.message.text === undefined ? null : parseTemplate(spec.message.text).literals,
    // With one `from` (or none: a pool or profile) every row gets the same sender; with several, each its own.
    sender: spec.sender.from.length > 1 ? null : pickSender(spec.sender, ''),
  };
}

export function columnsOfIngested(spec: JobSpec, batch: readonly IngestedRow[], texts: RunTexts = runTextsOf(spec)): MessageColumns {
  const c = createColumns(batch.length);
  const short = texts.literals !== null;
  for (const r of batch) {
    // One plain literal per row (no spread): cheap enough that the column code exists once.
    const skip = r.skip;
    const sender = skip === undefined ? pickSender(spec.sender, r.recipients[0] ?? r.to) : null;
    const vars = short && r.vars !== undefined ? r.vars : null;
    pushRow(c, {
      row: r.row,
      line: r.line,
      to: r.to,
      sender: sender !== null && sender === texts.sender ? '' : sender,
      text: vars === null ? r.text : null,
      vars,
      subject: r.subject,
      parts: r.parts,
      // Nothing reads it back, and the text gives it again (countSegments): 5 bytes a row not stored.
      encoding: null,
      tz: r.zone ?? null,
      status: skip === undefined ? 'pending' : 'skipped',
      errorCode: skip === undefined ? null : skip.reason,
      errorDetail: skip === undefined ? null : `${skip.reason}: ${skip.detail}`,
    });
  }
  return c;
}
