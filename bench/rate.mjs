/**
 * Target 3 — rate accuracy, measured at the simulator (its accept timestamps):
 * - ceilings of 50, 500 and 2,000 msg/s: the average is within 2 % of the ceiling and no sliding
 *   one-second window holds more than the ceiling + 1 %;
 * - 1,000 long codes at 1 msg/s each (run ceiling out of the way): the sustained aggregate is within 2 %
 *   of 1,000 msg/s and no sender's two consecutive messages are closer than 990 ms.
 */
import { balancedCsv, jobFile, longCodes, recipientsCsv } from './lib/gen.mjs';
import { freshDb, removeDb } from './lib/ledger-files.mjs';
import { bulktext, expectExit } from './lib/proc.mjs';
import { fmt, fmtSummary, summarize } from './lib/stats.mjs';

const CEILINGS = [
  { ceiling: 50, seconds: 20 },
  { ceiling: 500, seconds: 10 },
  { ceiling: 2000, seconds: 10 },
];
const SENDERS = 1000;
const PER_SENDER = 15;

async function send(ctx, job, tag) {
  const db = freshDb(`rate-${tag}`);
  await ctx.sim.reset();
  expectExit(await bulktext(['run', job, '--db', db, '--quiet'], { sim: ctx.sim }), [0], `bulktext run (${tag})`);
  removeDb(db);
}

async function ceilingRun(ctx, { ceiling, seconds }) {
  const rows = ceiling * seconds;
  const csv = await recipientsCsv(rows, 11);
  const job = jobFile(`rate-${ceiling}`, {
    source: csv,
    from: ['+12125550001'],
    rate: { messages_per_second: ceiling, per_sender_per_second: 1_000_000, max_concurrent: 64 },
  });
  await send(ctx, job, String(ceiling));
  const w = await ctx.sim.window(1000);
  if (w.accepted !== rows) throw new Error(`rate ${ceiling}: accepted ${w.accepted} of ${rows}`);
  return { rate: w.rate, maxWindow: w.maxWindow };
}

async function sendersRun(ctx) {
  const senders = longCodes(SENDERS);
  const csv = await balancedCsv(senders, PER_SENDER);
  const job = jobFile('rate-senders', {
    source: csv,
    from: senders,
    // The run ceiling out of the way: the per-sender gates alone must hold each sender and add up.
    rate: { messages_per_second: 1_000_000, per_sender_per_second: 1, max_concurrent: 64 },
  });
  await send(ctx, job, 'senders');
  const gaps = await ctx.sim.senderGaps();
  const buckets = await ctx.sim.buckets();
  // Sustained aggregate: whole seconds after the first (every sender's first message goes at once) and
  // before the last (senders finish at slightly different times).
  const steady = buckets.slice(1, -1);
  const aggregate = steady.reduce((a, b) => a + b, 0) / steady.length;
  if (process.env.BENCH_DEBUG) console.log(JSON.stringify(gaps));
  return { aggregate, minGapMs: gaps.minGapMs, senders: gaps.senders, seconds: steady.length, gapsUnder1000: gaps.under1000 };
}

export async function rate(ctx) {
  const lines = [];
  let pass = true;
  const figures = [];
  const data = {};
  // BENCH_RATE_PARTS=50,senders runs only those parts (for working on one of them).
  const parts = process.env.BENCH_RATE_PARTS?.split(',');
  for (const c of CEILINGS.filter((x) => parts === undefined || parts.includes(String(x.ceiling)))) {
    const runs = [];
    for (let i = 0; i < ctx.reps; i++) {
      runs.push(await ceilingRun(ctx, c));
      ctx.log(`  ceiling ${c.ceiling}: ${fmt(runs.at(-1).rate, 1)} msg/s, fullest 1-s window ${runs.at(-1).maxWindow}`);
    }
    const avg = summarize(runs.map((r) => r.rate));
    const win = summarize(runs.map((r) => r.maxWindow));
    const worstDev = Math.max(...runs.map((r) => Math.abs(r.rate - c.ceiling) / c.ceiling));
    const ok = worstDev <= 0.02 && win.max <= c.ceiling * 1.01;
    pass &&= ok;
    figures.push(`${c.ceiling}/s → ${fmt(avg.median, 1)}, max window ${win.max}`);
    lines.push(
      `ceiling ${fmt(c.ceiling)} msg/s (${fmt(c.ceiling * c.seconds)} rows): average ${fmtSummary(avg, 1, ' msg/s')} ` +
        `(worst ${fmt(worstDev * 100, 2)} % off); fullest sliding 1-s window ${fmtSummary(win)} (limit ${fmt(Math.floor(c.ceiling * 1.01))}) — ${ok ? 'PASS' : 'MISS'}`,
    );
    data[c.ceiling] = runs;
  }
  const runs = [];
  for (let i = 0; i < (parts === undefined || parts.includes('senders') ? ctx.reps : 0); i++) {
    runs.push(await sendersRun(ctx));
    ctx.log(`  ${SENDERS} senders: aggregate ${fmt(runs.at(-1).aggregate, 1)} msg/s, min gap ${fmt(runs.at(-1).minGapMs, 1)} ms`);
  }
  const agg = summarize(runs.map((r) => r.aggregate));
  const gap = summarize(runs.map((r) => r.minGapMs));
  const worstAgg = Math.max(...runs.map((r) => Math.abs(r.aggregate - 1000) / 1000));
  const ok = worstAgg <= 0.02 && gap.min >= 990;
  pass &&= ok;
  figures.push(`1,000 senders → ${fmt(agg.median, 1)}/s, min gap ${fmt(gap.min, 1)} ms`);
  lines.push(
    `${fmt(SENDERS)} senders × 1 msg/s (${fmt(SENDERS * PER_SENDER)} rows): sustained aggregate ${fmtSummary(agg, 1, ' msg/s')} ` +
      `(worst ${fmt(worstAgg * 100, 2)} % off); closest consecutive messages of one sender ${fmtSummary(gap, 1, ' ms')} — ${ok ? 'PASS' : 'MISS'}`,
  );
  data.senders = runs;
  return {
    id: 'rate',
    title: '3. Rate accuracy',
    target: 'average within 2 %, no 1-s window over ceiling + 1 %; 1,000 senders: aggregate within 2 %, gaps ≥ 990 ms',
    pass,
    figure: figures.join('; '),
    lines,
    data,
  };
}
