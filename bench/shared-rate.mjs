/**
 * Issue 14 — limits shared by several `run` processes on ONE ledger, measured at the simulator (its
 * accept timestamps), as rate.mjs measures one process:
 * - account ceilings of 50 and 500 msg/s (the account file's `limits.sms_per_second`) with 1, 2, 4 and 8
 *   `run` processes started together, each sending its own rows from its own number: the fullest sliding
 *   1-s window of all accepts holds ≤ ceiling + 1 % and the aggregate average (first to last accept) is
 *   within 2 % of the ceiling;
 * - 1,000 senders declared at 1 msg/s each, split over 2 processes (500 each, account limit out of the
 *   way): the sustained aggregate is within 2 % of 1,000 msg/s and no sender's two consecutive messages
 *   are closer than 990 ms;
 * - the single-process throughput with an account file (shared limits on) against the same run without
 *   one, in interleaved pairs: ≥ 90 %.
 * Each ceiling also runs a reference (one process, no account file, the job's own rate at the ceiling),
 * interleaved, so a loaded machine's shortfall can be told from the sharing's.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { FROM, runCampaign } from './lib/campaign.mjs';
import { balancedCsv, jobFile, longCodes, OUT, recipientsCsv } from './lib/gen.mjs';
import { freshDb, removeDb } from './lib/ledger-files.mjs';
import { bulktext, expectExit } from './lib/proc.mjs';
import { fmt, fmtSummary, summarize } from './lib/stats.mjs';
import { ROWS } from './throughput.mjs';

const CEILINGS = [
  { ceiling: 50, seconds: 20 },
  { ceiling: 500, seconds: 10 },
];
/** BENCH_SHARED_PROCESSES=4 runs only those process counts (for comparing builds at one count). */
const PROCESSES = process.env.BENCH_SHARED_PROCESSES?.split(',').map(Number) ?? [1, 2, 4, 8];
const SENDERS = 1000;
const PER_SENDER = 15;
/** Far above anything this machine reaches: the limit under test is the only one that binds. */
const OUT_OF_REACH = 1_000_000;

function accountFile(name, yaml) {
  const file = path.join(OUT, `${name}.account.yaml`);
  writeFileSync(file, yaml);
  return file;
}

/** One sender per process, far above reach: only the account's limit is shared and binds. */
const processSender = (i) => `+1212555${String(7000 + i)}`;

/** Starts `jobs.length` `run` processes on one ledger at once; resolves when all have exited 0. */
async function runTogether(ctx, jobs, account, tag) {
  const db = freshDb(`shared-${tag}`);
  await ctx.sim.reset();
  const results = await Promise.all(
    jobs.map((job, i) => bulktext(['run', job, '--db', db, '--account', account, '--quiet'], { sim: ctx.sim }).then((r) => expectExit(r, [0], `bulktext run ${tag} #${i + 1}`))),
  );
  removeDb(db);
  return results;
}

async function ceilingRun(ctx, { ceiling, seconds }, processes) {
  const rows = Math.round((ceiling * seconds) / processes);
  const account = accountFile(
    `shared-${ceiling}`,
    `limits:\n  sms_per_second: ${ceiling}\nsenders:\n${Array.from({ length: Math.max(...PROCESSES) }, (_, i) => `  - id: "${processSender(i)}"\n    per_second: ${OUT_OF_REACH}\n`).join('')}`,
  );
  const jobs = [];
  for (let i = 0; i < processes; i++) {
    // A different seed per process: each process texts its own recipients.
    const csv = await recipientsCsv(rows, 100 + i);
    // No rate.messages_per_second: the account's limit is the ceiling; 64 in flight as everywhere else.
    jobs.push(jobFile(`shared-${ceiling}-p${i}`, { source: csv, from: [processSender(i)], rate: { max_concurrent: 64 } }));
  }
  await runTogether(ctx, jobs, account, `${ceiling}x${processes}`);
  const w = await ctx.sim.window(1000);
  if (process.env.BENCH_DEBUG) console.log(JSON.stringify(await ctx.sim.senderTimeline()));
  if (w.accepted !== rows * processes) throw new Error(`shared ${ceiling}×${processes}: accepted ${w.accepted} of ${rows * processes}`);
  return { rate: w.rate, maxWindow: w.maxWindow };
}

/**
 * The reference for a loaded machine: the same rows from one process without an account file, paced by
 * the job's own rate.messages_per_second = the ceiling (as bench/rate.mjs runs it), interleaved with the
 * shared runs. What it falls short of the ceiling is the machine, not the sharing.
 */
async function referenceRun(ctx, { ceiling, seconds }) {
  const rows = ceiling * seconds;
  const csv = await recipientsCsv(rows, 100);
  const job = jobFile(`shared-${ceiling}-reference`, { source: csv, from: [processSender(0)], rate: { messages_per_second: ceiling, per_sender_per_second: OUT_OF_REACH, max_concurrent: 64 } });
  const db = freshDb(`shared-${ceiling}-reference`);
  await ctx.sim.reset();
  expectExit(await bulktext(['run', job, '--db', db, '--quiet'], { sim: ctx.sim }), [0], `bulktext run (reference ${ceiling})`);
  removeDb(db);
  const w = await ctx.sim.window(1000);
  if (w.accepted !== rows) throw new Error(`reference ${ceiling}: accepted ${w.accepted} of ${rows}`);
  return { rate: w.rate, maxWindow: w.maxWindow };
}

async function sendersRun(ctx) {
  const senders = longCodes(SENDERS);
  const account = accountFile(
    'shared-senders',
    `limits:\n  sms_per_second: ${OUT_OF_REACH}\nsenders:\n${senders.map((s) => `  - id: "${s}"\n    per_second: 1\n`).join('')}`,
  );
  const halves = [senders.slice(0, SENDERS / 2), senders.slice(SENDERS / 2)];
  const jobs = [];
  for (const [i, half] of halves.entries()) {
    const csv = await balancedCsv(half, PER_SENDER, 7 + i);
    jobs.push(jobFile(`shared-senders-p${i}`, { source: csv, from: half, rate: { max_concurrent: 64 } }));
  }
  await runTogether(ctx, jobs, account, 'senders');
  const gaps = await ctx.sim.senderGaps();
  const buckets = await ctx.sim.buckets();
  // Sustained aggregate: whole seconds after the first (every sender's first message goes at once) and
  // before the last (senders finish at slightly different times), as in rate.mjs.
  const steady = buckets.slice(1, -1);
  const aggregate = steady.reduce((a, b) => a + b, 0) / steady.length;
  return { aggregate, minGapMs: gaps.minGapMs, senders: gaps.senders, seconds: steady.length };
}

/** bench/lib/campaign.mjs's 100k run, with an account file whose limits are all out of reach. */
function throughputAccount() {
  return accountFile('shared-throughput', `limits:\n  sms_per_second: ${OUT_OF_REACH}\nsenders:\n  - id: "${FROM}"\n    per_second: ${OUT_OF_REACH}\n`);
}

export async function sharedRate(ctx) {
  const lines = [];
  const figures = [];
  const data = { ceilings: {}, senders: [], throughput: [] };
  let pass = true;
  // BENCH_SHARED_PARTS=50,500,senders,throughput runs only those parts (for working on one of them).
  const parts = process.env.BENCH_SHARED_PARTS?.split(',');
  const wanted = (p) => parts === undefined || parts.includes(p);

  for (const c of CEILINGS.filter((x) => wanted(String(x.ceiling)))) {
    const perCeiling = [];
    const byCount = new Map(PROCESSES.map((n) => [n, []]));
    const reference = [];
    // Repetitions outermost, so the machine's drift hits every process count and the reference alike.
    for (let i = 0; i < ctx.reps; i++) {
      reference.push(await referenceRun(ctx, c));
      ctx.log(`  ceiling ${c.ceiling}, reference (1 process, no account file): ${fmt(reference.at(-1).rate, 1)} msg/s, fullest 1-s window ${reference.at(-1).maxWindow}`);
      for (const n of PROCESSES) {
        byCount.get(n).push(await ceilingRun(ctx, c, n));
        ctx.log(`  ceiling ${c.ceiling}, ${n} process(es): ${fmt(byCount.get(n).at(-1).rate, 1)} msg/s, fullest 1-s window ${byCount.get(n).at(-1).maxWindow}`);
      }
    }
    const ref = summarize(reference.map((r) => r.rate));
    lines.push(
      `ceiling ${fmt(c.ceiling)} msg/s, reference — one process without an account file, the same rows (not a target): average ${fmtSummary(ref, 1, ' msg/s')}; ` +
        `fullest sliding 1-s window ${fmtSummary(summarize(reference.map((r) => r.maxWindow)))}`,
    );
    data.ceilings[`${c.ceiling}-reference`] = reference;
    for (const n of PROCESSES) {
      const runs = byCount.get(n);
      const avg = summarize(runs.map((r) => r.rate));
      const win = summarize(runs.map((r) => r.maxWindow));
      const worstDev = Math.max(...runs.map((r) => Math.abs(r.rate - c.ceiling) / c.ceiling));
      const ok = worstDev <= 0.02 && win.max <= c.ceiling * 1.01;
      pass &&= ok;
      perCeiling.push(`${n}p ${fmt(avg.median, 1)}/${win.max}`);
      lines.push(
        `ceiling ${fmt(c.ceiling)} msg/s, ${n} process${n > 1 ? 'es' : ''} on one ledger (${fmt(c.ceiling * c.seconds)} rows in all): average ${fmtSummary(avg, 1, ' msg/s')} ` +
          `(worst ${fmt(worstDev * 100, 2)} % off; ${fmt((avg.median / ref.median) * 100, 1)} % of the reference); fullest sliding 1-s window ${fmtSummary(win)} (limit ${fmt(Math.floor(c.ceiling * 1.01))}) — ${ok ? 'PASS' : 'MISS'}`,
      );
      data.ceilings[`${c.ceiling}x${n}`] = runs;
    }
    figures.push(`${c.ceiling}/s: ${perCeiling.join(', ')}`);
  }

  if (wanted('senders')) {
    const runs = [];
    for (let i = 0; i < ctx.reps; i++) {
      runs.push(await sendersRun(ctx));
      ctx.log(`  ${SENDERS} senders over 2 processes: aggregate ${fmt(runs.at(-1).aggregate, 1)} msg/s, min gap ${fmt(runs.at(-1).minGapMs, 1)} ms`);
    }
    const agg = summarize(runs.map((r) => r.aggregate));
    const gap = summarize(runs.map((r) => r.minGapMs));
    const worstAgg = Math.max(...runs.map((r) => Math.abs(r.aggregate - SENDERS) / SENDERS));
    const ok = worstAgg <= 0.02 && gap.min >= 990;
    pass &&= ok;
    figures.push(`1,000 senders/2p → ${fmt(agg.median, 1)}/s, min gap ${fmt(gap.min, 1)} ms`);
    lines.push(
      `${fmt(SENDERS)} senders × 1 msg/s over 2 processes (500 senders each, ${fmt(SENDERS * PER_SENDER)} rows): sustained aggregate ${fmtSummary(agg, 1, ' msg/s')} ` +
        `(worst ${fmt(worstAgg * 100, 2)} % off); closest consecutive messages of one sender ${fmtSummary(gap, 1, ' ms')} — ${ok ? 'PASS' : 'MISS'}`,
    );
    data.senders = runs;
  }

  if (wanted('throughput')) {
    const account = throughputAccount();
    const on = [];
    const off = [];
    for (let i = 0; i < ctx.reps; i++) {
      on.push(await runCampaign(ctx.sim, ROWS, 'shared-on', ['--account', account]));
      ctx.log(`  with an account file    ${fmt(on.at(-1).rate)} msg/s`);
      off.push(await runCampaign(ctx.sim, ROWS, 'shared-off'));
      ctx.log(`  without an account file ${fmt(off.at(-1).rate)} msg/s`);
    }
    const a = summarize(on.map((r) => r.rate));
    const b = summarize(off.map((r) => r.rate));
    const pairs = summarize(on.map((r, i) => r.rate / off[i].rate));
    const ratio = a.median / b.median;
    const ok = ratio >= 0.9;
    pass &&= ok;
    figures.push(`throughput with an account file ${fmt(ratio * 100, 0)} % of without`);
    lines.push(
      `one process, ${fmt(ROWS)} rows, limits out of reach: with an account file ${fmtSummary(a, 0, ' msg/s')}; without ${fmtSummary(b, 0, ' msg/s')}; ` +
        `ratio of medians ${fmt(ratio * 100, 0)} %, per-pair ratios ${fmtSummary(pairs, 2)} (target ≥ 90 %) — ${ok ? 'PASS' : 'MISS'}`,
    );
    data.throughput = { on, off };
  }

  return {
    id: 'shared-rate',
    title: '8. Limits shared across processes (issue 14)',
    target: 'every process count: fullest 1-s window ≤ ceiling + 1 %, average within 2 %; 1,000 senders over 2 processes: aggregate within 2 %, gaps ≥ 990 ms; account file on ≥ 90 % of off',
    pass,
    figure: figures.join('; '),
    lines,
    data,
  };
}
