/**
 * End to end: the CLI spawned as a child process against the project's simulator on 127.0.0.1,
 * with a real ledger file. These prove the promises the README makes to operators.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type InProcessSimulator } from '../../src/telnyx/simulator/index.js';
import { cliEnv, repoRoot, runCli, startCli } from '../helpers/cli.js';
import { writeCampaign } from '../helpers/campaign-files.js';
import { tempDir } from '../helpers/temp.js';
import { fastSim, killAfterAccepts, runIdFrom, statusOf, textedTwice } from '../helpers/e2e-run.js';
import { withLedgerSql } from '../helpers/ledger-sql.js';

let tmp: ReturnType<typeof tempDir>;
let sim: InProcessSimulator | undefined;

beforeEach(() => {
  tmp = tempDir('bulktext-e2e-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

describe('bulktext run (sandbox)', () => {
  it('sends the sample campaign, skipping bad rows with their line and reason', async () => {
    const db = path.join(tmp.dir, 'l.db');
    const r = await runCli(['run', 'jobs/spring-promo.yaml', '--sandbox', '--db', db, '--json', '--quiet'], { cwd: repoRoot });
    expect(r.stderr).toMatch(/run \d{8}-\d{6}-[0-9a-f]{4}/);
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status).toMatchObject({ job: 'spring-promo', state: 'completed', sandbox: true });
    expect(status.counts.sent + status.counts.skipped).toBe(status.counts.total);
    expect(status.counts.skipped).toBeGreaterThan(0);
    expect(Number(status.cost.amount)).toBeGreaterThan(0);

    const report = await runCli(['report', status.run_id, '--db', db, '--format', 'json']);
    expect(report.code).toBe(0);
    const rows = JSON.parse(report.stdout) as Record<string, unknown>[];
    expect(rows).toHaveLength(status.counts.total);
    expect(Object.keys(rows[0]!)).toEqual([
      'row', 'line', 'to', 'from', 'status', 'message_id', 'parts', 'cost', 'currency', 'attempts', 'error_code', 'error_detail', 'sent_at',
      'delivery_status', 'delivery_error_code', 'delivered_at',
    ]);
    // The sandbox's receipts reach the run's own receiver: the quick start ends with delivery statuses.
    expect(status.delivery.delivered).toBe(status.counts.sent);
    expect(rows.filter((row) => row.status === 'sent').every((row) => row.delivery_status === 'delivered')).toBe(true);
    const skipped = rows.filter((row) => row.status === 'skipped');
    expect(skipped.map((row) => row.error_code)).toEqual(expect.arrayContaining(['invalid_number', 'duplicate', 'suppressed', 'missing_field']));
    for (const row of skipped) expect(String(row.error_detail)).toMatch(/^\w+: /);

    const csv = await runCli(['report', status.run_id, '--db', db, '--format', 'csv']);
    expect(csv.stdout.split('\n')[0]).toBe(
      'row,line,to,from,status,message_id,parts,cost,currency,attempts,error_code,error_detail,sent_at,delivery_status,delivery_error_code,delivered_at',
    );
    expect(csv.stdout.trim().split('\n')).toHaveLength(status.counts.total + 1);

    const list = await runCli(['status', '--db', db, '--json']);
    expect(JSON.parse(list.stdout)).toHaveLength(1);
  });
});

describe('bulktext against the simulator over HTTP', () => {
  it('a wrong API key stops the run after a handful of requests (exit 4); resume with the right key finishes', async () => {
    sim = await startSimulator({ apiKey: 'right-key', ...fastSim });
    // 100 rows: ten times the handful of requests the wrong key may cost, and one second to resume at 100/s.
    const { job, numbers } = writeCampaign(tmp.dir, { rows: 100, rate: 100, maxConcurrent: 4 });
    const db = path.join(tmp.dir, 'l.db');
    const env = (key: string) => cliEnv({ TELNYX_API_KEY: key, TELNYX_BASE_URL: sim!.url });

    const first = await runCli(['run', job, '--db', db, '--quiet'], { env: env('wrong-key') });
    expect(first.code).toBe(4);
    const runId = runIdFrom(first.stderr);
    expect(first.stderr).not.toContain('wrong-key');
    expect((await sim.stats()).requests).toBeLessThanOrEqual(10);
    const aborted = await statusOf(db, runId);
    expect(aborted).toMatchObject({ state: 'aborted', stop: { code: '10009' } });
    expect(aborted.counts.pending).toBe(100);

    // The same job over the same list is refused while that run is unfinished.
    const again = await runCli(['run', job, '--db', db, '--quiet'], { env: env('right-key') });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`bulktext resume ${runId}`);

    const resumed = await runCli(['resume', runId, '--db', db, '--quiet'], { env: env('right-key') });
    expect(resumed.code).toBe(0);
    expect(await statusOf(db, runId)).toMatchObject({ state: 'completed', counts: { sent: 100, pending: 0 } });
    expect(sim.messages.count()).toBe(100);
    expect(textedTwice(sim, numbers)).toEqual([]);
  });

  it('SIGKILL mid-run, then resume: nobody is texted twice and no row is lost', async () => {
    sim = await startSimulator({ apiKey: 'k', ...fastSim });
    const { job, numbers } = writeCampaign(tmp.dir, { rows: 600, rate: 300, maxConcurrent: 8 });
    const db = path.join(tmp.dir, 'l.db');
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url });

    const { killed, runId } = await killAfterAccepts(sim, ['run', job, '--db', db, '--quiet'], env, 150);
    expect(killed.signal).toBe('SIGKILL');
    const acceptedAtKill = sim.messages.count();
    expect(acceptedAtKill).toBeGreaterThanOrEqual(150);
    expect(acceptedAtKill).toBeLessThan(600);

    // The dead run is reported as interrupted, not running.
    expect((await statusOf(db, runId)).state).toBe('interrupted');

    const resumed = await runCli(['resume', runId, '--db', db, '--quiet', '--json'], { env });
    expect([0, 3]).toContain(resumed.code);
    const status = JSON.parse(resumed.stdout);
    expect(status.state).toBe('completed');
    expect(status.counts.sent + status.counts.unknown).toBe(600);
    expect(status.counts.unknown).toBeLessThanOrEqual(8);
    expect(textedTwice(sim, numbers)).toEqual([]);

    // Every row the ledger calls sent was accepted exactly once; unknown rows at most once.
    const { rows, unindexed } = withLedgerSql(
      db,
      (ledger) => ({
        rows: ledger.all<{ to: string; status: string }>(`SELECT to_number AS "to", status FROM messages`),
        // The killed run never reached its indexing pass; the resume's pass took its sends too.
        unindexed: ledger.value(`SELECT count(*) FROM messages m WHERE m.message_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM message_ids i WHERE i.message_id = m.message_id AND i.rid = m.rid AND i.row = m.row)`),
      }),
      { readonly: true },
    );
    expect(unindexed).toBe(0);
    expect(rows.filter((r) => r.status === 'sent').length).toBe(status.counts.sent);
    for (const row of rows) {
      const got = sim.messages.byRecipient(row.to).length;
      if (row.status === 'sent') expect(got).toBe(1);
      else expect(row.status === 'unknown' && got <= 1).toBe(true);
    }
  });

  it('SIGINT stops taking rows, settles requests in flight, exits 130; resume finishes', async () => {
    sim = await startSimulator({ apiKey: 'k', ...fastSim });
    const { job, numbers } = writeCampaign(tmp.dir, { rows: 400, rate: 200, maxConcurrent: 4 });
    const db = path.join(tmp.dir, 'l.db');
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url });
    const cli = startCli(['run', job, '--db', db], { env });
    const deadline = Date.now() + 20_000;
    while (sim.messages.count() < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    cli.child.kill('SIGINT');
    const interrupted = await cli.done;
    expect(interrupted.code).toBe(130);
    const runId = runIdFrom(interrupted.stderr);
    const status = await statusOf(db, runId);
    expect(status.state).toBe('interrupted');
    expect(status.counts.sending).toBe(0);
    expect(status.counts.unknown).toBe(0);
    expect(status.counts.sent).toBe(sim.messages.count());

    const resumed = await runCli(['resume', runId, '--db', db, '--quiet'], { env });
    expect(resumed.code).toBe(0);
    expect(sim.messages.count()).toBe(400);
    expect(textedTwice(sim, numbers)).toEqual([]);
  });

  it('an accepted-then-reset request is unknown, never resent by resume, and resent only with --resend-unknown', async () => {
    const { job, numbers } = writeCampaign(tmp.dir, { rows: 5, rate: 50, maxConcurrent: 2 });
    sim = await startSimulator({ apiKey: 'k', ...fastSim, faults: { recipients: { [numbers[2]!]: ['accept_then_reset'] } } });
    const db = path.join(tmp.dir, 'l.db');
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url });

    const first = await runCli(['run', job, '--db', db, '--quiet', '--json'], { env });
    expect(first.code).toBe(3);
    const status = JSON.parse(first.stdout);
    expect(status.counts).toMatchObject({ sent: 4, unknown: 1 });
    expect(sim.messages.byRecipient(numbers[2]!)).toHaveLength(1);

    const plain = await runCli(['resume', status.run_id, '--db', db, '--quiet'], { env });
    expect(plain.code).toBe(3);
    expect(sim.messages.byRecipient(numbers[2]!)).toHaveLength(1);

    const forced = await runCli(['resume', status.run_id, '--db', db, '--quiet', '--resend-unknown'], { env });
    expect(forced.code).toBe(0);
    expect(sim.messages.byRecipient(numbers[2]!)).toHaveLength(2);
  });

  it('a rejected row fails with the Telnyx code and the rest are sent (exit 3)', async () => {
    const { job, numbers } = writeCampaign(tmp.dir, { rows: 4, rate: 50 });
    sim = await startSimulator({ apiKey: 'k', ...fastSim, stopList: [numbers[1]!] });
    const db = path.join(tmp.dir, 'l.db');
    const r = await runCli(['run', job, '--db', db, '--quiet', '--json'], { env: cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url }) });
    expect(r.code).toBe(3);
    const status = JSON.parse(r.stdout);
    expect(status.counts).toMatchObject({ sent: 3, failed: 1 });
    const report = JSON.parse((await runCli(['report', status.run_id, '--db', db, '--format', 'json'])).stdout) as Record<string, unknown>[];
    expect(report.find((row) => row.to === numbers[1])).toMatchObject({ status: 'failed', error_code: '40300', attempts: 1 });
  });
});
