/**
 * Two `bulktext schedule` processes on one SQLite ledger, sending to a simulator on 127.0.0.1 that the
 * test owns (so texts are counted across both processes, and across the kill): exactly one leads; the
 * leader is SIGKILLed in the middle of a run; the standby leads within 15 s, resumes the interrupted run
 * (rows in flight become unknown, never resent), and fires the next slot once, on time ± 15 s.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';
import { runStoreOf } from '../../src/ledger/run-store.js';
import { slotStoreOf } from '../../src/ledger/slot-store.js';
import { startSimulator, type InProcessSimulator } from '../../src/telnyx/simulator/index.js';
import { cliEnv, startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { recipients, waitFor, writeJob } from '../integration/scheduler-support.js';

let tmp: ReturnType<typeof tempDir>;
let sim: InProcessSimulator;
beforeEach(async () => {
  tmp = tempDir('bulktext-failover-');
  sim = await startSimulator({ seed: 15 });
});
afterEach(async () => {
  await sim.close();
  tmp.cleanup();
});

const ROWS = 12;

function daemon(jobsDir: string, db: string) {
  const d = startCli(['schedule', '--jobs', jobsDir, '--db', db, '--metrics-port', '0'], {
    env: cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url }),
    timeoutMs: 150_000,
  });
  const id = () => /scheduler (\S+) (leads|stands by)/.exec(d.output().stderr)?.[1];
  const metricsUrl = () => /metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(d.output().stderr)?.[1];
  return { ...d, id, metricsUrl };
}

async function leaderGauge(url: string): Promise<string | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text.split('\n').find((l) => l.startsWith('bulktext_scheduler_leader '));
}

describe('two schedule daemons, the leader killed', () => {
  it('the standby takes over within 15 s, resumes the interrupted run without texting anyone twice, and fires the next slot once', { timeout: 150_000 }, async () => {
    const dir = { jobsDir: path.join(tmp.dir, 'jobs'), dataDir: path.join(tmp.dir, 'data') };
    mkdirSync(dir.jobsDir);
    mkdirSync(dir.dataDir);
    // A slot every 15 s; 12 rows at 4/s take 3 s, so the kill lands mid-run. Each number is texted once
    // ever (dedupe over 30 days): a later slot's run sends nothing, and any repeat shows at the simulator.
    writeJob(dir, 'pulse', { cron: '*/15 * * * * *', rows: ROWS, rate: 4, catchUp: '30s', extra: 'dedupe:\n  window: 30d\n' });
    const db = path.join(tmp.dir, 'ledger.db');
    const ledger = new Ledger(db);
    try {
      const slots = slotStoreOf(ledger);
      const a = daemon(dir.jobsDir, db);
      const aId = await waitFor('the first daemon to lead', () => (/leads/.test(a.output().stderr) ? a.id() : undefined), 30_000);
      const b = daemon(dir.jobsDir, db);
      let interruptedRunId = '';
      try {
        const bId = await waitFor('the second daemon to stand by', () => (/stands by/.test(b.output().stderr) ? b.id() : undefined), 30_000);
        expect(b.output().stderr).toContain(`scheduler ${bId} stands by: scheduler ${aId} leads`);
        const bUrl = await waitFor('the standby metrics server', () => b.metricsUrl(), 30_000);
        expect((await fetch(`${bUrl}/healthz`)).status).toBe(200);
        expect(await leaderGauge(bUrl)).toBe('bulktext_scheduler_leader 0');
        expect(await leaderGauge((await waitFor('the leader metrics server', () => a.metricsUrl()))!)).toBe('bulktext_scheduler_leader 1');

        // Kill the leader once its run has sent a few rows, before it has sent them all.
        const interrupted = await waitFor('the leader to start a run', () => slots.slots('pulse').find((s) => s.runId !== null), 40_000);
        interruptedRunId = interrupted.runId!;
        await waitFor('a few texts', () => sim.messages.count() >= 3, 20_000, 5);
        a.child.kill('SIGKILL');
        const killedAt = Date.now();
        expect((await a.done).signal).toBe('SIGKILL');
        const sentAtKill = sim.messages.count();
        expect(sentAtKill).toBeLessThan(ROWS);

        await waitFor('the standby to lead', () => b.output().stderr.includes(`scheduler ${bId} leads (taking over from scheduler ${aId})`), 15_000, 50);
        const tookOverMs = Date.now() - killedAt;
        expect(tookOverMs).toBeLessThanOrEqual(15_000);
        expect(await leaderGauge(bUrl)).toBe('bulktext_scheduler_leader 1');

        // The interrupted run is resumed by the new leader and completes.
        await waitFor('the interrupted run to complete', () => runStoreOf(ledger).getRun(interrupted.runId!).state === 'completed', 30_000);
        expect(b.output().stderr).toContain(`job pulse slot ${interrupted.slot}: claimed by scheduler ${aId}, which stopped while its run ${interrupted.runId} was going; taking the slot over`);
        // The next slot after the kill: fired by the new leader, once, within 15 s of its time.
        const next = await waitFor(
          'the next slot to be fired by the new leader',
          () => slots.slots('pulse').find((s) => Date.parse(s.slot) > killedAt && s.runId !== null),
          40_000,
        );
        expect(next.daemonId).toBe(bId);
        expect(Math.abs(next.recordedAt - Date.parse(next.slot))).toBeLessThanOrEqual(15_000);
        await waitFor('its run to complete', () => runStoreOf(ledger).getRun(next.runId!).state === 'completed', 30_000);
      } finally {
        b.child.kill('SIGTERM');
        expect((await b.done).code).toBe(0);
      }

      // Nobody texted twice: every number at most once at the simulator, across both processes and the kill.
      for (const to of recipients(ROWS)) expect(sim.messages.byRecipient(to).length).toBeLessThanOrEqual(1);
      const run = runStoreOf(ledger).getRun(interruptedRunId);
      const counts = messageStoreOf(ledger).counts(run.rid);
      // Rows in flight at the kill are unknown (Telnyx may have them), never sent again; the rest were sent once.
      expect(counts.sent + counts.unknown).toBe(ROWS);
      expect(counts.sent).toBeLessThanOrEqual(sim.messages.count());
      expect(sim.messages.count()).toBeLessThanOrEqual(counts.sent + counts.unknown);
      // No slot fired twice: one run per slot over the whole test.
      const runs = runStoreOf(ledger).listRuns().filter((r) => r.jobName === 'pulse');
      expect(new Set(runs.map((r) => r.slot)).size).toBe(runs.length);
      for (const s of slots.slots('pulse')) if (s.state === 'started') expect(runs.filter((r) => r.slot === s.slot)).toHaveLength(1);
    } finally {
      ledger.close();
    }
  });
});
