/**
 * Issue 15 — failover of the scheduler: two `bulktext schedule` processes on one SQLite ledger, a job firing
 * every second against the simulator; the leader is SIGKILLed 10 times (a fresh standby is started after
 * each kill) and SIGSTOPped (paused, its pid alive) 3 times. Measured from the signal to the standby's
 * "leads (taking over …)" line and to its first slot fired:
 * - a killed leader's pid is gone, which the standby on the same host sees at its next lease attempt;
 * - a paused leader is alive as far as the host knows, so the standby waits for its lease to run out (the
 *   path a leader on another host takes).
 * Checked over the whole benchmark from the ledger: no slot has two runs.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ledger } from '../dist/ledger/ledger.js';
import { runStoreOf } from '../dist/ledger/run-store.js';
import { mulberry32, OUT, recipientsCsv } from './lib/gen.mjs';
import { freshDb, removeDb } from './lib/ledger-files.mjs';
import { bulktext } from './lib/proc.mjs';
import { fmtSummary, summarize } from './lib/stats.mjs';

const KILLS = Number(process.env.BENCH_FAILOVER_KILLS ?? 10);
const PAUSES = Number(process.env.BENCH_FAILOVER_PAUSES ?? 3);
const TARGET_MS = 15_000;

/** A daemon whose stderr lines are stamped as they arrive. */
function daemon(ctx, jobsDir, db) {
  const lines = [];
  let child;
  const done = bulktext(['schedule', '--jobs', jobsDir, '--db', db], {
    sim: ctx.sim,
    onSpawn: (c) => {
      child = c;
      let rest = '';
      c.stderr.on('data', (d) => {
        const parts = (rest + d).split('\n');
        rest = parts.pop();
        for (const text of parts) lines.push({ at: Date.now(), text });
      });
    },
  });
  const find = (re, after = 0) => lines.find((l) => l.at >= after && re.test(l.text));
  return { child, done, lines, find };
}

async function until(what, probe, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function schedulerFailover(ctx) {
  const dir = path.join(OUT, 'failover');
  rmSync(dir, { recursive: true, force: true });
  const jobsDir = path.join(dir, 'jobs');
  mkdirSync(jobsDir, { recursive: true });
  const csv = await recipientsCsv(3, 11);
  writeFileSync(
    path.join(jobsDir, 'pulse.json'),
    JSON.stringify({
      name: 'pulse',
      source: { path: csv, phone_field: 'phone', default_country: 'US' },
      sender: { mode: 'long_code', from: ['+12125550001'] },
      message: { text: 'Hi {{first_name}}' },
      rate: { messages_per_second: 100, per_sender_per_second: 100, max_concurrent: 4 },
      schedule: { cron: '* * * * * *', timezone: 'UTC', catch_up: '30s' },
    }),
  );
  const db = freshDb('failover');
  new Ledger(db).close();
  const started = [];
  const spawn = () => {
    const d = daemon(ctx, jobsDir, db);
    started.push(d);
    return d;
  };
  const trials = [];
  // The signal lands at a seeded random moment of the standby's 2 s lease cycle, not always at the same phase.
  const rand = mulberry32(15);
  try {
    let leader = spawn();
    await until('the first leader', () => leader.find(/ leads/), 60_000);
    for (let k = 0; k < KILLS + PAUSES; k++) {
      const pause = k >= KILLS;
      const standby = spawn();
      await until('a standby', () => standby.find(/ stands by/), 60_000);
      // Let the standby settle into its lease attempts, and the leader fire a slot or two.
      await new Promise((r) => setTimeout(r, 1000 + rand() * 2000));
      const signalledAt = Date.now();
      leader.child.kill(pause ? 'SIGSTOP' : 'SIGKILL');
      const led = await until('the standby to lead', () => standby.find(/ leads \(taking over/, signalledAt), 60_000);
      // Fired, or skipped: a paused leader's run is still open, and a job never overlaps itself.
      const decided = await until('its first slot decided', () => standby.find(/ slot \S+: (firing|skipped)/, led.at), 30_000);
      if (pause) leader.child.kill('SIGKILL');
      await leader.done;
      trials.push({ signal: pause ? 'SIGSTOP' : 'SIGKILL', leadsMs: led.at - signalledAt, firstSlotMs: decided.at - signalledAt, firstSlot: decided.text });
      ctx.log(`  ${pause ? 'pause' : 'kill'} ${k + 1}: leads after ${led.at - signalledAt} ms, first slot decided after ${decided.at - signalledAt} ms`);
      leader = standby;
    }
  } finally {
    for (const d of started) {
      if (d.child.exitCode !== null || d.child.signalCode !== null) continue;
      d.child.kill('SIGCONT'); // a paused one handles its SIGTERM only once it runs again
      d.child.kill('SIGTERM');
    }
    await Promise.all(started.map((d) => d.done));
  }
  const ledger = new Ledger(db);
  let runs;
  try {
    runs = runStoreOf(ledger).listRuns().filter((r) => r.jobName === 'pulse');
  } finally {
    ledger.close();
  }
  removeDb(db);
  const perSlot = new Map();
  for (const r of runs) perSlot.set(r.slot, (perSlot.get(r.slot) ?? 0) + 1);
  const twice = [...perSlot.values()].filter((n) => n > 1).length;
  const kills = trials.filter((t) => t.signal === 'SIGKILL');
  const pauses = trials.filter((t) => t.signal === 'SIGSTOP');
  const killLeads = summarize(kills.map((t) => t.leadsMs));
  const killFirst = summarize(kills.map((t) => t.firstSlotMs));
  const pauseLeads = summarize(pauses.map((t) => t.leadsMs));
  const worst = Math.max(...trials.map((t) => t.leadsMs));
  return {
    id: 'scheduler-failover',
    title: 'Scheduler failover',
    target: `a dead leader replaced within ${TARGET_MS / 1000} s (median of ${KILLS} kills); no slot fired twice`,
    pass: twice === 0 && worst <= TARGET_MS && kills.length === KILLS,
    figure: `${(killLeads.median / 1000).toFixed(1)} s median after a kill, ${(pauseLeads.median / 1000).toFixed(1)} s after a pause; ${twice} slot(s) twice`,
    lines: [
      `Two \`schedule\` daemons on one SQLite ledger, a job firing every second; lease 10 s, renewed every 2 s.`,
      `SIGKILL of the leader (${KILLS}×, at a random moment of the standby's lease cycle): the standby leads after ${fmtSummary(killLeads, 0, ' ms')}; it decides its first slot (fires it, or skips it while it resumes the killed leader's run) after ${fmtSummary(killFirst, 0, ' ms')}.`,
      `SIGSTOP of the leader (${PAUSES}×, its pid alive: the lease must run out, as for a leader on another host): the standby leads after ${fmtSummary(pauseLeads, 0, ' ms')}; the job's slots are then skipped while the paused leader's run stays open (never two runs of a job at once).`,
      `${runs.length} runs over ${perSlot.size} slots: ${twice} slot(s) with two runs.`,
    ],
    data: { trials },
  };
}
