/**
 * Builds the report benchmark's ledger: a finished run of `rows` rows without sending 10M messages.
 * 10,000 rows are ingested through `startRun` (the ledger API) and given the outcomes a real run leaves
 * (sent and delivered, failed with a detail that needs CSV quoting, unknown, skipped with a cell a
 * spreadsheet would run as a formula); then the table copies that block onto itself, row numbers and
 * message ids shifted, until the run has `rows` rows. The copy lists the columns the schema has (PRAGMA
 * table_info), so a migration that adds or drops a column does not break it.
 * Usage: node bench/report-setup.mjs <job.json> <db> <rows>. Prints { runId, rows }.
 */
import Database from 'better-sqlite3';
import { startRun } from '../dist/campaign/start-run.js';
import { loadJobSpec } from '../dist/config/load-job-spec.js';
import { Ledger } from '../dist/ledger/ledger.js';
import { messageStoreOf } from '../dist/ledger/message-store.js';
import { runStoreOf } from '../dist/ledger/run-store.js';

const [jobPath, dbPath, rowsArg] = process.argv.slice(2);
const target = Number(rowsArg);
const spec = await loadJobSpec(jobPath);
const ledger = new Ledger(dbPath);
const { run } = await startRun(ledger, spec, { sandbox: false });
const seed = messageStoreOf(ledger).counts(run.rid).total;
ledger.close();

// The ledger's API has no way to write outcomes or copy rows in bulk (a real run earns them message by
// message); a connection of the benchmark's own does it in a few statements.
const db = new Database(dbPath);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = OFF');
const now = Date.now();
db.prepare(
  `UPDATE messages SET
     status = CASE WHEN row % 100 < 92 THEN 'sent' WHEN row % 100 < 96 THEN 'failed' WHEN row % 100 < 98 THEN 'unknown' ELSE 'skipped' END,
     attempts = CASE WHEN row % 100 < 98 THEN 1 + (row % 3 = 0) ELSE 0 END,
     from_number = CASE WHEN row % 100 < 92 THEN sender END,
     message_id = CASE WHEN row % 100 < 92 THEN printf('40318f6c-%04x-4b1e-9c2a-%012x', row % 65536, row) END,
     cost = CASE WHEN row % 100 < 92 THEN '0.0040' END,
     currency = CASE WHEN row % 100 < 92 THEN 'USD' END,
     error_code = CASE WHEN row % 100 BETWEEN 92 AND 95 THEN '40310' WHEN row % 100 BETWEEN 96 AND 97 THEN 'ERR_SEND_IN_DOUBT' END,
     error_detail = CASE WHEN row % 100 BETWEEN 92 AND 95 THEN 'Invalid "to" address, not a mobile number'
                         WHEN row % 100 BETWEEN 96 AND 97 THEN 'socket closed after the request was written'
                         WHEN row % 100 >= 98 THEN '=HYPERLINK("http://example.invalid","suppressed")' END,
     sending_at = CASE WHEN row % 100 < 98 THEN ? + row END,
     sent_at = CASE WHEN row % 100 < 92 THEN ? + row + 40 END,
     delivery_status = CASE WHEN row % 100 < 90 THEN 'delivered' WHEN row % 100 < 92 THEN 'delivery_failed' END,
     delivery_error_code = CASE WHEN row % 100 BETWEEN 90 AND 91 THEN '40008' END,
     delivered_at = CASE WHEN row % 100 < 92 THEN ? + row + 2000 END,
     updated_at = ?
   WHERE rid = ?`,
).run(now, now, now, now, run.rid);

const columns = db.prepare(`SELECT name FROM pragma_table_info('messages')`).pluck().all();
const shifted = { row: 'row + @offset', line: 'line + @offset', message_id: `message_id || '-' || @offset` };
const copy = db.prepare(
  `INSERT INTO messages (${columns.join(', ')})
   SELECT ${columns.map((c) => shifted[c] ?? c).join(', ')} FROM messages WHERE rid = @rid AND row <= @count ORDER BY row`,
);
for (let have = seed; have < target; ) {
  const count = Math.min(have, target - have);
  db.transaction(() => copy.run({ rid: run.rid, offset: have, count }))();
  have += count;
}
db.pragma('wal_checkpoint(TRUNCATE)');
db.close();

const done = new Ledger(dbPath);
runStoreOf(done).setRunTotal(run.rid, target);
runStoreOf(done).setRunState(run.rid, 'completed', { finishedAt: now + 60_000 });
const rows = messageStoreOf(done).counts(run.rid).total;
done.close();
process.stdout.write(`${JSON.stringify({ runId: run.runId, rows })}\n`);
