/**
 * Target 2 — against the usual alternative: the same 100,000-row campaign sent by a minimal script
 * with the official `telnyx` SDK and `p-limit` (baseline-sdk.mjs), same simulator, same concurrency.
 */
import { fileURLToPath } from 'node:url';
import { baselineRun, bulktext100k } from './throughput.mjs';
import { fmt, fmtSummary, summarize } from './lib/stats.mjs';

const SDK = fileURLToPath(new URL('./baseline-sdk.mjs', import.meta.url));

export async function sdk(ctx) {
  const theirs = [];
  for (let i = 0; i < ctx.reps; i++) {
    // Reuse bulktext's runs from the throughput benchmark when it ran in this invocation.
    if (ctx.shared.campaign100k.length <= i) {
      await bulktext100k(ctx);
      ctx.log(`  bulktext ${fmt(ctx.shared.campaign100k.at(-1).rate)} msg/s`);
    }
    theirs.push(await baselineRun(ctx, SDK, 'telnyx SDK + p-limit'));
    ctx.log(`  sdk      ${fmt(theirs.at(-1).rate)} msg/s`);
  }
  const ours = ctx.shared.campaign100k;
  const o = summarize(ours.map((r) => r.rate));
  const t = summarize(theirs.map((r) => r.rate));
  const ratio = o.median / t.median;
  return {
    id: 'sdk',
    title: '2. Against the telnyx SDK + p-limit',
    target: '≥ 2× the SDK script',
    pass: ratio >= 2,
    figure: `${fmt(ratio, 1)}× (${fmt(o.median)} vs ${fmt(t.median)} msg/s)`,
    lines: [
      `bulktext send rate:       ${fmtSummary(o, 0, ' msg/s')}`,
      `telnyx SDK + p-limit:     ${fmtSummary(t, 0, ' msg/s')} (peak RSS ${fmtSummary(summarize(theirs.map((r) => r.peakMb)), 0, ' MB')}, no ledger)`,
      `ratio of medians ${fmt(ratio, 2)}×`,
    ],
    data: { theirs },
  };
}
