/**
 * Many workers on one run (issue 15): `run` and two `bulktext worker` processes share a run on the
 * PostgreSQL ledger against the simulator on 127.0.0.1; one worker is SIGKILLed while it has requests in
 * flight. Nobody is texted twice, no row is lost, the dead worker's rows in flight become unknown (at most
 * its max_concurrent), its other claims are sent by the others, and the run completes.
 */
import { describe, expect, it } from 'vitest';
import { writeCampaign } from '../../helpers/campaign-files.js';
import { cliEnv, startCli } from '../../helpers/cli.js';
import { fastSim, runIdFrom, textedTwice, useE2eEnv, type RunStatusJson } from '../../helpers/e2e-run.js';
import { createDatabase } from '../../helpers/pg-cluster.js';
import { pgRows } from './pg-rows.js';

const e2e = useE2eEnv('bulktext-pgworkers-');
const password = 'pw-Secr3t-workers';

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000, context: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${context()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('bulktext worker on a PostgreSQL ledger', { timeout: 150_000 }, () => {
  it('three workers on one run, one SIGKILLed mid-run: 0 texted twice, 0 lost, unknown ≤ its in-flight, the run completes', async () => {
    const url = new URL(await createDatabase());
    url.password = password;
    const sim = await e2e.start({ apiKey: 'k', ...fastSim });
    const maxConcurrent = 4;
    // Slow enough (18 s alone) that both workers join while rows are left, however loaded the machine.
    const { job, numbers } = writeCampaign(e2e.dir, { rows: 900, rate: 50, maxConcurrent });
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url, BULKTEXT_DB: url.toString() });

    const run = startCli(['run', job, '--json', '--quiet'], { env, timeoutMs: 120_000 });
    await until('the run to start sending', async () => sim.messages.count() > 0);
    const workers = [0, 1].map(() => startCli(['worker', '--once'], { env, timeoutMs: 120_000 }));
    const victim = workers[0]!;
    // Killed while it has requests in flight: rows it marked `sending`, in the ledger.
    await until('the first worker to have requests in flight', async () => {
      const rows = await pgRows(url.toString(), `SELECT count(*)::int AS n FROM messages WHERE claimed_by LIKE $1 AND status = 'sending'`, [`%:${victim.child.pid}:%`]);
      return (rows[0]!['n'] as number) > 0;
    }, 30_000, () => `: ${JSON.stringify(victim.output())}`);
    victim.child.kill('SIGKILL');
    const killed = await victim.done;
    expect(killed.signal).toBe('SIGKILL');

    const [ran, survivor] = await Promise.all([run.done, workers[1]!.done]);
    expect([0, 3], ran.stderr).toContain(ran.code);
    expect(survivor.code, survivor.stderr).toBe(0);
    expect(survivor.stderr).toMatch(/this worker sent [1-9]\d*/);
    expect(survivor.stderr).toContain('worker done: no run left\n');

    const status = JSON.parse(ran.stdout) as RunStatusJson;
    expect(runIdFrom(ran.stderr)).toBe(status.run_id);
    expect(status.state).toBe('completed');
    expect(status.counts['sent']! + status.counts['unknown']!).toBe(900);
    expect(status.counts['unknown']).toBeLessThanOrEqual(maxConcurrent);
    expect(textedTwice(sim, numbers)).toEqual([]);
    for (const row of await pgRows(url.toString(), `SELECT to_number, status, claimed_by FROM messages`)) {
      const got = sim.messages.byRecipient(row['to_number'] as string).length;
      if (row['status'] === 'sent') expect(got).toBe(1);
      else expect([row['status'], got <= 1]).toEqual(['unknown', true]);
      expect(row['claimed_by']).toBeNull();
    }
    // The dead worker was settled and removed; the others left on their own.
    expect(await pgRows(url.toString(), `SELECT id FROM workers`)).toEqual([]);
    for (const r of [ran, survivor, killed]) expect(`${r.stdout}${r.stderr}`).not.toContain(password);
  });

  it('SIGTERM: a worker lets its requests settle, gives back the rows it had taken and exits 0; the others send them', async () => {
    const url = new URL(await createDatabase());
    url.password = password;
    const sim = await e2e.start({ apiKey: 'k', ...fastSim });
    // Slow enough (20 s alone) that the worker joins while rows are left, however loaded the machine.
    const { job, numbers } = writeCampaign(e2e.dir, { rows: 400, rate: 20, maxConcurrent: 2 });
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url, BULKTEXT_DB: url.toString() });
    const run = startCli(['run', job, '--json', '--quiet'], { env, timeoutMs: 120_000 });
    await until('the run to start sending', async () => sim.messages.count() > 0);
    const worker = startCli(['worker'], { env, timeoutMs: 120_000 });
    await until('the worker to hold rows', async () => {
      const rows = await pgRows(url.toString(), `SELECT count(*)::int AS n FROM messages WHERE claimed_by LIKE $1`, [`%:${worker.child.pid}:%`]);
      return (rows[0]!['n'] as number) > 0;
    }, 30_000, () => `: ${JSON.stringify(worker.output())}`);
    worker.child.kill('SIGTERM');
    const stopped = await worker.done;
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stderr).toContain('worker stopped: requests in flight settled, claims given back\n');
    expect(await pgRows(url.toString(), `SELECT count(*)::int AS n FROM messages WHERE claimed_by LIKE $1`, [`%:${worker.child.pid}:%`])).toEqual([{ n: 0 }]);

    const ran = await run.done;
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout)).toMatchObject({ state: 'completed', counts: { sent: 400, unknown: 0 } });
    expect(textedTwice(sim, numbers)).toEqual([]);
    expect(sim.messages.count()).toBe(400);
    for (const r of [ran, stopped]) expect(`${r.stdout}${r.stderr}`).not.toContain(password);
  });
});
