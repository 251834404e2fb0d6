/**
 * The benchmark suite: `npm run bench` (all), or `node bench/run-all.mjs throughput rate …` (some).
 * Every benchmark drives the built CLI (dist/, bin/bulktext.js) or dist's modules against the Telnyx
 * simulator running in its own process on 127.0.0.1. Results go to bench/out/results/<id>.json, and
 * BENCHMARKS.md is rewritten from the latest result of every benchmark.
 *
 * Environment: BENCH_REPS (default 3) repetitions per measurement; BENCH_REPS_1M (default 1) for the
 * 1,000,000-row campaign of the memory benchmark.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crash } from './crash.mjs';
import { ingest } from './ingest.mjs';
import { OUT } from './lib/gen.mjs';
import { writeReport } from './lib/report.mjs';
import { startSimProcess } from './lib/sim.mjs';
import { memory } from './memory.mjs';
import { rate } from './rate.mjs';
import { report } from './report.mjs';
import { resume } from './resume.mjs';
import { sandbox } from './sandbox.mjs';
import { sdk } from './sdk.mjs';
import { throughput } from './throughput.mjs';

const all = { throughput, sdk, rate, memory, ingest, resume, crash, report, sandbox };
const asked = process.argv.slice(2);
const unknown = asked.filter((a) => !(a in all));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(all).join(', ')}`);
  process.exit(2);
}
const names = asked.length > 0 ? asked : Object.keys(all);
const resultsDir = path.join(OUT, 'results');
mkdirSync(resultsDir, { recursive: true });

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
    console.log(`== ${name}`);
    let result;
    try {
      result = await all[name](ctx);
    } catch (err) {
      failed = true;
      console.error(`${name} failed: ${err.stack ?? err}`);
      result = { id: name, title: name, pass: false, error: String(err.message ?? err), lines: [], figure: 'error' };
    }
    result.seconds = Math.round((Date.now() - t0) / 1000);
    result.at = new Date().toISOString();
    writeFileSync(path.join(resultsDir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    console.log(`${result.pass ? 'PASS' : 'MISS'} ${result.title}: ${result.figure} (${result.seconds} s)`);
    for (const line of result.lines) console.log(`  ${line}`);
  }
} finally {
  await sim.close();
}
writeReport(resultsDir);
console.log(`done in ${Math.round((Date.now() - started) / 1000)} s; BENCHMARKS.md updated`);
process.exitCode = failed ? 1 : 0;
