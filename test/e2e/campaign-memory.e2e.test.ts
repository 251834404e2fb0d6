/**
 * End to end: campaign memory across runs (the CLI spawned against the simulator, a real ledger file).
 * A recipient gets a job's message at most once across runs unless the operator says --allow-repeat.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEnv, runCli, startCli } from '../helpers/cli.js';
import { validNumbers, writeCampaign } from '../helpers/campaign-files.js';
import { fastSim, useE2eEnv } from '../helpers/e2e-run.js';

const e2e = useE2eEnv('bulktext-memory-');
const startSim = () => e2e.start({ apiKey: 'k', ...fastSim });

type Status = { run_id: string; state: string; sandbox: boolean; counts: Record<'total' | 'sent' | 'skipped' | 'pending', number> };
type ReportRow = { to: string; status: string; error_code: string | null; error_detail: string | null };

const env = () => cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: e2e.sim.url });

async function run(job: string, db: string, ...extra: string[]): Promise<{ code: number | null; status: Status; stderr: string }> {
  const r = await runCli(['run', job, '--db', db, '--json', '--quiet', ...extra], { env: env(), timeoutMs: 30_000 });
  if (r.stdout.trim() === '') throw new Error(`run printed no status (exit ${r.code}): ${r.stderr}`);
  return { code: r.code, status: JSON.parse(r.stdout) as Status, stderr: r.stderr };
}

async function report(db: string, runId: string): Promise<ReportRow[]> {
  const r = await runCli(['report', runId, '--db', db, '--format', 'json']);
  return JSON.parse(r.stdout) as ReportRow[];
}

/** Requests the simulator accepted per recipient. */
const accepted = (numbers: string[]) => numbers.map((n) => e2e.sim.messages.byRecipient(n).length);

describe('campaign memory across runs', { timeout: 120_000 }, () => {
  it('a re-run sends 0, naming the earlier run; an appended row sends exactly 1; --allow-repeat sends all', async () => {
    await startSim();
    const { job, numbers, csv } = writeCampaign(e2e.dir, { rows: 20 });
    const db = path.join(e2e.dir, 'l.db');

    const first = await run(job, db);
    expect(first.code).toBe(0);
    expect(first.status.counts.sent).toBe(20);

    const again = await run(job, db);
    expect(again.code).toBe(0);
    expect(again.status.counts).toMatchObject({ sent: 0, skipped: 20, pending: 0 });
    const rows = await report(db, again.status.run_id);
    expect(rows.every((r) => r.status === 'skipped' && r.error_code === 'already_sent')).toBe(true);
    expect(rows[0]!.error_detail).toMatch(new RegExp(`^already_sent: texted by run ${first.status.run_id} at \\d{4}-`));
    expect(accepted(numbers).every((n) => n === 1)).toBe(true);

    // The list grows mid-campaign: the next run sends exactly the new row.
    const [extra] = validNumbers(21).slice(20);
    appendFileSync(csv, `${extra},Newcomer\n`);
    const grown = await run(job, db);
    expect(grown.status.counts).toMatchObject({ total: 21, sent: 1, skipped: 20 });
    expect(accepted([...numbers, extra!]).every((n) => n === 1)).toBe(true);

    // The operator's explicit choice: everyone again.
    const repeat = await run(job, db, '--allow-repeat');
    expect(repeat.status.counts).toMatchObject({ total: 21, sent: 21, skipped: 0 });
    expect(accepted([...numbers, extra!]).every((n) => n === 2)).toBe(true);
  });

  it('killed mid-run, list grown: resume points at running the job again, which sends exactly the unsent and new rows', async () => {
    await startSim();
    const { job, numbers, csv } = writeCampaign(e2e.dir, { rows: 40, rate: 20, perSender: 20 });
    const db = path.join(e2e.dir, 'l.db');
    const killed = startCli(['run', job, '--db', db, '--quiet'], { env: env(), timeoutMs: 60_000 });
    const deadline = Date.now() + 30_000;
    while (e2e.sim.messages.count() < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    killed.child.kill('SIGKILL');
    const firstId = /run (\d{8}-\d{6}-[0-9a-f]{4})/.exec((await killed.done).stderr)![1]!;
    const sentBefore = e2e.sim.messages.count();
    expect(sentBefore).toBeGreaterThanOrEqual(4);
    expect(sentBefore).toBeLessThan(40);

    const [extra] = validNumbers(41).slice(40);
    appendFileSync(csv, `${extra},Newcomer\n`);
    const resume = await runCli(['resume', firstId, '--db', db], { env: env() });
    expect(resume.code).toBe(2);
    const hint = /run the job again instead \(`bulktext (run [^`]+)`\)/.exec(resume.stderr);
    expect(hint?.[1]).toBe(`run ${job} --db ${db}`);

    // The hint, pasted: everyone not yet texted (and the new row) gets exactly one message.
    const again = await runCli([...hint![1]!.split(' '), '--json', '--quiet'], { env: env(), timeoutMs: 60_000 });
    expect(again.code).toBe(0);
    const status = JSON.parse(again.stdout) as Status;
    // Rows in flight at the kill are in doubt: remembered as texted, never sent again.
    expect(status.counts.skipped).toBeGreaterThanOrEqual(sentBefore);
    expect(status.counts.sent + status.counts.skipped).toBe(41);
    expect(accepted([...numbers, extra!]).every((n) => n <= 1)).toBe(true);
    expect(e2e.sim.messages.count()).toBe(sentBefore + status.counts.sent);
    expect(accepted([extra!])).toEqual([1]);
  });

  it('plan counts the rows already sent, and --allow-repeat is part of the plan hash', async () => {
    await startSim();
    const { job, csv } = writeCampaign(e2e.dir, { rows: 12 });
    const db = path.join(e2e.dir, 'l.db');
    await run(job, db);
    appendFileSync(csv, `${validNumbers(13)[12]},Newcomer\n`);

    const plan = await runCli(['plan', job, '--db', db, '--json']);
    const p = JSON.parse(plan.stdout) as { rows: Record<string, number>; plan_hash: string };
    expect(p.rows).toMatchObject({ total: 13, sendable: 1, already_sent: 12 });
    const text = await runCli(['plan', job, '--db', db]);
    expect(text.stdout).toMatch(/already_sent\s+12\s+rows 1, 2, 3, 4, 5, … \(lines 2, 3, 4, 5, 6, …\)/);
    expect(text.stdout).toMatch(/e\.g\. row 1 \(line 2\): texted by run \d{8}-\d{6}-[0-9a-f]{4} at /);

    const repeat = await runCli(['plan', job, '--db', db, '--json', '--allow-repeat']);
    const r = JSON.parse(repeat.stdout) as { rows: Record<string, number>; plan_hash: string };
    expect(r.rows).toMatchObject({ sendable: 13, already_sent: 0 });
    expect(r.plan_hash).not.toBe(p.plan_hash);
    const hint = await runCli(['plan', job, '--db', db, '--allow-repeat']);
    expect(hint.stdout).toContain(`--allow-repeat --plan ${r.plan_hash}`);

    // A plan reviewed with --allow-repeat does not cover a run without it, and the refusal says why.
    const refused = await runCli(['run', job, '--db', db, '--quiet', '--plan', r.plan_hash], { env: env() });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--allow-repeat differs');
    const sent = await run(job, db, '--plan', p.plan_hash);
    expect(sent.status.counts).toMatchObject({ sent: 1, skipped: 12 });
  });

  it('sandbox runs never count as having texted anyone for real runs, and never block them', async () => {
    await startSim();
    const { job, numbers } = writeCampaign(e2e.dir, { rows: 8 });
    const db = path.join(e2e.dir, 'l.db');
    const rehearsal = await runCli(['run', job, '--db', db, '--json', '--quiet', '--sandbox'], { timeoutMs: 30_000 });
    expect(JSON.parse(rehearsal.stdout)).toMatchObject({ sandbox: true, counts: { sent: 8 } });

    const real = await run(job, db);
    expect(real.status).toMatchObject({ sandbox: false, counts: { sent: 8, skipped: 0 } });
    expect(accepted(numbers).every((n) => n === 1)).toBe(true);
  });

  it('dedupe.window: a number texted longer ago than the window is texted again', async () => {
    await startSim();
    const { job, numbers } = writeCampaign(e2e.dir, { rows: 5, extraYaml: 'dedupe:\n  window: 1s' });
    const db = path.join(e2e.dir, 'l.db');
    await run(job, db);
    await new Promise((r) => setTimeout(r, 1100));
    const later = await run(job, db);
    expect(later.status.counts).toMatchObject({ sent: 5, skipped: 0 });
    expect(accepted(numbers).every((n) => n === 2)).toBe(true);
  });

  it('a bad dedupe.window is refused, naming the key', async () => {
    const { job } = writeCampaign(e2e.dir, { rows: 1, extraYaml: 'dedupe:\n  window: slot' });
    const r = await runCli(['plan', job, '--db', path.join(e2e.dir, 'l.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('dedupe.window: slot needs a schedule');
  });
});

describe('run ownership from creation', { timeout: 120_000 }, () => {
  it('resume of a run still reading its source in a live process is refused, and status shows it running', async () => {
    await startSim();
    const { job, numbers, csv } = writeCampaign(e2e.dir, { rows: 200, rate: 5, perSender: 5 });
    // A long file (the same 200 numbers over and over: duplicates are still read row by row) keeps ingest busy.
    const lines = numbers.map((n, i) => `${n},Person${i + 1}`).join('\n');
    writeFileSync(csv, `phone,first_name\n${Array.from({ length: 1500 }, () => lines).join('\n')}\n`);
    const db = path.join(e2e.dir, 'l.db');
    const live = startCli(['run', job, '--db', db], { env: env(), timeoutMs: 60_000 });
    try {
      const deadline = Date.now() + 20_000;
      while (!/run (\d{8}-\d{6}-[0-9a-f]{4})/.test(live.output().stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      const runId = /run (\d{8}-\d{6}-[0-9a-f]{4})/.exec(live.output().stderr)![1]!;

      const resume = await runCli(['resume', runId, '--db', db], { env: env() });
      const status = JSON.parse((await runCli(['status', runId, '--db', db, '--json'])).stdout) as Status;
      // The run is either still reading its 300,000 rows or already sending them at 5/s: live either way.
      expect(live.child.exitCode).toBeNull();
      expect(resume.code).toBe(2);
      expect(resume.stderr).toMatch(new RegExp(`run ${runId} is (reading its source|being sent) right now by process ${live.child.pid}; not resuming it twice`));
      expect(resume.stderr).not.toContain('UNIQUE');
      expect(status.state).toBe('running');

      // A second run of the same job is refused while this one is live.
      const second = await runCli(['run', job, '--db', db, '--quiet'], { env: env() });
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`run ${runId} of job e2e-campaign is being sent right now by process ${live.child.pid}`);
    } finally {
      live.child.kill('SIGKILL');
      await live.done;
    }
  });
});
