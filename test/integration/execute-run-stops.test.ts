/**
 * A run over a real ledger file and real HTTP on 127.0.0.1 stops, with every row still pending, when
 * no request can be written: the API key cannot be a header value (undici refuses it locally).
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { executeRun } from '../../src/campaign/execute-run.js';
import { parseJobSpec } from '../../src/config/job-spec.js';
import { seedRun, tempLedger, type TempLedger } from '../helpers/ledger.js';
import { reply, startScriptedServer, type ScriptedServer } from './client-scripted-server.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';
import { runStoreOf } from '../../src/ledger/run-store.js';

let t: TempLedger;
let server: ScriptedServer;
beforeEach(async () => {
  t = tempLedger();
  server = await startScriptedServer((_req, res) => reply(res, 200, { data: { id: 'never', to: [] } }));
});
afterEach(async () => {
  await server.close();
  t.cleanup();
});

// The 20 s bound is below the 30 s request timeout: the run must stop at the first refusal, not wait one out.
it('a key that is not a valid header value stops the run at once: fatal, nothing written, every row pending', { timeout: 20_000 }, async () => {
  const spec = parseJobSpec(
    {
      name: 'bad-key',
      source: { path: 'recipients.csv' },
      sender: { mode: 'long_code', from: '+18445550001' },
      message: { text: 'hello' },
      rate: { messages_per_second: 100, per_sender_per_second: 100, max_concurrent: 4 },
      retry: { attempts: 5, min_delay_ms: 10, max_delay_ms: 20 },
    },
    '/jobs/bad-key.yaml',
  );
  const rid = seedRun(t.ledger, 'bad-key-run', Array.from({ length: 50 }, (_, i) => ({ to: `+141555501${String(i).padStart(2, '0')}`, sender: '+18445550001', text: 'hello' })));
  const result = await executeRun(t.ledger, runStoreOf(t.ledger).getRun('bad-key-run'), spec, {
    apiKey: 'KEY\u0151\u4e00',
    baseUrl: `${server.origin}/v2`,
    requestTimeoutMs: 30_000,
  });
  expect(result.state).toBe('aborted');
  expect(result.summary.fatal).toMatchObject({ code: 'UND_ERR_INVALID_ARG' });
  expect(messageStoreOf(t.ledger).counts(rid)).toMatchObject({ pending: 50, sending: 0, failed: 0, unknown: 0 });
  expect(runStoreOf(t.ledger).getRun('bad-key-run')).toMatchObject({ state: 'aborted', stopCode: 'UND_ERR_INVALID_ARG' });
  expect(server.requests).toHaveLength(0);
});
