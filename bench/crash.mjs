/**
 * Target 7 — crash safety under load: 20 SIGKILLs at seeded random moments in 5,000-row runs at
 * 1,000 msg/s, each followed by `bulktext resume` to completion. Checked against the simulator's
 * per-recipient accept counts and the ledger:
 * - nobody texted twice (no recipient accepted more than once; every `sent` row accepted exactly once);
 * - nothing lost (sent + unknown = the sendable rows; nothing left pending or sending);
 * - unknown rows (in flight at the kill, never resent) ≤ max_concurrent for each kill.
 */
import { Ledger } from '../dist/ledger/ledger.js';
import { jobFile, mulberry32, recipientsCsv } from './lib/gen.mjs';
import { freshDb, removeDb } from './lib/ledger-files.mjs';
import { bulktext, expectExit } from './lib/proc.mjs';
import { fmt, fmtSummary, summarize } from './lib/stats.mjs';
import { messageStoreOf } from '../dist/ledger/message-store.js';
import { runStoreOf } from '../dist/ledger/run-store.js';

const KILLS = Number(process.env.BENCH_KILLS ?? 20);
const ROWS = 5000;
const MAX_CONCURRENT = 32;
// Kill moments, uniform over a run's life: start-up and ingest (~0.5–1 s), then ~5 s of sending.
const KILL_FROM_MS = 300;
const KILL_TO_MS = 6300;

function ledgerState(db) {
  const ledger = new Ledger(db);
  try {
    const runs = runStoreOf(ledger).listRuns();
    if (runs.length === 0) return undefined;
    const run = runs[0];
    const rows = [...messageStoreOf(ledger).messages(run.rid)].map((m) => ({ to: m.to, status: m.status }));
    return { runId: run.runId, counts: messageStoreOf(ledger).counts(run.rid), rows };
  } finally {
    ledger.close();
  }
}

export async function crash(ctx) {
  const csv = await recipientsCsv(ROWS, 5);
  const job = jobFile('crash', {
    source: csv,
    from: ['+12125550001'],
    rate: { messages_per_second: 1000, per_sender_per_second: 1_000_000, max_concurrent: MAX_CONCURRENT },
  });
  const rand = mulberry32(20240607);
  const trials = [];
  const problems = [];
  for (let k = 0; k < KILLS; k++) {
    const db = freshDb('crash');
    await ctx.sim.reset();
    const killAfter = KILL_FROM_MS + rand() * (KILL_TO_MS - KILL_FROM_MS);
    let timer;
    const first = await bulktext(['run', job, '--db', db, '--quiet'], {
      sim: ctx.sim,
      onSpawn: (child) => {
        timer = setTimeout(() => child.kill('SIGKILL'), killAfter);
      },
    });
    clearTimeout(timer);
    const killed = first.signal === 'SIGKILL';
    const atKill = await ctx.sim.summary();
    const before = ledgerState(db);
    if (before === undefined) {
      // Killed before the run existed: nothing was sent; the operator runs it again.
      expectExit(await bulktext(['run', job, '--db', db, '--quiet'], { sim: ctx.sim }), [0], 'bulktext run (again)');
    } else if (killed) {
      expectExit(await bulktext(['resume', before.runId, '--db', db, '--quiet'], { sim: ctx.sim }), [0, 3], 'bulktext resume');
    } else {
      expectExit(first, [0], 'bulktext run');
    }
    const after = ledgerState(db);
    removeDb(db);
    const counts = await ctx.sim.recipientCounts(after.rows.map((r) => r.to));
    let twice = 0;
    let sentNotAccepted = 0;
    for (const [i, row] of after.rows.entries()) {
      const n = counts[i];
      if (n > 1) twice++;
      if (row.status === 'sent' && n !== 1) sentNotAccepted++;
    }
    const c = after.counts;
    const sendable = c.total - c.skipped;
    const lost = sendable - c.sent - c.unknown;
    const trial = {
      killAfterMs: Math.round(killAfter),
      killed,
      acceptedAtKill: atKill.accepted,
      phase: !killed
        ? 'after the run ended'
        : before === undefined || before.counts.sent + before.counts.sending === 0
          ? 'before sending'
          : atKill.accepted >= sendable
            ? 'after the last send'
            : 'while sending',
      sent: c.sent,
      unknown: c.unknown,
      pending: c.pending + c.sending,
      failed: c.failed,
      twice,
      sentNotAccepted,
      lost,
    };
    trials.push(trial);
    if (twice > 0) problems.push(`kill ${k + 1}: ${twice} recipient(s) texted twice`);
    if (lost !== 0 || trial.pending !== 0 || c.failed !== 0) problems.push(`kill ${k + 1}: ${lost} row(s) lost, ${trial.pending} left pending/sending, ${c.failed} failed`);
    if (sentNotAccepted > 0) problems.push(`kill ${k + 1}: ${sentNotAccepted} row(s) marked sent the simulator never accepted once`);
    if (c.unknown > MAX_CONCURRENT) problems.push(`kill ${k + 1}: ${c.unknown} unknown rows > max_concurrent ${MAX_CONCURRENT}`);
    ctx.log(`  kill ${k + 1} at ${trial.killAfterMs} ms (${trial.phase}, ${trial.acceptedAtKill} accepted): sent ${c.sent}, unknown ${c.unknown}, twice ${twice}, lost ${lost}`);
  }
  const mid = trials.filter((t) => t.phase === 'while sending');
  const unknown = summarize(trials.filter((t) => t.killed).map((t) => t.unknown));
  const pass = problems.length === 0 && mid.length > 0;
  return {
    id: 'crash',
    title: '7. Crash safety under load',
    target: `${KILLS} SIGKILLs in 5,000-row runs at 1,000 msg/s + resume: 0 texted twice, 0 lost, unknown ≤ max_concurrent (${MAX_CONCURRENT})`,
    pass,
    figure: `${trials.reduce((a, t) => a + t.twice, 0)} twice, ${trials.reduce((a, t) => a + t.lost, 0)} lost, unknown ≤ ${unknown.max ?? 0} per kill`,
    lines: [
      `${KILLS} kills at seeded random moments ${KILL_FROM_MS}–${KILL_TO_MS} ms after spawn: ${mid.length} while sending, ` +
        `${trials.filter((t) => t.phase === 'before sending').length} before the first send, ` +
        `${trials.filter((t) => t.phase === 'after the last send' || t.phase === 'after the run ended').length} after the last send`,
      `recipients texted twice: ${trials.reduce((a, t) => a + t.twice, 0)}; rows lost: ${trials.reduce((a, t) => a + t.lost, 0)}; ` +
        `rows marked sent but not accepted exactly once: ${trials.reduce((a, t) => a + t.sentNotAccepted, 0)}`,
      `unknown rows per kill (in flight at the kill, reported, not resent): ${fmtSummary(unknown)} (limit ${MAX_CONCURRENT})`,
      ...(problems.length > 0 ? [`problems: ${problems.join('; ')}`] : []),
    ],
    data: { trials },
  };
}
