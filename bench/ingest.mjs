/**
 * Target 5 — ingest: rows reach the ledger at ≥ 150,000 rows/s from a 1,000,000-row CSV, timed from
 * the start of `startRun` to its return with the run's total set (nothing is sent before that). The
 * parse-only and insert-only probes and a CPU profile of the real path say where the time goes.
 */
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jobFile, OUT, recipientsCsv } from './lib/gen.mjs';
import { freshDb, removeDb } from './lib/ledger-files.mjs';
import { summarizeProfile } from './lib/profile-summary.mjs';
import { expectExit, nodeScript } from './lib/proc.mjs';
import { fmt, fmtSummary, summarize } from './lib/stats.mjs';

const PROBE = fileURLToPath(new URL('./ingest-probe.mjs', import.meta.url));
const ROWS = 1_000_000;

async function probe(mode, job, nodeArgs = []) {
  const db = freshDb(`ingest-${mode}`);
  const r = expectExit(await nodeScript(PROBE, [mode, job, db], { nodeArgs }), [0], `ingest probe ${mode}`);
  removeDb(db);
  const { ms, rows } = JSON.parse(r.stdout.trim());
  if (rows !== ROWS) throw new Error(`ingest probe ${mode}: ${rows} rows, expected ${ROWS}`);
  return { rate: (rows * 1000) / ms, seconds: ms / 1000, peakMb: r.peakMb };
}

export async function ingest(ctx) {
  const csv = await recipientsCsv(ROWS);
  const job = jobFile('ingest-1m', { source: csv, from: ['+12125550001'], rate: { messages_per_second: 1000, max_concurrent: 64 } });
  const full = [];
  for (let i = 0; i < ctx.reps; i++) {
    full.push(await probe('start', job));
    ctx.log(`  startRun: ${fmt(full.at(-1).rate)} rows/s`);
  }
  const parse = await probe('parse', job);
  ctx.log(`  parse only: ${fmt(parse.rate)} rows/s`);
  const insert = await probe('insert', job);
  ctx.log(`  insert only: ${fmt(insert.rate)} rows/s`);
  const s = summarize(full.map((r) => r.rate));
  const pass = s.median >= 150_000;
  const lines = [
    `startRun over ${fmt(ROWS)} rows (hash, ingest, ledger, total set): ${fmtSummary(s, 0, ' rows/s')}, ` +
      `${fmtSummary(summarize(full.map((r) => r.seconds)), 1, ' s')}`,
    `where the time goes (one run each): parse + validate + row mapping on one thread without the ledger ${fmt(parse.rate)} rows/s (${fmt(parse.seconds, 1)} s); ` +
      `Ledger.insertColumns alone, same 1,000-row batches ${fmt(insert.rate)} rows/s (${fmt(insert.seconds, 1)} s)`,
  ];
  if (!pass || process.env.BENCH_PROFILE === '1') {
    const dir = path.join(OUT, 'prof-ingest');
    rmSync(dir, { recursive: true, force: true });
    await probe('start', job, ['--cpu-prof', '--cpu-prof-dir', dir]);
    // One profile per thread, named CPU.<date>.<time>.<pid>.<thread id>.<seq>: thread 0 is the main thread
    // (the ledger's inserts), the other the ingest worker (reading, validating, rendering).
    for (const file of readdirSync(dir).sort()) {
      const thread = file.split('.')[4] === '0' ? 'main thread' : 'ingest thread';
      const prof = summarizeProfile(path.join(dir, file), 12);
      lines.push(
        `CPU profile of startRun, ${thread} (self time, ${fmt(prof.totalMs)} ms sampled) by function: ` +
          prof.functions.slice(0, 8).map((f) => `${f.what} ${f.pct} %`).join(', '),
      );
    }
  }
  return {
    id: 'ingest',
    title: '5. Ingest',
    target: '≥ 150,000 rows/s into the ledger from a 1M-row CSV',
    pass,
    figure: `${fmt(s.median)} rows/s`,
    lines,
    data: { full, parse, insert },
  };
}
