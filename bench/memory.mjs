/**
 * Target 4 — memory: peak RSS (VmHWM of bulktext's own process; the simulator runs in another) of a
 * 1,000,000-row campaign, against the 100,000-row one, limits far above reach.
 */
import { runCampaign } from './lib/campaign.mjs';
import { fmt, fmtSummary, summarize } from './lib/stats.mjs';
import { bulktext100k } from './throughput.mjs';

export async function memory(ctx) {
  // The 100k campaign's runs are shared with the throughput and sdk benchmarks of this invocation.
  while (ctx.shared.campaign100k.length < ctx.reps) {
    const r = await bulktext100k(ctx);
    ctx.log(`  100k: peak RSS ${fmt(r.peakMb)} MB`);
  }
  const big = [];
  for (let i = 0; i < ctx.reps1M; i++) {
    big.push(await runCampaign(ctx.sim, 1_000_000, '1m'));
    ctx.log(`  1M: peak RSS ${fmt(big.at(-1).peakMb)} MB, ${fmt(big.at(-1).rate)} msg/s`);
  }
  const small = summarize(ctx.shared.campaign100k.map((r) => r.peakMb));
  const large = summarize(big.map((r) => r.peakMb));
  const ratio = large.max / small.median;
  const pass = large.max <= 250 && ratio <= 1.5;
  return {
    id: 'memory',
    title: '4. Memory',
    target: '1M-row peak RSS ≤ 250 MB and ≤ 1.5× the 100k-row run',
    pass,
    figure: `${fmt(large.max)} MB (${fmt(ratio, 2)}× the 100k run's ${fmt(small.median)} MB)`,
    lines: [
      `100,000 rows: peak RSS ${fmtSummary(small, 0, ' MB')}`,
      `1,000,000 rows: peak RSS ${fmtSummary(large, 0, ' MB')} (n=${ctx.reps1M}: one 1M campaign takes minutes; the worst run is the figure), ` +
        `send rate ${fmtSummary(summarize(big.map((r) => r.rate)), 0, ' msg/s')}, end to end ${fmtSummary(summarize(big.map((r) => r.wallSeconds)), 0, ' s')}`,
      `ratio worst 1M / median 100k: ${fmt(ratio, 2)}×`,
    ],
    data: { big },
  };
}
