/**
 * Ingest measured in-process (run by ingest.mjs in a fresh process each time).
 * Usage: node bench/ingest-probe.mjs <start|parse|insert> <job.json> <ledger.db>
 * - start:  the real path, `startRun` (hash the source, create the run, stream every row into the ledger,
 *           set the total) — the figure for target 5;
 * - parse:  the same ingest stream and mapping to message columns, on one thread, without the ledger;
 * - insert: only `Ledger.insertColumns` of the same rows in the same 1,000-row batches (parsed beforehand);
 * - rerun:  `startRun` of the job again after a first run texted every row (recorded as sent through the
 *           ledger's own commits, not timed): every sendable row is looked up in campaign memory and skipped
 *           as already_sent — the worst case of the lookups.
 * Prints one JSON line: { ms, rows, runId } (runId: the run `start` created).
 */
import { startRun } from '../dist/campaign/start-run.js';
import { columnsOfIngested } from '../dist/campaign/ingested-columns.js';
import { loadJobSpec } from '../dist/config/load-job-spec.js';
import { ingestRecipients } from '../dist/ingest/index.js';
import { Ledger } from '../dist/ledger/ledger.js';
import { messageIdStoreOf } from '../dist/ledger/message-id-store.js';
import { messageStoreOf } from '../dist/ledger/message-store.js';
import { runStoreOf } from '../dist/ledger/run-store.js';

const [mode, jobPath, dbPath] = process.argv.slice(2);
const spec = await loadJobSpec(jobPath);
let ms;
let rows = 0;
let runId;
if (mode === 'start') {
  const ledger = new Ledger(dbPath);
  const t0 = performance.now();
  const { run } = await startRun(ledger, spec, { sandbox: false });
  ms = performance.now() - t0;
  rows = run.total;
  runId = run.runId;
  ledger.close();
} else if (mode === 'rerun') {
  const ledger = new Ledger(dbPath);
  const { run: first } = await startRun(ledger, spec, { sandbox: false });
  // Every pending row sent, as the dispatcher commits them: the sending mark, then the answer and its attempt.
  for (let after = 0; ; ) {
    const rows = messageStoreOf(ledger).nextPending(first.rid, after, 1000);
    if (rows.length === 0) break;
    const at = Date.now();
    messageStoreOf(ledger).commit(first.rid, { sending: rows.map((r) => ({ row: r.row, at })), outcomes: [], attempts: [] });
    messageStoreOf(ledger).commit(first.rid, {
      sending: [],
      outcomes: rows.map((r) => ({ row: r.row, status: 'sent', messageId: `m-${r.row}`, fromNumber: null, parts: 1, cost: null, currency: null, at })),
      attempts: rows.map((r) => ({ row: r.row, attempt: 1, startedAt: at, latencyMs: 1, httpStatus: 200, outcome: 'accepted', telnyxCode: null, detail: null })),
    });
    after = rows.at(-1).row;
  }
  // What executeRun does when its sends end: the sorted pass that fills message_ids and campaign memory.
  messageIdStoreOf(ledger).indexMessageIds();
  runStoreOf(ledger).setRunState(first.rid, 'completed', { finishedAt: Date.now() });
  runStoreOf(ledger).setOwner(first.rid, null);
  const t0 = performance.now();
  const { run, ingest } = await startRun(ledger, spec, { sandbox: false });
  ms = performance.now() - t0;
  rows = run.total;
  if (ingest.sendable !== 0 || ingest.skipped.already_sent === 0) throw new Error(`rerun: ${JSON.stringify(ingest)}`);
  ledger.close();
} else if (mode === 'parse') {
  const t0 = performance.now();
  const { batches } = ingestRecipients(spec);
  for await (const batch of batches) {
    columnsOfIngested(spec, batch);
    rows += batch.length;
  }
  ms = performance.now() - t0;
} else if (mode === 'insert') {
  const all = [];
  for await (const batch of ingestRecipients(spec).batches) all.push(columnsOfIngested(spec, batch));
  const ledger = new Ledger(dbPath);
  const run = runStoreOf(ledger).createRun({
    runId: 'insert-probe', jobName: spec.name, jobFile: spec.file, jobSpec: '{}', specHash: '-', sourcePath: spec.source.path,
    sourceSha256: '-', sandbox: false, startedAt: Date.now(),
  });
  const t0 = performance.now();
  for (const columns of all) {
    ledger.insertColumns(run.rid, columns);
    rows += columns.count;
  }
  ms = performance.now() - t0;
  ledger.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
process.stdout.write(`${JSON.stringify({ ms, rows, runId })}\n`);
