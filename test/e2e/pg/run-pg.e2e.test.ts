/**
 * End to end on the PostgreSQL ledger (the test cluster, a fresh database per test): `run`, `status`,
 * `resume` after a SIGKILL and `cancel`, spawned as the operator would, against the simulator on
 * 127.0.0.1. The URL carries a password (trust auth ignores it) that must never be printed.
 */
import { describe, expect, it } from 'vitest';
import { PgLedger } from '../../../src/ledger/pg/pg-ledger.js';
import { suppressionStoreOf } from '../../../src/ledger/suppression-store.js';
import { writeCampaign } from '../../helpers/campaign-files.js';
import { cliEnv, runCli, startCli, type CliResult } from '../../helpers/cli.js';
import { fastSim, killAfterAccepts, runIdFrom, textedTwice, useE2eEnv, type RunStatusJson } from '../../helpers/e2e-run.js';
import { createDatabase } from '../../helpers/pg-cluster.js';
import { pgRows } from './pg-rows.js';

const e2e = useE2eEnv('bulktext-pgrun-');
const password = 'pw-Secr3t-q1';

async function pgUrl(): Promise<string> {
  const url = new URL(await createDatabase());
  url.password = password;
  return url.toString();
}

/** Every output of every command run in a test, to check that the password never shows. */
function noSecret(...results: CliResult[]): void {
  for (const r of results) expect(`${r.stdout}${r.stderr}`).not.toContain(password);
}

async function statusOn(url: string, runId: string): Promise<{ result: CliResult; status: RunStatusJson }> {
  const result = await runCli(['status', runId, '--db', url, '--json'], { timeoutMs: 30_000 });
  return { result, status: JSON.parse(result.stdout) as RunStatusJson };
}

describe('the run path on a PostgreSQL ledger', { timeout: 120_000 }, () => {
  it('run --sandbox sends every row once; status shows it; a second run of the campaign skips them as already_sent', async () => {
    const url = await pgUrl();
    const { job } = writeCampaign(e2e.dir, { rows: 40 });
    const first = await runCli(['run', job, '--db', url, '--sandbox'], { timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    const runId = runIdFrom(first.stderr);
    expect(first.stderr).toContain('read 40 rows: 40 to send\n');
    expect(first.stderr).toContain(`run ${runId} (e2e-campaign) [sandbox]: completed\n  total 40 · sent 40 · failed 0 · unknown 0 · skipped 0 · pending 0\n`);
    const { result: shown, status } = await statusOn(url, runId);
    expect(status).toMatchObject({ state: 'completed', counts: { total: 40, sent: 40, pending: 0, sending: 0, unknown: 0 } });
    const list = await runCli(['status'], { env: cliEnv({ BULKTEXT_DB: url }), timeoutMs: 30_000 });
    expect(list.stdout).toMatch(new RegExp(`^${runId}  e2e-campaign +completed .* sent 40/40 \\[sandbox\\]$`, 'm'));

    const second = await runCli(['run', job, '--db', url, '--sandbox', '--json'], { timeoutMs: 60_000 });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('read 40 rows: 0 to send, skipped already_sent 40\n');
    const again = JSON.parse(second.stdout) as RunStatusJson;
    expect(again).toMatchObject({ state: 'completed', counts: { total: 40, sent: 0, skipped: 40 } });
    const skipped = await pgRows(url, `SELECT error_detail FROM messages WHERE rid = 2 ORDER BY row LIMIT 1`);
    expect(skipped[0]!['error_detail']).toMatch(new RegExp(`^already_sent: texted by sandbox run ${runId} at `));
    noSecret(first, shown, list, second);
  });

  it('a number on the suppression list is skipped at ingest, and one added while the run sends is not texted', async () => {
    const url = await pgUrl();
    const sim = await e2e.start({ apiKey: 'k', ...fastSim });
    const { job, numbers } = writeCampaign(e2e.dir, { rows: 30, rate: 20, maxConcurrent: 2 });
    const pg = await PgLedger.open(url);
    try {
      await suppressionStoreOf(pg).addSuppression(numbers[3]!, 'stop_reply', 'STOP', Date.now());
    } finally {
      await pg.close();
    }
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url });
    const r = await runCli(['run', job, '--db', url, '--json'], { env, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('read 30 rows: 29 to send, skipped suppressed 1\n');
    expect(JSON.parse(r.stdout)).toMatchObject({ state: 'completed', counts: { sent: 29, skipped: 1 } });
    expect(sim.messages.byRecipient(numbers[3]!)).toHaveLength(0);
    expect(textedTwice(sim, numbers)).toEqual([]);
    noSecret(r);
  });

  it('SIGKILL mid-send, then resume: nobody texted twice, no row lost, unknown at most the requests in flight', async () => {
    const url = await pgUrl();
    const sim = await e2e.start({ apiKey: 'k', ...fastSim });
    const { job, numbers } = writeCampaign(e2e.dir, { rows: 400, rate: 200, maxConcurrent: 8 });
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url, BULKTEXT_DB: url });
    const { killed, runId } = await killAfterAccepts(sim, ['run', job, '--quiet'], env, 100);
    expect(killed.signal).toBe('SIGKILL');
    expect(sim.messages.count()).toBeLessThan(400);

    // Its process is gone: the run is reported interrupted, not running.
    const { status: dead } = await statusOn(url, runId);
    expect(dead.state).toBe('interrupted');

    const resumed = await runCli(['resume', runId, '--json'], { env, timeoutMs: 60_000 });
    expect([0, 3], resumed.stderr).toContain(resumed.code);
    const status = JSON.parse(resumed.stdout) as RunStatusJson;
    expect(status.state).toBe('completed');
    expect(status.counts['sent']! + status.counts['unknown']!).toBe(400);
    expect(status.counts['unknown']).toBeLessThanOrEqual(8);
    expect(textedTwice(sim, numbers)).toEqual([]);
    for (const row of await pgRows(url, `SELECT to_number, status FROM messages`)) {
      const got = sim.messages.byRecipient(row['to_number'] as string).length;
      if (row['status'] === 'sent') expect(got).toBe(1);
      else expect([row['status'], got <= 1]).toEqual(['unknown', true]);
    }
    noSecret(killed, resumed);
  });

  it('cancel stops a run nobody is sending for good: resume refuses it', async () => {
    const url = await pgUrl();
    const sim = await e2e.start({ apiKey: 'k', ...fastSim });
    const { job } = writeCampaign(e2e.dir, { rows: 200, rate: 100, maxConcurrent: 4 });
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url });
    const { runId } = await killAfterAccepts(sim, ['run', job, '--db', url, '--quiet'], env, 20);
    // The hint names the database without its password (PGPASSWORD or ~/.pgpass supplies it).
    const shown = await runCli(['status', runId, '--db', url], { env, timeoutMs: 30_000 });
    const bare = new URL(url);
    bare.password = '';
    expect(shown.stdout).toContain(`  resume with: bulktext resume ${runId} --db ${bare.toString()}\n`);
    const cancelled = await runCli(['cancel', runId, '--db', url], { env, timeoutMs: 30_000 });
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stderr).toContain(`run ${runId} cancelled: nothing was sending it`);
    const resumed = await runCli(['resume', runId, '--db', url], { env, timeoutMs: 30_000 });
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toContain(`run ${runId} was cancelled`);
    noSecret(shown, cancelled, resumed);
  });

  it('cancel while a run is being sent: its process stops taking rows, the run ends cancelled (exit 130), nobody texted twice', async () => {
    const url = await pgUrl();
    const sim = await e2e.start({ apiKey: 'k', ...fastSim });
    const { job, numbers } = writeCampaign(e2e.dir, { rows: 300, rate: 20, maxConcurrent: 2 });
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url, BULKTEXT_DB: url });
    const run = startCli(['run', job, '--json', '--quiet'], { env, timeoutMs: 90_000 });
    const deadline = Date.now() + 30_000;
    while (sim.messages.count() < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const runId = runIdFrom(run.output().stderr);
    const cancelled = await runCli(['cancel', runId], { env, timeoutMs: 60_000 });
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stderr).toContain(`run ${runId} cancelled: its workers stop taking rows and let requests in flight settle\n`);
    const ran = await run.done;
    expect(ran.code, ran.stderr).toBe(130);
    const status = JSON.parse(ran.stdout) as RunStatusJson;
    expect(status.state).toBe('cancelled');
    expect(status.counts['sent']).toBe(sim.messages.count());
    expect(status.counts['sent']).toBeLessThan(300);
    expect(status.counts['sending']).toBe(0);
    expect(textedTwice(sim, numbers)).toEqual([]);
    noSecret(cancelled, ran);
  });

  it('refuses what the PostgreSQL run path does not do yet, before writing anything', async () => {
    const url = await pgUrl();
    const { job } = writeCampaign(e2e.dir, { rows: 3 });
    const r = await runCli(['run', job, '--db', url, '--sandbox', '--canary', '1'], { timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('bulktext: --canary: not available with a PostgreSQL ledger yet (use a SQLite ledger for it)\n');
    // Refused before connecting: the database was not even given the ledger's schema.
    expect(await pgRows(url, `SELECT to_regclass('runs') AS t`)).toEqual([{ t: null }]);
    noSecret(r);
  });
});
