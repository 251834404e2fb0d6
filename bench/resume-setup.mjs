/**
 * Builds the resume benchmark's ledger: a 1,000,000-row run ingested through `startRun` (the ledger
 * API), then its first 999,000 rows marked sent, each with its accepted attempt, and their message ids
 * indexed (as if a run had sent them and was interrupted), so `resume` has 1,000 rows left.
 * Usage: node bench/resume-setup.mjs <job.json> <db>. Prints { runId, pending }.
 */
import Database from 'better-sqlite3';
import { startRun } from '../dist/campaign/start-run.js';
import { loadJobSpec } from '../dist/config/load-job-spec.js';
import { Ledger } from '../dist/ledger/ledger.js';
import { messageIdStoreOf } from '../dist/ledger/message-id-store.js';
import { messageStoreOf } from '../dist/ledger/message-store.js';
import { runStoreOf } from '../dist/ledger/run-store.js';

const [jobPath, dbPath] = process.argv.slice(2);
const DONE = 999_000;
const spec = await loadJobSpec(jobPath);
const ledger = new Ledger(dbPath);
const { run } = await startRun(ledger, spec, { sandbox: false });
const now = Date.now();
// Marking 999,000 rows sent one commit at a time would take minutes: this fakes the run's history in two
// statements on a connection of its own (the Ledger's is private), committed before the Ledger goes on.
const raw = new Database(dbPath, { timeout: 5000 });
raw.transaction(() => {
  raw
    .prepare(
      `UPDATE messages SET status = 'sent', message_id = 'bench-' || row, from_number = sender, sending_at = ?, sent_at = ?, updated_at = ?
       WHERE rid = ? AND status = 'pending' AND row <= ?`,
    )
    .run(now, now, now, run.rid, DONE);
  // Apart from the move: the ledger's totals count a move that also starts an attempt as a send mark, which
  // only the send commit writes (migration 10).
  raw.prepare(`UPDATE messages SET attempts = 1 WHERE rid = ? AND status = 'sent'`).run(run.rid);
  // Each with the accepted attempt that sent it, as a real run records.
  raw
    .prepare(
      `INSERT INTO attempts (rid, row, attempt, started_at, latency_ms, http_status, outcome, detail)
       SELECT rid, row, 1, sending_at, 3, 200, 'accepted', message_id FROM messages WHERE rid = ? AND status = 'sent' ORDER BY row`,
    )
    .run(run.rid);
})();
raw.close();
// An interrupted run indexes its message ids when its sends stop (executeRun).
messageIdStoreOf(ledger).indexMessageIds();
runStoreOf(ledger).setRunState(run.rid, 'interrupted', { stopCode: 'interrupted', stopDetail: 'benchmark: 999,000 rows sent' });
const pending = messageStoreOf(ledger).counts(run.rid).pending;
ledger.close();
process.stdout.write(`${JSON.stringify({ runId: run.runId, pending })}\n`);
