/**
 * Target 1 — throughput: a 100,000-row campaign with limits far above reach, against a bare undici
 * loop (same simulator process, same 64 connections, no ledger, no limiter). Runs alternate
 * (bulktext, undici, bulktext, …) so drift on a shared machine hits both alike; the figure is the
 * ratio of the medians of the send rates measured at the simulator.
 */
import { fileURLToPath } from 'node:url';
import { CONCURRENCY, FROM, runCampaign } from './lib/campaign.mjs';
import { recipientsCsv } from './lib/gen.mjs';
import { expectExit, nodeScript } from './lib/proc.mjs';
import { fmt, fmtSummary, summarize } from './lib/stats.mjs';

const UNDICI = fileURLToPath(new URL('./baseline-undici.mjs', import.meta.url));
export const ROWS = 100_000;

export async function baselineRun(ctx, script, tag) {
  const csv = await recipientsCsv(ROWS);
  await ctx.sim.reset();
  const r = expectExit(await nodeScript(script, [csv, ctx.sim.url, String(CONCURRENCY), FROM]), [0], tag);
  const w = await ctx.sim.window();
  if (w.accepted !== ROWS) throw new Error(`${tag}: simulator accepted ${w.accepted} of ${ROWS}`);
  return { rate: w.rate, peakMb: r.peakMb, sendSeconds: (w.lastAt - w.firstAt) / 1000, cpuUsPerMessage: (r.cpuMs * 1000) / ROWS };
}

/** bulktext's 100k campaign runs, shared by every benchmark of one invocation (throughput, sdk, memory). */
export async function bulktext100k(ctx) {
  const run = await runCampaign(ctx.sim, ROWS, '100k');
  ctx.shared.campaign100k.push(run);
  return run;
}

export async function throughput(ctx) {
  const reps = ctx.reps;
  const ours = [];
  const bare = [];
  for (let i = 0; i < reps; i++) {
    ours.push(await bulktext100k(ctx));
    ctx.log(`  bulktext ${fmt(ours.at(-1).rate)} msg/s`);
    bare.push(await baselineRun(ctx, UNDICI, 'undici loop'));
    ctx.log(`  undici   ${fmt(bare.at(-1).rate)} msg/s`);
  }
  const o = summarize(ours.map((r) => r.rate));
  const b = summarize(bare.map((r) => r.rate));
  const pairRatios = summarize(ours.map((r, i) => r.rate / bare[i].rate));
  const ratio = o.median / b.median;
  const e2e = summarize(ours.map((r) => r.endToEndRate));
  return {
    id: 'throughput',
    title: '1. Throughput vs a bare undici loop',
    target: '≥ 50 % of the bare undici loop',
    pass: ratio >= 0.5,
    figure: `${fmt(ratio * 100, 0)} % (${fmt(o.median)} vs ${fmt(b.median)} msg/s)`,
    lines: [
      `bulktext send rate: ${fmtSummary(o, 0, ' msg/s')}`,
      `bare undici loop:   ${fmtSummary(b, 0, ' msg/s')}`,
      `ratio of medians ${fmt(ratio * 100, 0)} %; per-pair ratios ${fmtSummary(pairRatios, 2)}`,
      `bulktext end to end (process start, ingest of ${fmt(ROWS)} rows, send, exit): ${fmtSummary(e2e, 0, ' msg/s')}`,
      `CPU per message, whole process (all threads, start-up and reading the CSV included): bulktext ` +
        `${fmtSummary(summarize(ours.map((r) => r.cpuUsPerMessage)), 0, ' µs')}, undici loop ${fmtSummary(summarize(bare.map((r) => r.cpuUsPerMessage)), 0, ' µs')}`,
    ],
    data: { ours, bare },
  };
}
