import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { simulatorCommand } from '../../../src/cli/commands/simulator.js';

describe('simulatorCommand', () => {
  it('prints the base URL, key and env lines, serves until aborted, then returns 0', async () => {
    let out = '';
    let err = '';
    const controller = new AbortController();
    const done = simulatorCommand(
      { port: 0, host: '127.0.0.1', apiKey: 'demo-key' },
      { stdout: (s) => (out += s), stderr: (s) => (err += s), signal: controller.signal },
    );
    const deadline = Date.now() + 5000;
    while (!out.includes('TELNYX_BASE_URL') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const url = /export TELNYX_BASE_URL=(\S+)/.exec(out)?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v2$/);
    expect(out).toMatch(/Webhook public key \(Ed25519, base64\): [A-Za-z0-9+/]{43}=/);
    expect(out).toContain('TELNYX_API_KEY=demo-key');
    const res = await request(`${url}/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer demo-key', 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+13125550001', to: '+13125550100', text: 'hi' }),
    });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    controller.abort();
    await expect(done).resolves.toBe(0);
    expect(err).toContain('stopped');
    await expect(request(`${url}/messages`, { method: 'GET' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('fails with ERR_USAGE on a bad scenario file', async () => {
    const controller = new AbortController();
    await expect(
      simulatorCommand({ scenario: '/nonexistent.json' }, { stdout: () => {}, stderr: () => {}, signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'ERR_USAGE' });
  });
});
