/**
 * Issue 17, targets 1–3 — a 10,000,000-row list (8M distinct valid numbers, 1M repeats, 1M invalid rows)
 * against the same list at 1,000,000 rows: peak RSS of `plan`, of ingest (`startRun`, the phase where a
 * campaign peaks: nothing is sent before it ends) and of `status`; ingest rows/s; ledger bytes a row after
 * ingest. Sending the 10M rows (~20 minutes at the simulator's pace here) is not part of it.
 */
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { jobFile, scaleCsv } from './lib/gen.mjs';
import { freshDb, removeDb } from './lib/ledger-files.mjs';
import { bulktext, expectExit, nodeScript } from './lib/proc.mjs';
import { fmt } from './lib/stats.mjs';

const PROBE = fileURLToPath(new URL('./ingest-probe.mjs', import.meta.url));

async function measure(rows, log) {
  const csv = await scaleCsv(rows);
  const job = jobFile(`scale-${rows}`, { source: csv, from: ['+12125550001'], rate: { messages_per_second: 1000, max_concurrent: 64 } });
  const planDb = freshDb(`scale-plan-${rows}`);
  const plan = expectExit(await bulktext(['plan', job, '--db', planDb, '--json']), [0], `plan ${rows}`);
  removeDb(planDb);
  const db = freshDb(`scale-${rows}`);
  const ingest = expectExit(await nodeScript(PROBE, ['start', job, db]), [0], `ingest ${rows}`);
  const { ms, rows: total, runId } = JSON.parse(ingest.stdout.trim());
  if (total !== rows) throw new Error(`ingest of ${rows} rows recorded ${total}`);
  const bytes = statSync(db).size;
  const status = expectExit(await bulktext(['status', runId, '--db', db, '--json']), [0], `status ${rows}`);
  removeDb(db);
  const r = {
    rows,
    csvMb: statSync(csv).size / 1e6,
    planMb: plan.peakMb,
    planSeconds: plan.wallMs / 1000,
    ingestMb: ingest.peakMb,
    ingestRate: (rows * 1000) / ms,
    ingestSeconds: ms / 1000,
    // CPU of the whole process (both threads, start-up included): the figure a loaded machine moves least.
    ingestCpuUs: (ingest.cpuMs * 1000) / rows,
    bytesPerRow: bytes / rows,
    statusMb: status.peakMb,
    statusSeconds: status.wallMs / 1000,
  };
  log(`  ${fmt(rows)} rows: plan ${fmt(r.planMb)} MB ${fmt(r.planSeconds, 1)} s; ingest ${fmt(r.ingestRate)} rows/s ${fmt(r.ingestMb)} MB; ` +
    `${fmt(r.bytesPerRow)} B/row; status ${fmt(r.statusMb)} MB`);
  return r;
}

export async function scale10m(ctx) {
  const small = await measure(1_000_000, ctx.log);
  const big = await measure(10_000_000, ctx.log);
  const phases = [['plan', 'planMb'], ['ingest', 'ingestMb'], ['status', 'statusMb']];
  const flat = phases.every(([, k]) => big[k] <= 250 && big[k] <= 1.2 * small[k]);
  const fast = big.ingestRate >= 300_000;
  const compact = big.bytesPerRow <= 120;
  const line = (r) =>
    `${fmt(r.rows)} rows (${fmt(r.csvMb)} MB CSV): peak RSS plan ${fmt(r.planMb)} MB (${fmt(r.planSeconds, 1)} s), ingest ${fmt(r.ingestMb)} MB, ` +
    `status ${fmt(r.statusMb)} MB (${fmt(r.statusSeconds, 1)} s); ingest ${fmt(r.ingestRate)} rows/s (${fmt(r.ingestSeconds, 1)} s, ${fmt(r.ingestCpuUs, 1)} µs CPU a row); ledger ${fmt(r.bytesPerRow)} B/row after ingest`;
  return {
    id: 'scale10m',
    title: '9. A 10M-row list (issue 17, targets 1–3)',
    target: 'peak RSS ≤ 250 MB and ≤ 1.2× the 1M list (plan, ingest, status); ingest ≥ 300,000 rows/s; ≤ 120 B/row',
    pass: flat && fast && compact,
    figure:
      `memory ${flat ? 'flat' : 'NOT flat'} (${phases.map(([p, k]) => `${p} ${fmt(big[k])} MB = ${fmt(big[k] / small[k], 2)}×`).join(', ')}); ` +
      `${fmt(big.ingestRate)} rows/s; ${fmt(big.bytesPerRow)} B/row`,
    lines: [line(small), line(big)],
    data: { small, big },
  };
}
