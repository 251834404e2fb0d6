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

  it('rejects bad options before starting a thread, and reports a scenario error from the thread', async () => {
    await expect(startSimulatorWorker({ queueSeconds: -1 })).rejects.toMatchObject({ code: 'ERR_USAGE' });
    await expect(startSimulatorWorker({ scenario: '/nonexistent/scenario.json' })).rejects.toMatchObject({
      code: 'ERR_USAGE',
      message: expect.stringContaining('/nonexistent/scenario.json'),
    });
  });
});
