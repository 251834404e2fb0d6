/**
 * The official `telnyx` SDK (v7) as an independent client of the simulator: if Telnyx's own
 * generated client can send through every endpoint, read, cancel, parse our errors into its typed
 * errors and verify our webhook signatures, the simulator speaks Telnyx's wire format.
 */
import Telnyx from 'telnyx';
import { TelnyxWebhook } from 'telnyx/lib/webhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type InProcessSimulator } from '../../src/telnyx/simulator/index.js';
import { startReceiver, type Receiver } from '../unit/simulator/http-support.js';

const TO = '+13125550100';
const LONG = '+13125550001';
const PROFILE = '4000eba1-a0c0-4563-9925-b25e842a7cb6';
const IMG = 'https://example.com/a.png';

let sim: InProcessSimulator;
let hooks: Receiver;
let client: Telnyx;

beforeAll(async () => {
  hooks = await startReceiver();
  sim = await startSimulator({
    seed: 5,
    apiKey: 'KEY_sdk',
    lifecycle: { sendingMs: 10, deliveryMs: 10 },
    webhooks: { defaultWebhookUrl: hooks.url },
  });
  client = new Telnyx({ apiKey: 'KEY_sdk', baseURL: sim.url, maxRetries: 0, timeout: 5000, publicKey: sim.publicKey });
});
afterAll(async () => {
  await sim.close();
  await hooks.close();
});

describe('official telnyx SDK against the simulator', () => {
  it('sends through every endpoint', async () => {
    const results = [
      await client.messages.send({ from: LONG, to: TO, text: 'send' }),
      await client.messages.sendLongCode({ from: LONG, to: TO, text: 'long code' }),
      await client.messages.sendNumberPool({ messaging_profile_id: PROFILE, to: TO, text: 'pool' }),
      await client.messages.sendShortCode({ from: '12345', to: TO, text: 'short code' }),
      await client.messages.sendGroupMms({ from: LONG, to: [TO, '+13125550101'], media_urls: [IMG], text: 'group' }),
      await client.messages.sendWithAlphanumericSender({ from: 'MyShop', to: '+447700900123', text: 'alpha', messaging_profile_id: PROFILE }),
    ];
    for (const r of results) {
      expect(r.data?.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.data?.to?.[0]?.status).toBe('queued');
    }
    expect(results.map((r) => r.data?.text)).toEqual(['send', 'long code', 'pool', 'short code', 'group', 'alpha']);
    expect(results[2]!.data?.from?.phone_number).toMatch(/^\+1833555\d{4}$/);
    expect(results[4]!.data?.type).toBe('MMS');
    expect(sim.messages.count()).toBe(6);
  });

  it('retrieves a message and sees its status move on', async () => {
    // Slow enough that the first read surely comes before delivery, even on a loaded machine.
    await sim.configure({ lifecycle: { sendingMs: 400, deliveryMs: 400 } });
    const sent = await client.messages.sendLongCode({ from: '+13125550002', to: TO, text: 'x' });
    const id = sent.data!.id!;
    const statusOf = async () => ((await client.messages.retrieve(id)).data as { to?: Array<{ status?: string }> }).to?.[0]?.status;
    expect(['queued', 'sending', 'sent']).toContain(await statusOf());
    const deadline = Date.now() + 3000;
    while ((await statusOf()) !== 'delivered' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const got = await client.messages.retrieve(id);
    expect(got.data?.id).toBe(id);
    expect((got.data as { to?: Array<{ status?: string }> }).to?.[0]?.status).toBe('delivered');
    await sim.configure({ lifecycle: { sendingMs: 10, deliveryMs: 10 } });
  });

  it('schedules and cancels', async () => {
    const send_at = new Date(Date.now() + 30 * 60_000).toISOString();
    const viaSend = await client.messages.send({ from: LONG, to: TO, text: 'later', send_at });
    const viaSchedule = await client.messages.schedule({ from: LONG, to: TO, text: 'later too', send_at });
    expect(viaSchedule.data?.to?.[0]?.status).toBe('scheduled');
    const cancelled = await client.messages.cancelScheduled(viaSend.data!.id!);
    expect(cancelled.id).toBe(viaSend.data!.id);
    expect(cancelled.to?.[0]?.status).toBe('cancelled');
    const err = await client.messages.cancelScheduled(viaSend.data!.id!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Telnyx.PermissionDeniedError);
  });

  it('surfaces errors as the SDK typed errors with status and Telnyx body', async () => {
    const bad = await client.messages.sendLongCode({ from: LONG, to: 'nope', text: 'x' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(Telnyx.BadRequestError);
    expect(bad).toBeInstanceOf(Telnyx.APIError);
    expect((bad as InstanceType<typeof Telnyx.APIError>).status).toBe(400);
    expect((bad as { error?: { errors?: Array<{ code: string }> } }).error?.errors?.[0]?.code).toBe('40310');

    const unknown = await client.messages.retrieve('6b0b7e55-6f2d-4b1a-9d36-5c1d1c5b8a10').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(Telnyx.NotFoundError);

    const alphaUs = await client.messages
      .sendWithAlphanumericSender({ from: 'MyShop', to: TO, text: 'x', messaging_profile_id: PROFILE })
      .catch((e: unknown) => e);
    expect(alphaUs).toBeInstanceOf(Telnyx.UnprocessableEntityError);

    const wrongKey = new Telnyx({ apiKey: 'wrong', baseURL: sim.url, maxRetries: 0 });
    const auth = await wrongKey.messages.send({ from: LONG, to: TO, text: 'x' }).catch((e: unknown) => e);
    expect(auth).toBeInstanceOf(Telnyx.AuthenticationError);

    await sim.configure({ stopList: ['+13125550199'] });
    const stop = await client.messages.send({ from: LONG, to: '+13125550199', text: 'x' }).catch((e: unknown) => e);
    expect(stop).toBeInstanceOf(Telnyx.ConflictError);

    await sim.configure({ faults: { recipients: { '+13125550198': ['queue_full', 'server_error'] } } });
    const full = await client.messages.send({ from: LONG, to: '+13125550198', text: 'x' }).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(Telnyx.RateLimitError);
    const fault = await client.messages.send({ from: LONG, to: '+13125550198', text: 'x' }).catch((e: unknown) => e);
    expect(fault).toBeInstanceOf(Telnyx.InternalServerError);
    expect((fault as InstanceType<typeof Telnyx.APIError>).status).toBe(500);
  });

  it("verifies the simulator's webhook signatures with the SDK's Ed25519 verifier", async () => {
    await hooks.waitFor(2);
    expect(hooks.received.length).toBeGreaterThanOrEqual(2);
    const verifier = new TelnyxWebhook(sim.publicKey);
    for (const hook of hooks.received.slice(0, 4)) {
      const headers = Object.fromEntries(Object.entries(hook.headers).map(([k, v]) => [k, String(v)]));
      await expect(verifier.verify(hook.body, headers)).resolves.toBeUndefined();
      const event = await client.webhooks.unwrap(hook.body, { headers });
      expect((event as { data?: { record_type?: string } }).data?.record_type).toBe('event');
      await expect(verifier.verify(hook.body.replace('"event"', '"evenT"'), headers)).rejects.toThrow(/signature/i);
    }
  });
});
