/**
 * Delivery-receipt webhooks from the simulator to a real node:http receiver on 127.0.0.1:
 * envelope shape (checked against the spec), Ed25519 signatures (checked with node:crypto),
 * retries and failover, duplicates and out-of-order delivery, default and profile URLs.
 */
import { Agent } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type InProcessSimulator, type SimulatorOptions } from '../../src/telnyx/simulator/index.js';
import { validateAgainstSpec, webhookBodySchemaRef } from '../helpers/openapi.js';
import {
  createCaller,
  publicKeyFromBase64,
  startReceiver,
  UUID,
  verifyWebhook,
  type Receiver,
  type ReceivedWebhook,
} from '../unit/simulator/http-support.js';

const agent = new Agent({ keepAliveTimeout: 2000 });
const call = createCaller(agent);
const cleanups: Array<() => Promise<void>> = [];

const FAST = { sendingMs: 20, deliveryMs: 30 };
const TO = '+13125550100';
const LONG = '+13125550001';

async function sim(options: SimulatorOptions): Promise<InProcessSimulator> {
  const s = await startSimulator({ seed: 11, lifecycle: FAST, ...options });
  cleanups.push(() => s.close());
  return s;
}

async function receiver(answer?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(answer);
  cleanups.push(() => r.close());
  return r;
}

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => agent.close());

function types(hooks: ReceivedWebhook[]): string[] {
  return hooks.map((h) => h.json.data.event_type);
}

describe('webhooks', () => {
  it('posts message.sent then message.finalized, signed with the published Ed25519 key', async () => {
    const hooks = await receiver();
    const s = await sim({});
    const sent = await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'hello', webhook_url: hooks.url });
    const id = sent.json.data.id;
    const received = await hooks.waitFor(2);
    expect(types(received)).toEqual(['message.sent', 'message.finalized']);

    const key = publicKeyFromBase64(s.publicKey);
    for (const hook of received) {
      expect(hook.headers['content-type']).toBe('application/json');
      expect(Math.abs(Number(hook.headers['telnyx-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
      expect(Buffer.from(String(hook.headers['telnyx-signature-ed25519']), 'base64')).toHaveLength(64);
      expect(verifyWebhook(key, hook)).toBe(true);
      // The signature covers the raw bytes: a re-serialised or altered body must not verify.
      expect(verifyWebhook(key, hook, hook.body.replace('hello', 'hellO'))).toBe(false);
      const check = validateAgainstSpec(webhookBodySchemaRef('deliveryUpdate'), hook.json);
      expect(check.errors).toEqual([]);
      expect(hook.json.data.id).toMatch(UUID);
      expect(hook.json.data.record_type).toBe('event');
      expect(hook.json.data.payload.id).toBe(id);
      expect(hook.json.meta).toEqual({ attempt: 1, delivered_to: hooks.url });
    }
    expect(received[0]!.json.data.id).not.toBe(received[1]!.json.data.id);
    expect(received[0]!.json.data.payload.to[0].status).toBe('sent');
    expect(received[0]!.json.data.payload.sent_at).not.toBeNull();
    expect(received[1]!.json.data.payload.to[0].status).toBe('delivered');
    expect(received[1]!.json.data.payload.completed_at).not.toBeNull();
    expect(received[1]!.json.data.payload.cost).toEqual({ amount: '0.0040', currency: 'USD' });

    // A different simulator has a different key: its signatures do not verify with this one.
    const other = await sim({});
    expect(verifyWebhook(publicKeyFromBase64(other.publicKey), received[0]!)).toBe(false);
    await s.webhooksIdle();
    expect(s.webhookDeliveries().map((d) => [d.eventType, d.ok, d.status])).toEqual([
      ['message.sent', true, 200],
      ['message.finalized', true, 200],
    ]);
  });

  it('reports a scripted delivery failure in message.finalized errors[]', async () => {
    const hooks = await receiver();
    const s = await sim({ outcomes: { recipients: { [TO]: '40008' } } });
    await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x', webhook_url: hooks.url });
    const [, finalized] = await hooks.waitFor(2);
    expect(finalized!.json.data.payload.to[0].status).toBe('delivery_failed');
    expect(finalized!.json.data.payload.errors).toMatchObject([{ code: '40008', title: 'Undeliverable' }]);
  });

  it('tries the webhook URL 3 times, then the failover URL', async () => {
    const primary = await receiver(() => 500);
    const failover = await receiver();
    const s = await sim({ webhooks: { retryDelayMs: 10 } });
    await call(s.origin, 'POST', '/v2/messages/long_code', {
      from: LONG,
      to: TO,
      text: 'x',
      webhook_url: primary.url,
      webhook_failover_url: failover.url,
    });
    const got = await failover.waitFor(2);
    expect(primary.received).toHaveLength(6);
    const attempts = (hooks: ReceivedWebhook[], type: string) =>
      hooks.filter((h) => h.json.data.event_type === type).map((h) => h.json.meta.attempt);
    expect(attempts(primary.received, 'message.sent')).toEqual([1, 2, 3]);
    expect(attempts(got, 'message.sent')).toEqual([4]);
    expect(got.every((h) => h.json.meta.delivered_to === failover.url)).toBe(true);
    // Every try of one event carries the same event id.
    const sentIds = new Set([...primary.received, ...got].filter((h) => h.json.data.event_type === 'message.sent').map((h) => h.json.data.id));
    expect(sentIds.size).toBe(1);
    await s.webhooksIdle();
    expect(s.webhookDeliveries().filter((d) => !d.ok)).toHaveLength(6);
    expect((await s.stats()).webhooks).toMatchObject({ delivered: 2, failedAttempts: 6, abandoned: 0 });
  });

  it('counts a receiver that does not answer in time as a failed try', async () => {
    const slow = await receiver(() => 'hang');
    const s = await sim({ webhooks: { retryDelayMs: 10, timeoutMs: 150, triesPerUrl: 2 } });
    await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x', webhook_url: slow.url });
    await slow.waitFor(4);
    await s.webhooksIdle();
    const deliveries = s.webhookDeliveries();
    expect(deliveries).toHaveLength(4);
    expect(deliveries.every((d) => !d.ok && d.status === undefined && d.error !== undefined)).toBe(true);
    expect((await s.stats()).webhooks.abandoned).toBe(2);
  });

  it('delivers duplicates with the same event id when asked', async () => {
    const hooks = await receiver();
    const s = await sim({ webhooks: { duplicateProbability: 1 } });
    await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x', webhook_url: hooks.url });
    const got = await hooks.waitFor(4);
    const byId = new Map<string, number>();
    for (const h of got) byId.set(h.json.data.id, (byId.get(h.json.data.id) ?? 0) + 1);
    expect([...byId.values()]).toEqual([2, 2]);
    const key = publicKeyFromBase64(s.publicKey);
    expect(got.every((h) => verifyWebhook(key, h))).toBe(true);
  });

  it('delivers message.finalized before message.sent when out-of-order is on', async () => {
    const hooks = await receiver();
    const s = await sim({ webhooks: { outOfOrderProbability: 1 } });
    await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x', webhook_url: hooks.url });
    expect(types(await hooks.waitFor(2))).toEqual(['message.finalized', 'message.sent']);
  });

  it('uses the default webhook URL for messages without one, and the profile URL before it', async () => {
    const fallback = await receiver();
    const profileHooks = await receiver();
    const s = await sim({
      webhooks: { defaultWebhookUrl: fallback.url },
      profiles: { '6c2d1f7a-0b6e-4c39-9d0e-3a8f5b2e7c11': { numbers: ['+18445550009'], webhookUrl: profileHooks.url } },
    });
    await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x' });
    await call(s.origin, 'POST', '/v2/messages/number_pool', { messaging_profile_id: '6c2d1f7a-0b6e-4c39-9d0e-3a8f5b2e7c11', to: TO, text: 'x' });
    await call(s.origin, 'POST', '/v2/messages/number_pool', { messaging_profile_id: '6c2d1f7a-0b6e-4c39-9d0e-3a8f5b2e7c11', to: TO, text: 'x', use_profile_webhooks: false });
    await fallback.waitFor(4);
    await profileHooks.waitFor(2);
    expect(profileHooks.received.every((h) => h.json.data.payload.from.phone_number === '+18445550009')).toBe(true);
  });

  it('sends no receipts when webhooks are disabled', async () => {
    const hooks = await receiver();
    const s = await sim({ webhooks: { enabled: false } });
    await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x', webhook_url: hooks.url });
    await new Promise((r) => setTimeout(r, 150));
    expect(hooks.received).toHaveLength(0);
    expect(s.webhookDeliveries()).toHaveLength(0);
  });
});
