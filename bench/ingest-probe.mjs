/**
 * Ingest measured in-process (run by ingest.mjs in a fresh process each time).
 * Usage: node bench/ingest-probe.mjs <start|parse|insert> <job.json> <ledger.db>
 * - start:  the real path, `startRun` (hash the source, create the run, stream every row into the ledger,
 *           set the total) — the figure for target 5;
 * - parse:  the same ingest stream and row mapping without the ledger;
 * - insert: only `Ledger.insertRows` of the same rows in the same 1,000-row batches (parsed beforehand).
 * Prints one JSON line: { ms, rows }.
 */
import { startRun } from '../dist/campaign/start-run.js';
import { toMessageRow } from '../dist/campaign/ingest-into-ledger.js';
import { loadJobSpec } from '../dist/config/load-job-spec.js';
import { ingestRecipients } from '../dist/ingest/index.js';
import { Ledger } from '../dist/ledger/ledger.js';

const [mode, jobPath, dbPath] = process.argv.slice(2);
const spec = await loadJobSpec(jobPath);
let ms;
let rows = 0;
if (mode === 'start') {
  const ledger = new Ledger(dbPath);
  const t0 = performance.now();
  const { run } = await startRun(ledger, spec, { sandbox: false });
  ms = performance.now() - t0;
  rows = run.total;
  ledger.close();
} else if (mode === 'parse') {
  const t0 = performance.now();
  const { batches } = ingestRecipients(spec);
  for await (const batch of batches) {
    for (const r of batch) toMessageRow(spec, r);
    rows += batch.length;
  }
  ms = performance.now() - t0;
} else if (mode === 'insert') {
  const all = [];
  for await (const batch of ingestRecipients(spec).batches) all.push(batch.map((r) => toMessageRow(spec, r)));
  const ledger = new Ledger(dbPath);
  const run = ledger.createRun({
    runId: 'insert-probe', jobName: spec.name, jobFile: spec.file, jobSpec: '{}', specHash: '-', sourcePath: spec.source.path,
    sourceSha256: '-', sandbox: false, startedAt: Date.now(),
  });
  const t0 = performance.now();
  for (const batch of all) {
    ledger.insertRows(run.rid, batch);
    rows += batch.length;
  }
  ms = performance.now() - t0;
  ledger.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
process.stdout.write(`${JSON.stringify({ ms, rows })}\n`);
