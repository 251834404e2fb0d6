/**
 * Target 6 — resume: a 1,000,000-row run with 999,000 rows done; `bulktext resume` must send its first
 * message within 1 s of starting. Measured at the simulator: its first accept timestamp minus the moment
 * the bench spawned the process (node's own start-up included).
 */
import { copyFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { jobFile, recipientsCsv } from './lib/gen.mjs';
import { freshDb, removeDb } from './lib/ledger-files.mjs';
import { bulktext, expectExit, nodeScript } from './lib/proc.mjs';
import { fmt, fmtSummary, summarize } from './lib/stats.mjs';

const SETUP = fileURLToPath(new URL('./resume-setup.mjs', import.meta.url));

export async function resume(ctx) {
  const csv = await recipientsCsv(1_000_000);
  const job = jobFile('resume-1m', { source: csv, from: ['+12125550001'], rate: { messages_per_second: 1_000_000, per_sender_per_second: 1_000_000, max_concurrent: 64 } });
  const pristine = freshDb('resume-pristine');
  const setupStart = performance.now();
  const setup = expectExit(await nodeScript(SETUP, [job, pristine]), [0], 'resume setup');
  const { runId, pending } = JSON.parse(setup.stdout.trim());
  if (pending !== 1000) throw new Error(`resume setup left ${pending} rows pending, expected 1000`);
  if (existsSync(`${pristine}-wal`)) throw new Error('resume setup left a WAL behind; the copy would be incomplete');
  ctx.log(`  ledger with 999,000 of 1,000,000 rows sent built in ${fmt((performance.now() - setupStart) / 1000, 1)} s`);
  const runs = [];
  for (let i = 0; i < ctx.reps; i++) {
    const db = freshDb('resume');
    copyFileSync(pristine, db);
    await ctx.sim.reset();
    const r = expectExit(await bulktext(['resume', runId, '--db', db, '--quiet'], { sim: ctx.sim }), [0], 'bulktext resume');
    const s = await ctx.sim.summary();
    removeDb(db);
    if (s.accepted !== 1000) throw new Error(`resume sent ${s.accepted} messages, expected 1000`);
    runs.push({ firstSendSeconds: (s.firstAt - r.spawnedAt) / 1000, wallSeconds: r.wallMs / 1000 });
    ctx.log(`  first send ${fmt(runs.at(-1).firstSendSeconds, 3)} s after spawn`);
  }
  removeDb(pristine);
  const first = summarize(runs.map((r) => r.firstSendSeconds));
  const wall = summarize(runs.map((r) => r.wallSeconds));
  return {
    id: 'resume',
    title: '6. Resume',
    target: 'first message within 1 s of starting `resume` (1M rows, 999,000 done)',
    pass: first.max <= 1,
    figure: `${fmt(first.median, 2)} s (worst ${fmt(first.max, 2)} s)`,
    lines: [
      `process spawn → first accept at the simulator: ${fmtSummary(first, 3, ' s')}`,
      `whole resume (1,000 rows sent, process exit): ${fmtSummary(wall, 2, ' s')}`,
    ],
    data: { runs },
  };
}
