/**
 * End to end: the operator's write-side commands, the CLI spawned as a child process against the
 * simulator on 127.0.0.1 (or the built-in sandbox) with a real ledger file: a canary, a test run, the
 * confirmation prompt on a real pseudo-terminal, cancel and prune.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type InProcessSimulator } from '../../src/telnyx/simulator/index.js';
import { binPath, cliEnv, repoRoot, runCli, startCli } from '../helpers/cli.js';
import { validNumbers, writeCampaign } from '../helpers/campaign-files.js';
import { tempDir } from '../helpers/temp.js';

const fastSim = {
  accountRate: 100_000,
  mmsAccountRate: 100_000,
  senderRates: { longCode: 100_000, tollFree: 100_000, shortCode: 100_000 },
  webhooks: { enabled: false },
};

interface Status {
  run_id: string;
  state: string;
  test_to: string[] | null;
  counts: Record<string, number>;
  delivery: Record<string, number>;
  cost: { amount: string; currency: string | null };
  stop: { code: string | null; detail: string | null } | null;
}

let tmp: ReturnType<typeof tempDir>;
let sim: InProcessSimulator | undefined;

beforeEach(() => {
  tmp = tempDir('bulktext-operator-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

async function statusOf(db: string, runId: string): Promise<Status> {
  return JSON.parse((await runCli(['status', runId, '--db', db, '--json'])).stdout) as Status;
}

async function allStatuses(db: string): Promise<Status[]> {
  return JSON.parse((await runCli(['status', '--db', db, '--json'])).stdout) as Status[];
}

function runIdFrom(stderr: string): string {
  const m = /run (\d{8}-\d{6}-[0-9a-f]{4})/.exec(stderr);
  if (m === null) throw new Error(`no run id in: ${stderr}`);
  return m[1]!;
}

async function reportRows(db: string, runId: string): Promise<Array<Record<string, unknown>>> {
  return JSON.parse((await runCli(['report', runId, '--db', db, '--format', 'json'])).stdout) as Array<Record<string, unknown>>;
}

describe('run --canary', { timeout: 120_000 }, () => {
  it('sends the first N sendable rows, stops resumable with a hint, and resume sends the rest', async () => {
    sim = await startSimulator({ apiKey: 'k', ...fastSim });
    const { job, numbers } = writeCampaign(tmp.dir, { rows: 12 });
    // Row 2 is invalid, so the first three *sendable* rows are rows 1, 3 and 4.
    const csv = path.join(tmp.dir, 'recipients.csv');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(csv, `phone,first_name\n${numbers[0]},P1\nnot-a-number,P2\n${numbers.slice(1).map((n, i) => `${n},P${i + 3}`).join('\n')}\n`);
    const db = path.join(tmp.dir, 'l.db');
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url });

    const canary = await runCli(['run', job, '--db', db, '--canary', '3'], { env });
    expect(canary.code).toBe(0);
    const runId = runIdFrom(canary.stderr);
    expect(canary.stderr).toContain(`check the canary: bulktext report ${runId} --db ${db}`);
    const after = await statusOf(db, runId);
    expect(after).toMatchObject({ state: 'interrupted', stop: { code: 'canary' }, counts: { sent: 3, pending: 9, skipped: 1 } });
    expect(after.stop?.detail).toContain('resume to send the other 9');
    expect(sim.messages.count()).toBe(3);
    expect(numbers.slice(0, 3).every((n) => sim!.messages.byRecipient(n).length === 1)).toBe(true);
    const rows = await reportRows(db, runId);
    expect(rows.filter((r) => r.status === 'sent').map((r) => r.row)).toEqual([1, 3, 4]);

    // The same job over the same list is not started again behind the operator's back.
    const again = await runCli(['run', job, '--db', db, '--quiet'], { env });
    expect(again.code).toBe(2);

    const resumed = await runCli(['resume', runId, '--db', db, '--quiet'], { env });
    expect(resumed.code).toBe(0);
    expect(await statusOf(db, runId)).toMatchObject({ state: 'completed', counts: { sent: 12, pending: 0 } });
    expect(sim.messages.count()).toBe(12);
    expect(numbers.every((n) => sim!.messages.byRecipient(n).length === 1)).toBe(true);
  });
});

describe('run --test-to', { timeout: 120_000 }, () => {
  it("sends the first rows' messages to the given numbers only, as a test run that never blocks or stands in for the real one", async () => {
    sim = await startSimulator({ apiKey: 'k', ...fastSim });
    const { job, numbers } = writeCampaign(tmp.dir, { rows: 6 });
    const mine = validNumbers(2, '646');
    const db = path.join(tmp.dir, 'l.db');
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url });

    // National form for the second number: normalised with the job's default country.
    const test = await runCli(['run', job, '--db', db, '--test-to', `${mine[0]},${mine[1]!.slice(2)}`], { env });
    expect(test.code).toBe(0);
    const testId = runIdFrom(test.stderr);
    expect(test.stderr).toContain(`test run: the messages of row(s) 1, 2 go to ${mine[0]}, ${mine[1]}`);
    const st = await statusOf(db, testId);
    expect(st).toMatchObject({ state: 'completed', test_to: mine, counts: { total: 2, sent: 2 } });
    expect(sim.messages.count()).toBe(2);
    expect(numbers.every((n) => sim!.messages.byRecipient(n).length === 0)).toBe(true);
    expect(sim.messages.byRecipient(mine[0]!)[0]?.text).toBe('Hi Person1, this is a test.');
    expect(sim.messages.byRecipient(mine[1]!)[0]?.text).toBe('Hi Person2, this is a test.');
    expect((await runCli(['status', '--db', db])).stdout).toContain('[test]');

    // The real run starts without --force and texts every recipient, rows 1 and 2 included.
    const real = await runCli(['run', job, '--db', db, '--quiet'], { env });
    expect(real.code).toBe(0);
    expect(await statusOf(db, runIdFrom(real.stderr))).toMatchObject({ state: 'completed', test_to: null, counts: { sent: 6 } });
    expect(numbers.every((n) => sim!.messages.byRecipient(n).length === 1)).toBe(true);
  });

  it('refuses a number that is not one, before creating a run', async () => {
    const { job } = writeCampaign(tmp.dir, { rows: 3 });
    const db = path.join(tmp.dir, 'l.db');
    const r = await runCli(['run', job, '--db', db, '--sandbox', '--test-to', '+1415555'], { cwd: tmp.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--test-to: "+1415555" is not a valid phone number');
  });
});

/** Runs the CLI on a real pseudo-terminal (util-linux `script`), typing `answer` once the question is shown. */
function runOnTerminal(args: string[], answer: string | undefined): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, binPath, ...args].map((w) => `'${w}'`).join(' ');
  const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: repoRoot, env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let answered = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    output += d;
    if (!answered && answer !== undefined && output.includes('[y/N]')) {
      answered = true;
      child.stdin.write(`${answer}\r`);
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('the confirmation prompt (a real pseudo-terminal)', { timeout: 120_000 }, () => {
  it('asks with the plan figures; "n" sends nothing and leaves no run', async () => {
    const db = path.join(tmp.dir, 'l.db');
    const r = await runOnTerminal(['run', 'jobs/spring-promo.yaml', '--sandbox', '--db', db], 'n');
    expect(r.output).toContain('Send 33 messages (~0.13 USD, ~2 s) via 2 senders? [y/N]');
    expect(r.output).toContain('not sending: nothing was sent');
    expect(r.code).toBe(2);
    expect((await runCli(['status', '--db', db])).stdout).toContain('no runs yet');
  });

  it('"y" sends', async () => {
    const db = path.join(tmp.dir, 'l.db');
    const r = await runOnTerminal(['run', 'jobs/spring-promo.yaml', '--sandbox', '--db', db, '--canary', '4'], 'y');
    expect(r.output).toContain('Send 4 messages (a canary: the first of 33 sendable rows) (~0.02 USD, ~1 s) via 2 senders? [y/N]');
    expect(r.code).toBe(0);
    const [run] = await allStatuses(db);
    expect(run).toMatchObject({ state: 'interrupted', stop: { code: 'canary' }, counts: { sent: 4 } });
  });

  it('--yes does not ask, and neither does a run whose stdin is not a terminal', async () => {
    const db = path.join(tmp.dir, 'l.db');
    const onTty = await runOnTerminal(['run', 'jobs/spring-promo.yaml', '--sandbox', '--db', db, '--yes'], undefined);
    expect(onTty.code).toBe(0);
    expect(onTty.output).not.toContain('[y/N]');
    const piped = await runCli(['run', 'jobs/spring-promo.yaml', '--sandbox', '--db', path.join(tmp.dir, 'l2.db')]);
    expect(piped.code).toBe(0);
    expect(piped.stderr).not.toContain('[y/N]');
  });
});

describe('bulktext cancel', { timeout: 120_000 }, () => {
  it('stops the process sending the run, from another shell; the run is cancelled and never resumed', async () => {
    sim = await startSimulator({ apiKey: 'k', ...fastSim });
    const { job } = writeCampaign(tmp.dir, { rows: 200, rate: 20 });
    const db = path.join(tmp.dir, 'l.db');
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url });
    const cli = startCli(['run', job, '--db', db, '--quiet'], { env });
    const deadline = Date.now() + 20_000;
    while (sim.messages.count() < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const runId = runIdFrom(cli.output().stderr);

    const cancel = await runCli(['cancel', runId, '--db', db]);
    expect(cancel.code).toBe(0);
    expect(cancel.stderr).toContain('cancel requested');
    expect(cancel.stderr).toMatch(new RegExp(`run ${runId} cancelled: sent \\d+, not sent \\d+`));
    const owner = await cli.done;
    expect(owner.code).toBe(130);
    const st = await statusOf(db, runId);
    expect(st).toMatchObject({ state: 'cancelled', stop: { code: 'cancelled' } });
    const sent = st.counts.sent!;
    expect(sent).toBe(sim.messages.count());
    expect(sent).toBeLessThan(200);
    expect(st.counts.pending).toBe(200 - sent);

    const resumed = await runCli(['resume', runId, '--db', db], { env });
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toContain('was cancelled');
    // A cancelled run does not block a new run of the same list.
    const fresh = await runCli(['run', job, '--db', db, '--quiet', '--canary', '1'], { env });
    expect(fresh.code).toBe(0);
  });

  it('marks an interrupted run cancelled at once; completed runs cannot be cancelled', async () => {
    sim = await startSimulator({ apiKey: 'k', ...fastSim });
    const { job } = writeCampaign(tmp.dir, { rows: 10 });
    const db = path.join(tmp.dir, 'l.db');
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url });
    const canary = await runCli(['run', job, '--db', db, '--quiet', '--canary', '2'], { env });
    const runId = runIdFrom(canary.stderr);

    const cancel = await runCli(['cancel', runId, '--db', db]);
    expect(cancel.code).toBe(0);
    expect(cancel.stderr).toContain(`run ${runId} cancelled: nothing was sending it`);
    expect(await statusOf(db, runId)).toMatchObject({ state: 'cancelled', counts: { sent: 2, pending: 8 } });
    expect((await runCli(['cancel', runId, '--db', db])).stderr).toContain('already cancelled');
    expect((await runCli(['resume', runId, '--db', db], { env })).code).toBe(2);

    const full = await runCli(['run', job, '--db', db, '--quiet'], { env });
    const refused = await runCli(['cancel', runIdFrom(full.stderr), '--db', db]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('has completed');
  });
});

describe('bulktext prune', { timeout: 120_000 }, () => {
  it('shrinks the ledger; with --keep-counts every count and cost in status --json is unchanged', async () => {
    const { job } = writeCampaign(tmp.dir, { rows: 800, extraYaml: 'pricing:\n  per_part: "0.0040"\n  currency: USD' });
    const db = path.join(tmp.dir, 'l.db');
    const run = await runCli(['run', job, '--db', db, '--sandbox', '--quiet'], { cwd: tmp.dir, timeoutMs: 120_000 });
    expect(run.code).toBe(0);
    const before = await allStatuses(db);
    expect(before[0]).toMatchObject({ counts: { sent: 800 }, delivery: { delivered: 800 } });
    const sizeBefore = statSync(db).size;
    expect((await runCli(['status', '--db', db])).stdout).toMatch(/^ledger .*l\.db: [\d.]+ (kB|MB)$/m);

    // Nothing finished longer than a day ago: nothing to prune.
    const none = await runCli(['prune', '--before', '1d', '--db', db]);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain('no finished run');

    const pruned = await runCli(['prune', '--before', '0s', '--keep-counts', '--db', db]);
    expect(pruned.code).toBe(0);
    expect(pruned.stderr).toMatch(/pruned 1 run\(s\) .*the texts of 800 row\(s\), 800 attempt\(s\), 1600 receipt\(s\)/);
    const sizeAfter = statSync(db).size;
    expect(sizeAfter).toBeLessThan(sizeBefore * 0.6);
    expect(await allStatuses(db)).toEqual(before);
    const rows = await reportRows(db, before[0]!.run_id);
    expect(rows).toHaveLength(800);
    expect(rows.every((r) => r.status === 'sent' && typeof r.to === 'string' && r.sent_at !== '')).toBe(true);
  });

  it('without --keep-counts also deletes the rows that never became a message; sent counts and cost stay', async () => {
    const db = path.join(tmp.dir, 'l.db');
    const run = await runCli(['run', 'jobs/spring-promo.yaml', '--sandbox', '--db', db, '--quiet']);
    expect(run.code).toBe(0);
    const [before] = await allStatuses(db);
    expect(before!.counts.skipped).toBe(7);
    const pruned = await runCli(['prune', '--before', '0s', '--db', db]);
    expect(pruned.code).toBe(0);
    expect(pruned.stderr).toContain('7 row(s) that never became a message');
    const [after] = await allStatuses(db);
    expect(after).toMatchObject({ counts: { sent: before!.counts.sent, skipped: 0 }, cost: before!.cost, delivery: before!.delivery });
    // Pruned once is pruned: a second prune finds nothing.
    expect((await runCli(['prune', '--before', '0s', '--db', db])).stderr).toContain('no finished run');
  });
});

describe('a sandbox run ends like a real run', { timeout: 120_000 }, () => {
  it('waits for its receipts, saying how many, and ends with every delivery status', async () => {
    const { job } = writeCampaign(tmp.dir, { rows: 400 });
    const db = path.join(tmp.dir, 'l.db');
    const r = await runCli(['run', job, '--db', db, '--sandbox', '--json'], { cwd: tmp.dir, timeoutMs: 110_000 });
    expect(r.code).toBe(0);
    // Receipts take 300 ms in the sandbox: the last sends' are still on their way when sending ends.
    expect(r.stderr).toMatch(/waiting for \d+ delivery receipts?…/);
    const status = JSON.parse(r.stdout) as Status;
    expect(status.counts.sent).toBe(400);
    expect(status.delivery).toMatchObject({ delivered: 400, awaiting: 0 });
  });
});
