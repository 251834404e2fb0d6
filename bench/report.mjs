/**
 * Issue 17 target 6 — report at 10M: `bulktext report <run> --format csv` of a 10,000,000-row run, to a
 * file with --out and to standard output read through a pipe (and dropped), streams ≥ 500,000 rows/s in
 * ≤ 150 MB peak RSS. Rows/s is rows over the process's wall time, start-up included.
 *
 * The run is made by report-setup.mjs (no 10M messages sent) once and kept under bench/out/ with its
 * run id beside it; BENCH_REPORT_ROWS changes the size (for a quick look).
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jobFile, OUT, recipientsCsv } from './lib/gen.mjs';
import { freshDb } from './lib/ledger-files.mjs';
import { bulktext, expectExit, nodeScript } from './lib/proc.mjs';
import { fmt, fmtSummary, summarize } from './lib/stats.mjs';

const SETUP = fileURLToPath(new URL('./report-setup.mjs', import.meta.url));

async function reportLedger(rows, log) {
  const db = path.join(OUT, `report-${rows}.db`);
  const meta = `${db}.json`;
  if (existsSync(db) && existsSync(meta)) return { db, ...JSON.parse(readFileSync(meta, 'utf8')) };
  const csv = await recipientsCsv(10_000);
  const job = jobFile('report-seed', { source: csv, from: ['+12125550001', '+12125550002'], rate: { messages_per_second: 100, per_sender_per_second: 10, max_concurrent: 8 } });
  freshDb(`report-${rows}`);
  rmSync(meta, { force: true });
  const t0 = performance.now();
  const setup = expectExit(await nodeScript(SETUP, [job, db, String(rows)]), [0], 'report setup');
  const made = JSON.parse(setup.stdout.trim());
  if (made.rows !== rows) throw new Error(`report setup made ${made.rows} rows, expected ${rows}`);
  writeFileSync(meta, JSON.stringify(made));
  log(`  ledger with a finished ${fmt(rows)}-row run built in ${fmt((performance.now() - t0) / 1000)} s (${fmt(statSync(db).size / 1e9, 2)} GB)`);
  return { db, ...made };
}

export async function report(ctx) {
  const rows = Number(process.env.BENCH_REPORT_ROWS ?? 10_000_000);
  const { db, runId } = await reportLedger(rows, ctx.log);
  const out = path.join(OUT, 'report-out.csv');
  const kinds = {
    '--out FILE': async () => {
      const r = expectExit(await bulktext(['report', runId, '--db', db, '--format', 'csv', '--out', out]), [0], 'bulktext report --out');
      const bytes = statSync(out).size;
      rmSync(out, { force: true });
      return { ...r, bytes };
    },
    'stdout, piped': async () => {
      const r = expectExit(await bulktext(['report', runId, '--db', db, '--format', 'csv'], { discardStdout: true }), [0], 'bulktext report | …');
      return { ...r, bytes: r.stdoutBytes };
    },
  };
  const results = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
  for (let i = 0; i < ctx.reps; i++) {
    for (const [kind, measure] of Object.entries(kinds)) {
      const r = await measure();
      const rate = (rows * 1000) / r.wallMs;
      // Rows per CPU-second of the process too: on a shared machine the wall time is mostly the others' load.
      const cpuRate = r.cpuMs === null ? null : (rows * 1000) / r.cpuMs;
      results[kind].push({ rate, cpuRate, peakMb: r.peakMb, seconds: r.wallMs / 1000, bytes: r.bytes });
      ctx.log(`  ${kind}: ${fmt(r.wallMs / 1000, 1)} s, ${fmt(rate)} rows/s (${fmt(cpuRate)} per CPU-second), peak RSS ${fmt(r.peakMb)} MB, ${fmt(r.bytes / 1e9, 2)} GB`);
    }
  }
  const worstRate = Math.min(...Object.values(results).flat().map((r) => r.rate));
  const worstPeak = Math.max(...Object.values(results).flat().map((r) => r.peakMb));
  return {
    id: 'report',
    title: '11. Report at 10M (issue 17 target 6)',
    target: '`report --format csv` of a 10M-row run ≥ 500,000 rows/s in ≤ 150 MB peak RSS, to --out and to a pipe',
    pass: rows >= 10_000_000 && worstRate >= 500_000 && worstPeak <= 150,
    figure: `${fmt(worstRate)} rows/s, ${fmt(worstPeak)} MB (worst of ${Object.keys(kinds).length * ctx.reps} runs, ${fmt(rows)} rows)`,
    lines: Object.entries(results).map(
      ([kind, rs]) =>
        `${kind}: ${fmtSummary(summarize(rs.map((r) => r.rate)), 0, ' rows/s')} (${fmtSummary(summarize(rs.map((r) => r.cpuRate)), 0, '')} per CPU-second); peak RSS ${fmtSummary(summarize(rs.map((r) => r.peakMb)), 0, ' MB')}; wall ${fmtSummary(summarize(rs.map((r) => r.seconds)), 1, ' s')}`,
    ),
    data: { rows, results },
  };
}
