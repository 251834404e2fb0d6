/**
 * Issue 17 target 7 — the sandbox is not a toy: a 100,000-row `run --sandbox` (the simulator in a worker
 * thread, every receipt applied to the ledger) peaks at ≤ 300 MB RSS and sends at ≥ 50 % of the rate of
 * the same run against the simulator in its own process. Interleaved pairs, so the machine's load falls
 * on both alike. The send rate of either is read back from its ledger (`report --format json`): sent rows
 * over the time from the first to the last accept.
 */
import { jobFile, recipientsCsv } from './lib/gen.mjs';
import { freshDb, removeDb } from './lib/ledger-files.mjs';
import { bulktext, expectExit } from './lib/proc.mjs';
import { fmt, fmtSummary, summarize } from './lib/stats.mjs';

const ROWS = 100_000;
/** Far above reach (the sandbox's simulator allows twice a job's rates, at most 1,000,000). */
const RATE = { messages_per_second: 100_000, per_sender_per_second: 100_000, max_concurrent: 64 };

async function oneRun(ctx, job, sandbox) {
  const db = freshDb(sandbox ? 'sandbox-run' : 'sandbox-baseline');
  await ctx.sim.reset();
  const args = ['run', job, '--db', db, '--quiet', '--json', ...(sandbox ? ['--sandbox'] : [])];
  const r = expectExit(await bulktext(args, sandbox ? {} : { sim: ctx.sim }), [0], `bulktext run${sandbox ? ' --sandbox' : ''}`);
  const status = JSON.parse(r.stdout.trim().split('\n').pop());
  const report = expectExit(await bulktext(['report', status.run_id, '--db', db, '--format', 'json']), [0], 'bulktext report');
  removeDb(db);
  const rows = JSON.parse(report.stdout);
  const sentAt = rows.map((row) => Date.parse(row.sent_at)).filter(Number.isFinite);
  const first = Math.min(...sentAt);
  const last = Math.max(...sentAt);
  const delivered = rows.filter((row) => row.delivery_status === 'delivered').length;
  if (status.counts.sent !== ROWS) throw new Error(`${sandbox ? 'sandbox' : 'baseline'} run sent ${status.counts.sent} of ${ROWS}`);
  if (sandbox && delivered !== ROWS) throw new Error(`sandbox run ended with ${delivered} of ${ROWS} rows delivered`);
  return { rate: ((sentAt.length - 1) * 1000) / (last - first), wallSeconds: r.wallMs / 1000, peakMb: r.peakMb, delivered };
}

export async function sandbox(ctx) {
  const csv = await recipientsCsv(ROWS);
  const job = jobFile('sandbox-100k', { source: csv, from: ['+12125550001'], rate: RATE });
  const pairs = [];
  for (let i = 0; i < ctx.reps; i++) {
    const inSandbox = await oneRun(ctx, job, true);
    const baseline = await oneRun(ctx, job, false);
    pairs.push({ sandbox: inSandbox, baseline, ratio: inSandbox.rate / baseline.rate });
    ctx.log(
      `  sandbox ${fmt(inSandbox.rate)} msg/s, ${fmt(inSandbox.peakMb)} MB, ${fmt(inSandbox.wallSeconds)} s in all (${fmt(inSandbox.delivered)} delivered); ` +
        `own-process simulator ${fmt(baseline.rate)} msg/s, ${fmt(baseline.peakMb)} MB, ${fmt(baseline.wallSeconds)} s; ratio ${fmt(pairs.at(-1).ratio, 2)}`,
    );
  }
  const ratio = summarize(pairs.map((p) => p.ratio));
  const peak = summarize(pairs.map((p) => p.sandbox.peakMb));
  return {
    id: 'sandbox',
    title: '12. The sandbox (issue 17 target 7)',
    target: '100k-row `run --sandbox` ≤ 300 MB peak RSS and ≥ 50 % of the msg/s of the same run against the simulator in its own process',
    pass: peak.max <= 300 && ratio.min >= 0.5,
    figure: `${fmt(ratio.median * 100)} % of the msg/s (worst ${fmt(ratio.min * 100)} %), peak RSS ${fmt(peak.max)} MB`,
    lines: [
      `run --sandbox: ${fmtSummary(summarize(pairs.map((p) => p.sandbox.rate)), 0, ' msg/s')}; peak RSS ${fmtSummary(peak, 0, ' MB')}; ` +
        `process start to exit, receipts included, ${fmtSummary(summarize(pairs.map((p) => p.sandbox.wallSeconds)), 0, ' s')}; every row delivered`,
      `run to the simulator in its own process (receipts off): ${fmtSummary(summarize(pairs.map((p) => p.baseline.rate)), 0, ' msg/s')}; ` +
        `peak RSS ${fmtSummary(summarize(pairs.map((p) => p.baseline.peakMb)), 0, ' MB')}`,
      `ratio per interleaved pair: ${fmtSummary(ratio, 2)}`,
    ],
    data: { pairs },
  };
}
