/**
 * Builds the totals benchmark's ledger: a run of ROWS rows of which the last 1,000 are pending and the
 * others done — sent (most delivered, some with a failed receipt) or failed — each with its attempt,
 * message ids and campaign memory indexed, as an interrupted run leaves it. The run itself comes from
 * `startRun` over a 1,000-row CSV (the real ingest path: spec, plan, campaign); the done rows are then
 * synthesised in SQL (a recursive CTE) before them, so the ledger is built in minutes, not by sending.
 * Usage: node bench/totals-setup.mjs <job.json> <db> <rows>. Prints { runId, pending, counts, exact }.
 */
import Database from 'better-sqlite3';
import { startRun } from '../dist/campaign/start-run.js';
import { loadJobSpec } from '../dist/config/load-job-spec.js';
import { Ledger } from '../dist/ledger/ledger.js';
import { messageIdStoreOf } from '../dist/ledger/message-id-store.js';
import { countedTotals, keptTotals } from '../dist/ledger/run-totals.js';
import { messageStoreOf } from '../dist/ledger/message-store.js';
import { runStoreOf } from '../dist/ledger/run-store.js';

const [jobPath, dbPath, rowsArg] = process.argv.slice(2);
const ROWS = Number(rowsArg);
const PENDING = 1000;
const DONE = ROWS - PENDING;
const spec = await loadJobSpec(jobPath);
const ledger = new Ledger(dbPath);
const { run } = await startRun(ledger, spec, { sandbox: false });
// The sends happened at 1,000 a second, ending a minute ago; receipts 2-7 s after each send.
const start = Date.now() - 60_000 - DONE;
// The done rows are synthesised on a connection of the script's own (the Ledger's is private to its stores);
// WAL lets the Ledger go on with every commit it makes.
const db = new Database(dbPath, { timeout: 5000 });
// The ingested rows become the last PENDING rows; the done rows take 1..DONE.
db.prepare(`UPDATE messages SET row = row + ?, line = line + ? WHERE rid = ?`).run(DONE, DONE, run.rid);
// A million rows a transaction, so the WAL is checkpointed as it goes instead of holding the whole ledger.
const CHUNK = 1_000_000;
for (let lo = 1; lo <= DONE; lo += CHUNK) {
  const hi = Math.min(DONE, lo + CHUNK - 1);
  db.transaction(() => {
    db.prepare(
    `WITH RECURSIVE n(row) AS (SELECT @lo UNION ALL SELECT row + 1 FROM n WHERE row < @hi)
     INSERT INTO messages (rid, row, line, to_number, sender, from_number, text, parts, encoding, status, message_id, cost, currency, attempts,
       error_code, error_detail, sending_at, sent_at, updated_at, delivery_status, delivery_error_code, delivered_at, finalized_at, delivery_source)
     SELECT @rid, row, row + 1, printf('+1%010d', 2000000000 + row), '+12125550001', CASE WHEN row % 1000 = 7 THEN NULL ELSE '+12125550001' END,
       'Hello, this is the benchmark message number ' || row, 1, 'GSM-7',
       CASE WHEN row % 1000 = 7 THEN 'failed' ELSE 'sent' END,
       CASE WHEN row % 1000 = 7 THEN NULL ELSE 'bench-' || row END,
       CASE WHEN row % 1000 = 7 THEN NULL ELSE '0.0040' END, CASE WHEN row % 1000 = 7 THEN NULL ELSE 'USD' END, 1,
       CASE WHEN row % 1000 = 7 THEN '40310' END, CASE WHEN row % 1000 = 7 THEN 'invalid destination' END,
       @start + row, @start + row + 40, @start + row + 40,
       CASE WHEN row % 1000 = 7 THEN NULL WHEN row % 100 = 3 THEN 'delivery_failed' ELSE 'delivered' END,
       CASE WHEN row % 1000 <> 7 AND row % 100 = 3 THEN '30003' END,
       CASE WHEN row % 1000 = 7 THEN NULL ELSE @start + row + 2000 + row % 5000 END,
       CASE WHEN row % 1000 = 7 THEN NULL ELSE @start + row + 2000 + row % 5000 END,
       CASE WHEN row % 1000 = 7 THEN NULL ELSE 'webhook' END
     FROM n`,
  ).run({ lo, hi, rid: run.rid, start });
  // Each with the attempt that sent (or failed) it, as a real run records.
  db.prepare(
    `INSERT INTO attempts (rid, row, attempt, started_at, latency_ms, http_status, outcome, telnyx_code, detail)
     SELECT rid, row, 1, sending_at, 40, CASE WHEN status = 'sent' THEN 200 ELSE 400 END, CASE WHEN status = 'sent' THEN 'accepted' ELSE 'rejected' END,
       error_code, message_id FROM messages WHERE rid = ? AND row BETWEEN ? AND ? ORDER BY row`,
  ).run(run.rid, lo, hi);
  // And counted per second, as the send commits that insert attempts count them (migration 10).
  db.prepare(
    `INSERT INTO run_seconds (rid, second, wire, delivered)
     SELECT rid, CAST(started_at / 1000 AS INTEGER), count(*), 0 FROM attempts WHERE rid = ? AND row BETWEEN ? AND ? GROUP BY 2
     ON CONFLICT DO UPDATE SET wire = wire + excluded.wire`,
  ).run(run.rid, lo, hi);
  })();
}
// An interrupted run indexes its message ids (and campaign memory) when its sends stop (executeRun).
messageIdStoreOf(ledger).indexMessageIds();
runStoreOf(ledger).setRunTotal(run.rid, ROWS);
runStoreOf(ledger).setRunState(run.rid, 'interrupted', { stopCode: 'interrupted', stopDetail: `benchmark: ${DONE} rows done` });
const counts = messageStoreOf(ledger).counts(run.rid);
// The totals the triggers kept while the rows were written equal a count of the rows.
const exact = JSON.stringify(keptTotals(ledger, run.rid)) === JSON.stringify(countedTotals(ledger, run.rid));
db.pragma('wal_checkpoint(TRUNCATE)');
db.close();
ledger.close();
process.stdout.write(`${JSON.stringify({ runId: run.runId, pending: counts.pending, counts, exact })}\n`);
