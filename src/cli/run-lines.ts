/**
 * Lines `resume`, `status` and a run's end print, whichever ledger the run is on: one wording for SQLite and
 * PostgreSQL, so an operator's scripts and habits do not depend on the backend.
 */
import type { RunStatus } from '../campaign/status.js';

/** What taking up a run changed before it sends: rows in doubt, rows sent again, rows another run texted. */
export function resumeNotices(r: { inDoubt: number; reopened: number; requeued?: { count: number; codes: readonly string[] | undefined }; textedElsewhere: number }): string {
  let out = '';
  if (r.inDoubt > 0) out += `${r.inDoubt} row(s) were in flight when the run stopped; they are now unknown (Telnyx may have sent them) and will not be sent again\n`;
  if (r.reopened > 0) out += `--resend-unknown: sending ${r.reopened} unknown row(s) again; those recipients may get a second message\n`;
  if (r.requeued !== undefined) {
    const which = r.requeued.codes === undefined ? '' : ` with ${r.requeued.codes.join(', ')}`;
    out += `--retry-failed: re-queued ${r.requeued.count} failed row(s)${which} whose answers prove no message was created\n`;
  }
  if (r.textedElsewhere > 0) out += `${r.textedElsewhere} row(s) were texted by a newer run of this job meanwhile: skipped as already_sent\n`;
  return out;
}

/** One run in `status`'s list. */
export function statusListLine(s: RunStatus): string {
  const c = s.counts;
  return (
    `${s.run_id}  ${s.job.padEnd(20)} ${s.state.padEnd(11)} ${s.started_at}  sent ${c.sent}/${c.total - c.skipped}` +
    `${c.failed > 0 ? ` failed ${c.failed}` : ''}${c.unknown > 0 ? ` unknown ${c.unknown}` : ''}${s.sandbox ? ' [sandbox]' : ''}` +
    `${s.test_to === null ? '' : ' [test]'}\n`
  );
}

/** Answers Telnyx accepted with fields missing or unreadable; `report`: the ledger has a report to read them in. */
export function oddAnswersWarning(count: number, report: boolean): string {
  return (
    `  warning: ${count} answer(s) from Telnyx had missing or unreadable fields; the messages were sent and those fields are recorded as absent` +
    `${report ? " (see error_detail in the run's report)" : ''}\n`
  );
}
