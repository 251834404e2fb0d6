/**
 * The benchmark suite: `npm run bench` (all), or `node bench/run-all.mjs throughput rate …` (some).
 * Every benchmark drives the built CLI (dist/, bin/bulktext.js) or dist's modules against the Telnyx
 * simulator running in its own process on 127.0.0.1. Each benchmark's latest result is kept in a
 * committed file, bench/results/<name>.json (with its date, duration and machine; the raw data of the
 * runs goes to bench/out/results/, git-ignored), and BENCHMARKS.md is rebuilt from all of them — so
 * running one benchmark refreshes its section and keeps every other one.
 *
 * Adding a benchmark: one line in `benchmarks` below (its name, and the module exporting its function);
 * the function returns { id, title, target, pass, figure, lines, data }.
 *
 * `node bench/run-all.mjs --report` rebuilds BENCHMARKS.md from bench/results/ without running anything.
 *
 * Environment: BENCH_REPS (default 3) repetitions per measurement; BENCH_REPS_1M (default 1) for the
 * 1,000,000-row campaign of the memory benchmark.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OUT } from './lib/gen.mjs';
import { machine, RESULTS, writeReport } from './lib/report.mjs';
import { startSimProcess } from './lib/sim.mjs';

/** In the order of BENCHMARKS.md's table. */
const benchmarks = {
  throughput: () => import('./throughput.mjs').then((m) => m.throughput),
  sdk: () => import('./sdk.mjs').then((m) => m.sdk),
  rate: () => import('./rate.mjs').then((m) => m.rate),
  memory: () => import('./memory.mjs').then((m) => m.memory),
  ingest: () => import('./ingest.mjs').then((m) => m.ingest),
  resume: () => import('./resume.mjs').then((m) => m.resume),
  crash: () => import('./crash.mjs').then((m) => m.crash),
  'shared-rate': () => import('./shared-rate.mjs').then((m) => m.sharedRate),
  scale10m: () => import('./scale10m.mjs').then((m) => m.scale10m),
  totals: () => import('./totals.mjs').then((m) => m.totals),
  report: () => import('./report.mjs').then((m) => m.report),
  sandbox: () => import('./sandbox.mjs').then((m) => m.sandbox),
  'scheduler-failover': () => import('./scheduler-failover.mjs').then((m) => m.schedulerFailover),
};

// `--report`: rebuild BENCHMARKS.md from bench/results/ without running anything.
if (process.argv.includes('--report')) {
  writeReport(Object.keys(benchmarks));
  process.exit(0);
}
const asked = process.argv.slice(2);
const unknown = asked.filter((a) => !(a in benchmarks));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(benchmarks).join(', ')}`);
  process.exit(2);
}
const names = asked.length > 0 ? asked : Object.keys(benchmarks);
const rawDir = path.join(OUT, 'results');
mkdirSync(rawDir, { recursive: true });
mkdirSync(RESULTS, { recursive: true });

const sim = await startSimProcess();
const ctx = {
  sim,
  reps: Number(process.env.BENCH_REPS ?? 3),
  reps1M: Number(process.env.BENCH_REPS_1M ?? 1),
  shared: { campaign100k: [] },
  log: (s) => console.log(s),
};
const started = Date.now();
let failed = false;
try {
  for (const name of names) {
    const t0 = Date.now();
    // The machine's load when the benchmark starts: other work on a shared machine moves the figures.
    const load = os.loadavg()[0];
    console.log(`== ${name}`);
    let result;
    try {
      result = await (await benchmarks[name]())(ctx);
    } catch (err) {
      failed = true;
      console.error(`${name} failed: ${err.stack ?? err}`);
      result = { id: name, title: name, pass: false, error: String(err.message ?? err), lines: [], figure: 'error' };
    }
    const { data, ...kept } = result;
    const record = { ...kept, id: name, at: new Date().toISOString(), seconds: Math.round((Date.now() - t0) / 1000), machine: machine(), loadAverage: Math.round(load * 100) / 100 };
    writeFileSync(path.join(rawDir, `${name}.json`), `${JSON.stringify({ ...record, data }, null, 2)}\n`);
    writeFileSync(path.join(RESULTS, `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
    console.log(`${record.pass ? 'PASS' : 'MISS'} ${record.title}: ${record.figure} (${record.seconds} s)`);
    for (const line of record.lines) console.log(`  ${line}`);
  }
} finally {
  await sim.close();
}
writeReport(Object.keys(benchmarks));
console.log(`done in ${Math.round((Date.now() - started) / 1000)} s; BENCHMARKS.md rebuilt from bench/results/`);
process.exitCode = failed ? 1 : 0;
