/**
 * The simulator in a worker thread: same HTTP behaviour, control through the handle, inspection
 * over HTTP, and a clean shutdown.
 */
import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { startSimulatorWorker } from '../../src/telnyx/simulator/index.js';
import { createCaller, publicKeyFromBase64, startReceiver, verifyWebhook } from '../unit/simulator/http-support.js';

const agent = new Agent({ keepAliveTimeout: 2000 });
const call = createCaller(agent);
afterAll(() => agent.close());

const TO = '+13125550100';
const LONG = '+13125550001';

describe('startSimulatorWorker', () => {
  it('serves the API from its own thread and is controlled through the handle', async () => {
    const hooks = await startReceiver();
    const sim = await startSimulatorWorker({ seed: 3, lifecycle: { sendingMs: 10, deliveryMs: 10 }, webhooks: { defaultWebhookUrl: hooks.url } });
    try {
      expect(sim.url).toBe(`${sim.origin}/v2`);
      expect(Buffer.from(sim.publicKey, 'base64')).toHaveLength(32);
      const r = await call(sim.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x' });
      expect(r.status).toBe(200);
      const got = await call(sim.origin, 'GET', `/v2/messages/${r.json.data.id}`);
      expect(got.json.data.id).toBe(r.json.data.id);

      const received = await hooks.waitFor(2);
      expect(received.every((h) => verifyWebhook(publicKeyFromBase64(sim.publicKey), h))).toBe(true);

      const stats = await sim.stats();
      expect(stats.accepted).toBe(1);
      expect(stats.byRecipient).toEqual({ [TO]: 1 });
      expect(stats.acceptedTimestamps).toHaveLength(1);
      const overHttp = await call(sim.origin, 'GET', '/__sim/stats?timestamps=0');
      expect(overHttp.json.accepted).toBe(1);

      await sim.configure({ stopList: [TO] });
      expect((await call(sim.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x' })).status).toBe(409);
      await expect(sim.configure({ stopList: 'nope' } as never)).rejects.toMatchObject({ code: 'ERR_USAGE' });

      await sim.reset();
      expect((await sim.stats()).accepted).toBe(0);
    } finally {
      await sim.close();
      await hooks.close();
    }
    await expect(call(sim.origin, 'GET', '/__sim/stats')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(sim.stats()).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
  });

  it('hands its receipts to the parent in batches, in the order they fall due, and posts none (the sandbox)', async () => {
    const hooks = await startReceiver();
    const bodies: string[] = [];
    const batches: number[] = [];
    const sim = await startSimulatorWorker({ seed: 4, lifecycle: { sendingMs: 10, deliveryMs: 20 }, webhooks: { defaultWebhookUrl: hooks.url } }, (batch) => {
      batches.push(batch.length);
      bodies.push(...batch);
    });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        // A message's own webhook_url (a real address in a job) is ignored too.
        const r = await call(sim.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: `+1312555010${i}`, text: 'x', webhook_url: hooks.url });
        expect(r.status).toBe(200);
        ids.push(r.json.data.id as string);
      }
      const deadline = Date.now() + 5000;
      while (bodies.length < 6 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const events = bodies.map((b) => (JSON.parse(b) as { data: { event_type: string; payload: { id: string; to: Array<{ status: string }> } } }).data);
      expect(events).toHaveLength(6);
      for (const id of ids) {
        const mine = events.filter((e) => e.payload.id === id);
        expect(mine.map((e) => e.event_type)).toEqual(['message.sent', 'message.finalized']);
        expect(mine[1]!.payload.to[0]!.status).toBe('delivered');
      }
      expect(batches.every((n) => n >= 1)).toBe(true);
      expect((await sim.stats()).webhooks).toMatchObject({ delivered: 6, pending: 0 });
      // Nothing went over HTTP.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(hooks.received).toHaveLength(0);
    } finally {
      await sim.close();
      await hooks.close();
    }
  });

  it('rejects bad options before starting a thread, and reports a scenario error from the thread', async () => {
    await expect(startSimulatorWorker({ queueSeconds: -1 })).rejects.toMatchObject({ code: 'ERR_USAGE' });
    await expect(startSimulatorWorker({ scenario: '/nonexistent/scenario.json' })).rejects.toMatchObject({
      code: 'ERR_USAGE',
      message: expect.stringContaining('/nonexistent/scenario.json'),
    });
  });
});
