/** Delivery truth through the CLI: receipts resolve in-doubt rows, STOP replies suppress later runs. */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type InProcessSimulator } from '../../src/telnyx/simulator/index.js';
import { cliEnv, runCli, startCli } from '../helpers/cli.js';
import { writeCampaign } from '../helpers/campaign-files.js';
import { freePort } from '../helpers/net.js';
import { tempDir } from '../helpers/temp.js';
import { inboundEvent, post, signedHeaders, waitFor } from '../unit/webhooks/helpers.js';

let tmp: ReturnType<typeof tempDir>;
let sim: InProcessSimulator | undefined;
beforeEach(() => {
  tmp = tempDir('bulktext-delivery-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  tmp.cleanup();
});

const fast = { accountRate: 10_000, senderRates: { longCode: 10_000 }, lifecycle: { sendingMs: 20, deliveryMs: 50 } };

describe('delivery receipts end to end', () => {
  it('an accepted-then-reset row is unknown until its receipt arrives, then sent with the right id', async () => {
    const port = await freePort();
    const { job, numbers } = writeCampaign(tmp.dir, { rows: 3, rate: 20 });
    const victim = numbers[1]!;
    sim = await startSimulator({
      apiKey: 'k',
      ...fast,
      faults: { recipients: { [victim]: ['accept_then_reset'] } },
      webhooks: { defaultWebhookUrl: `http://127.0.0.1:${port}/telnyx`, delayMs: 300 },
    });
    const db = path.join(tmp.dir, 'l.db');
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url, TELNYX_PUBLIC_KEY: sim.publicKey });
    const r = await runCli(['run', job, '--db', db, '--webhooks-port', String(port), '--json', '--quiet'], { env });
    const status = JSON.parse(r.stdout);
    // The receipt proved the in-doubt request was accepted: nobody is left unknown.
    expect(status.counts).toMatchObject({ sent: 3, unknown: 0 });
    expect(status.delivery.delivered).toBe(3);
    expect(r.code).toBe(0);
    const report = JSON.parse((await runCli(['report', status.run_id, '--db', db, '--format', 'json'])).stdout) as Record<string, string>[];
    const row = report.find((x) => x.to === victim)!;
    expect(row.status).toBe('sent');
    expect(row.message_id).toBe(sim.messages.byRecipient(victim)[0]!.id);
    expect(row.delivery_status).toBe('delivered');
    expect(sim.messages.byRecipient(victim)).toHaveLength(1);
  });

  it('a STOP reply received by `bulktext webhooks` makes the next run skip that number as suppressed', async () => {
    sim = await startSimulator({ apiKey: 'k', ...fast, webhooks: { enabled: false } });
    const { job, numbers } = writeCampaign(tmp.dir, { rows: 3, rate: 20 });
    const db = path.join(tmp.dir, 'l.db');
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url, TELNYX_PUBLIC_KEY: sim.publicKey });
    const first = await runCli(['run', job, '--db', db, '--quiet'], { env });
    expect(first.code).toBe(0);

    const port = await freePort();
    const receiver = startCli(['webhooks', '--port', String(port), '--db', db], { env });
    await waitFor(() => receiver.output().stderr.includes('listening') || receiver.output().stdout.includes('listening'), 'receiver start', 10_000);
    const body = inboundEvent(numbers[0]!, '+18445550001', '  stop ');
    const answer = await post(`http://127.0.0.1:${port}/telnyx`, body, signedHeaders(sim.engine.privateKey, body));
    expect(answer.status).toBe(200);
    receiver.child.kill('SIGTERM');
    expect((await receiver.done).code).toBe(0);

    const listed = JSON.parse((await runCli(['suppressions', '--db', db, '--json'], { env })).stdout) as { number: string; source: string }[];
    expect(listed).toEqual([expect.objectContaining({ number: numbers[0], source: 'stop_reply' })]);

    // --allow-repeat: the others are texted again (campaign memory would skip them); the opt-out still wins.
    const second = await runCli(['run', job, '--db', db, '--quiet', '--json', '--allow-repeat'], { env });
    const status = JSON.parse(second.stdout);
    expect(status.counts).toMatchObject({ sent: 2, skipped: 1 });
    const report = JSON.parse((await runCli(['report', status.run_id, '--db', db, '--format', 'json'])).stdout) as Record<string, string>[];
    expect(report.find((x) => x.to === numbers[0])).toMatchObject({ status: 'skipped', error_code: 'suppressed' });
    expect(sim.messages.byRecipient(numbers[0]!)).toHaveLength(1);
  });

  it('a send refused with 40300 adds the number to the suppression list', async () => {
    const { job, numbers } = writeCampaign(tmp.dir, { rows: 2, rate: 20 });
    sim = await startSimulator({ apiKey: 'k', ...fast, stopList: [numbers[0]!], webhooks: { enabled: false } });
    const db = path.join(tmp.dir, 'l.db');
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url });
    expect((await runCli(['run', job, '--db', db, '--quiet'], { env })).code).toBe(3);
    const listed = JSON.parse((await runCli(['suppressions', '--db', db, '--json'], { env })).stdout) as { number: string; source: string }[];
    expect(listed).toEqual([expect.objectContaining({ number: numbers[0], source: '40300' })]);
  });
});
