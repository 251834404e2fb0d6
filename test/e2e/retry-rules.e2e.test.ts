/**
 * The retry rules end to end: the CLI as a child process, a real ledger file, the simulator (or a
 * scripted node:http server) on 127.0.0.1. An answer that proves nothing was sent never ends a row;
 * an answer that may have created a message is never resent.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type InProcessSimulator } from '../../src/telnyx/simulator/index.js';
import { specExample } from '../helpers/openapi.js';
import { cliEnv, runCli } from '../helpers/cli.js';
import { writeCampaign } from '../helpers/campaign-files.js';
import { tempDir } from '../helpers/temp.js';
import { fastSim, runIdFrom, statusOf, textedTwice, type RunStatusJson as Status } from '../helpers/e2e-run.js';
import { closedPort, reply, startScriptedServer, type ScriptedServer } from '../integration/client-scripted-server.js';
import { withLedgerSql } from '../helpers/ledger-sql.js';

let tmp: ReturnType<typeof tempDir>;
let sim: InProcessSimulator | undefined;
let scripted: ScriptedServer | undefined;

beforeEach(() => {
  tmp = tempDir('bulktext-retry-');
});
afterEach(async () => {
  await sim?.close();
  await scripted?.close();
  sim = scripted = undefined;
  tmp.cleanup();
});

function rowsOf(db: string): { to: string; status: string; error_detail: string | null }[] {
  return withLedgerSql(db, (ledger) => ledger.all(`SELECT to_number AS "to", status, error_detail FROM messages ORDER BY row`), { readonly: true }) as never;
}

describe('an API that cannot be reached', () => {
  it('stops the run (exit 4) with every row pending; resume against a live API sends each once', { timeout: 60_000 }, async () => {
    const { job, numbers } = writeCampaign(tmp.dir, { rows: 40, rate: 200, maxConcurrent: 4, attempts: 50 });
    const db = path.join(tmp.dir, 'l.db');
    const url = `http://127.0.0.1:${await closedPort()}/v2`;

    const first = await runCli(['run', job, '--db', db], { env: cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: url }) });
    expect(first.code).toBe(4);
    expect(first.stderr).toContain(`cannot reach TELNYX_BASE_URL ${url}`);
    expect(first.stderr).toMatch(/20 attempts in a row/);
    const runId = runIdFrom(first.stderr);
    const stopped = await statusOf(db, runId);
    expect(stopped).toMatchObject({ state: 'aborted', stop: { code: 'unreachable' } });
    expect(stopped.counts).toMatchObject({ pending: 40, failed: 0, unknown: 0, sending: 0 });

    sim = await startSimulator({ apiKey: 'k', ...fastSim });
    const resumed = await runCli(['resume', runId, '--db', db], { env: cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url }) });
    expect(resumed.stderr).not.toContain('nothing left to send');
    expect(resumed.stderr).toContain('40 row(s) to send');
    expect(resumed.code).toBe(0);
    expect(await statusOf(db, runId)).toMatchObject({ state: 'completed', counts: { sent: 40, pending: 0 } });
    expect(sim.messages.count()).toBe(40);
    expect(textedTwice(sim, numbers)).toEqual([]);
  });
});

describe('answers from the API', () => {
  it('a 404 with a Telnyx body on the send path (base URL without /v2) stops the run: exit 4, rows pending', async () => {
    sim = await startSimulator({ apiKey: 'k', ...fastSim });
    const { job, numbers } = writeCampaign(tmp.dir, { rows: 30, rate: 200, maxConcurrent: 4 });
    const db = path.join(tmp.dir, 'l.db');
    const wrongUrl = sim.url.replace(/\/v2$/, '');

    const first = await runCli(['run', job, '--db', db, '--quiet'], { env: cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: wrongUrl }) });
    expect(first.code).toBe(4);
    const runId = runIdFrom(first.stderr);
    const stopped = await statusOf(db, runId);
    expect(stopped).toMatchObject({ state: 'aborted', stop: { code: '10005' } });
    expect(stopped.counts).toMatchObject({ pending: 30, failed: 0 });
    expect(sim.messages.count()).toBe(0);

    const resumed = await runCli(['resume', runId, '--db', db, '--quiet'], { env: cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url }) });
    expect(resumed.code).toBe(0);
    expect(sim.messages.count()).toBe(30);
    expect(textedTwice(sim, numbers)).toEqual([]);
  });

  it('a 500 with a Telnyx body is in doubt: the row is unknown and never resent', async () => {
    const { job, numbers } = writeCampaign(tmp.dir, { rows: 4, rate: 50, maxConcurrent: 2 });
    sim = await startSimulator({ apiKey: 'k', ...fastSim, faults: { recipients: { [numbers[1]!]: ['server_error'] } } });
    const db = path.join(tmp.dir, 'l.db');
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url });

    const first = await runCli(['run', job, '--db', db, '--quiet', '--json'], { env });
    expect(first.code).toBe(3);
    const status = JSON.parse(first.stdout) as Status;
    expect(status.counts).toMatchObject({ sent: 3, unknown: 1, failed: 0 });
    expect(rowsOf(db)[1]).toMatchObject({ status: 'unknown' });
    expect((await sim.stats()).requests).toBe(4);

    const resumed = await runCli(['resume', status.run_id, '--db', db, '--quiet'], { env });
    expect(resumed.code).toBe(3);
    expect((await sim.stats()).requests).toBe(4);
  });

  it('a 2xx with a message id and odd fields is sent, the fields recorded as absent, with a warning', async () => {
    const example = specExample('OutboundMessagePayload') as Record<string, unknown>;
    let n = 0;
    scripted = await startScriptedServer((_req, res) =>
      reply(res, 200, { data: { ...example, id: `odd-${++n}`, to: [{ status: 'queued' }], cost: { amount: null, currency: 'USD' } } }),
    );
    const { job } = writeCampaign(tmp.dir, { rows: 3, rate: 50, maxConcurrent: 1 });
    const db = path.join(tmp.dir, 'l.db');
    const r = await runCli(['run', job, '--db', db, '--json'], { env: cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: `${scripted.origin}/v2` }) });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Status).counts).toMatchObject({ sent: 3, unknown: 0 });
    expect(r.stderr).toContain('warning: 3 answer(s) from Telnyx had missing or unreadable fields; the messages were sent');
    expect(r.stderr).toMatch(/odd answers 3/);
    for (const row of rowsOf(db)) {
      expect(row).toMatchObject({ status: 'sent' });
      expect(row.error_detail).toBe("sent; Telnyx's answer lacked or garbled to.0.phone_number, cost.amount (recorded as absent)");
    }
  });
});

describe('throttling', () => {
  it('a 40318 storm of about 20 s: the run slows to what Telnyx drains and ends with every row sent, none failed', { timeout: 120_000 }, async () => {
    // One toll-free sender that Telnyx drains at 6 msg/s, with a queue of 3 s: 120 rows take ~20 s, and a
    // run allowed 50 msg/s fills the queue within half a second.
    const { job, numbers } = writeCampaign(tmp.dir, { rows: 120, rate: 50, maxConcurrent: 8, attempts: 2 });
    writeFileSync(job, readFileSync(job, 'utf8').replace(/from: \[.*\]/, 'from: "+18445550001"'));
    sim = await startSimulator({ apiKey: 'k', ...fastSim, senderRates: { tollFree: 6 }, queueSeconds: 3 });
    const db = path.join(tmp.dir, 'l.db');
    const r = await runCli(['run', job, '--db', db, '--json'], { env: cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url }), timeoutMs: 110_000 });
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout) as Status;
    expect(status).toMatchObject({ state: 'completed', counts: { sent: 120, failed: 0, unknown: 0, pending: 0 } });
    expect(sim.messages.count()).toBe(120);
    expect(textedTwice(sim, numbers)).toEqual([]);
    // Refused for rate along the way, and it said so; `retry.attempts` (2) does not limit throttled retries.
    expect((await sim.stats()).rejected['40318']).toBeGreaterThan(2);
    expect(r.stderr).toMatch(/throttled by Telnyx \(40318\): limit \d+\.\d\/s of 50\/s/);
  });
});

describe('resume --retry-failed', () => {
  it('re-queues only failed rows whose answers prove nothing was created, by code when given; never unknown rows', { timeout: 60_000 }, async () => {
    const example = specExample('OutboundMessagePayload') as Record<string, unknown>;
    const { job, numbers } = writeCampaign(tmp.dir, { rows: 6, rate: 50, maxConcurrent: 1 });
    const refuse: Record<string, [number, string]> = { [numbers[0]!]: [422, '40310'], [numbers[1]!]: [409, '40300'], [numbers[2]!]: [500, '10007'] };
    let n = 0;
    scripted = await startScriptedServer((req, res) => {
      const to = (JSON.parse(req.body) as { to: string }).to;
      const refusal = refuse[to];
      if (refusal !== undefined) reply(res, refusal[0], { errors: [{ code: refusal[1], title: 'refused', detail: `refused ${to}` }] });
      else reply(res, 200, { data: { ...example, id: `m-${++n}`, to: [{ phone_number: to, status: 'queued' }] } });
    });
    const db = path.join(tmp.dir, 'l.db');
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: `${scripted.origin}/v2` });
    const first = await runCli(['run', job, '--db', db, '--quiet', '--json'], { env });
    expect(first.code).toBe(3);
    const runId = (JSON.parse(first.stdout) as Status).run_id;
    expect((JSON.parse(first.stdout) as Status).counts).toMatchObject({ sent: 3, failed: 2, unknown: 1 });

    // Telnyx would now take every message: only the rows named by code go again.
    for (const to of Object.keys(refuse)) delete refuse[to];
    const byCode = await runCli(['resume', runId, '--db', db, '--retry-failed', '40310'], { env });
    expect(byCode.stderr).toContain('--retry-failed: re-queued 1 failed row(s) with 40310 whose answers prove no message was created');
    expect(byCode.code).toBe(3);
    const sentTo = () => scripted!.requests.map((r) => (JSON.parse(r.body) as { to: string }).to);
    expect(sentTo().filter((to) => to === numbers[0])).toHaveLength(2);
    expect(await statusOf(db, runId)).toMatchObject({ counts: { sent: 4, failed: 1, unknown: 1 } });

    // Without codes: the STOP refusal is provable too, but that number opted out, so it is skipped, not sent.
    const all = await runCli(['resume', runId, '--db', db, '--retry-failed'], { env });
    expect(all.stderr).toContain('--retry-failed: re-queued 1 failed row(s) whose answers prove no message was created');
    expect(sentTo().filter((to) => to === numbers[1])).toHaveLength(1);
    // The in-doubt row is never re-queued.
    expect(sentTo().filter((to) => to === numbers[2])).toHaveLength(1);
    const after = await statusOf(db, runId);
    expect(after.counts).toMatchObject({ sent: 4, failed: 0, unknown: 1, skipped: 1 });

    const bad = await runCli(['resume', runId, '--db', db, '--retry-failed', '40310;drop'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--retry-failed takes error codes separated by commas');
  });
});
