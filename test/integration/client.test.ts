/**
 * The Telnyx client over real HTTP on 127.0.0.1: every outcome of the classification table is
 * produced by a scripted node:http server, not by constructing errors by hand.
 */
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { isAppError } from '../../src/shared/errors.js';
import { classifySendError, type SendFailure } from '../../src/telnyx/classify.js';
import { createTelnyxClient, oddFieldsOf, type TelnyxClient } from '../../src/telnyx/client.js';
import {
  TelnyxAbortedError,
  TelnyxApiError,
  TelnyxNetworkError,
  TelnyxRequestInvalidError,
  TelnyxResponseInvalidError,
} from '../../src/telnyx/errors.js';
import type { LongCodeRequest } from '../../src/telnyx/wire.js';
import { specExample } from '../helpers/openapi.js';
import { closedPort, reply, startScriptedServer, telnyxErrors, type ScriptedServer } from './client-scripted-server.js';

const apiKey = 'KEY01TESTSECRET_x9q2mZ7pL4vN8rB3';
const body: LongCodeRequest = { from: '+18445550001', to: '+18665550001', text: 'Hello, World!' };
const example = specExample('OutboundMessagePayload') as Record<string, unknown>;

let server: ScriptedServer;
let client: TelnyxClient;
const extraClients: TelnyxClient[] = [];

function newClient(options: { connections?: number; timeoutMs?: number; baseUrl?: string } = {}): TelnyxClient {
  const c = createTelnyxClient({ apiKey, baseUrl: `${server.origin}/v2`, connections: 4, timeoutMs: 5_000, ...options });
  extraClients.push(c);
  return c;
}

beforeEach(async () => {
  server = await startScriptedServer();
  client = newClient();
});

afterEach(async () => {
  await server.close();
  await Promise.all(extraClients.splice(0).map((c) => c.close()));
});

function assertNoKey(value: unknown): void {
  const views = [inspect(value, { depth: Infinity, showHidden: true }), String(value)];
  if (value instanceof Error) views.push(value.message, value.stack ?? '');
  try {
    views.push(JSON.stringify(value) ?? '');
  } catch {
    // cyclic: inspect above already covered it
  }
  for (const view of views) expect(view).not.toContain(apiKey);
}

/** The rejection of `p` and its classification; fails the test when `p` resolves. */
async function failure(p: Promise<unknown>): Promise<{ err: unknown; outcome: SendFailure }> {
  const err = await p.then(
    (v) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
  assertNoKey(err);
  return { err, outcome: classifySendError(err) };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('accepted', () => {
  test('200 resolves with the message; the request is a bearer-authenticated JSON POST under the base path', async () => {
    server.script((_req, res) => reply(res, 200, { data: { ...example, cost: null, brand_new_field: { x: 1 } } }));
    const message = await client.sendLongCode(body);
    expect(message.id).toBe('40385f64-5717-4562-b3fc-2c963f66afa6');
    expect(message.to[0]?.status).toBe('queued');
    expect(message.cost).toBeNull();
    expect((message as Record<string, unknown>)['brand_new_field']).toEqual({ x: 1 });

    const [req] = server.requests;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/v2/messages/long_code');
    expect(req?.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers.accept).toBe('application/json');
    expect(JSON.parse(req?.body ?? '')).toEqual(body);
  });

  test('cost.amount arrives as a string', async () => {
    server.script((_req, res) => reply(res, 200, { data: example }));
    const message = await client.sendLongCode(body);
    expect(message.cost).toEqual({ amount: '0.0051', currency: 'USD' });
  });

  test.each([
    ['messages', '/v2/messages'],
    ['long_code', '/v2/messages/long_code'],
    ['number_pool', '/v2/messages/number_pool'],
    ['short_code', '/v2/messages/short_code'],
    ['alphanumeric', '/v2/messages/alphanumeric_sender_id'],
  ] as const)('send(%s) posts to %s', async (kind, path) => {
    server.script((_req, res) => reply(res, 200, { data: example }));
    const sendBody = { from: 'MyCompany', to: '+447700900001', text: 'hi', messaging_profile_id: 'abc' };
    await client.send(kind, sendBody as never);
    expect(server.requests.map((r) => r.url)).toEqual([path]);
  });

  test('a base URL without a path, or with a trailing slash, still builds the right paths', async () => {
    server.script((_req, res) => reply(res, 200, { data: example }));
    await newClient({ baseUrl: server.origin }).sendShortCode(body);
    await newClient({ baseUrl: `${server.origin}/v2/` }).sendShortCode(body);
    expect(server.requests.map((r) => r.url)).toEqual(['/messages/short_code', '/v2/messages/short_code']);
  });
});

describe('fatal, throttled and rejected answers from Telnyx', () => {
  test.each([
    [401, '10009', 'fatal'],
    [403, '10010', 'fatal'],
    [403, '40314', 'fatal'],
    [402, '20100', 'fatal'],
    [429, '40333', 'fatal'],
    [429, '40318', 'throttled'],
    [422, '40310', 'rejected'],
    [409, '40300', 'rejected'],
    [400, '10015', 'rejected'],
  ] as const)('%i %s → %s', async (status, code, kind) => {
    server.script((_req, res) => reply(res, status, telnyxErrors(code)));
    const { err, outcome } = await failure(client.sendLongCode(body));
    expect(err).toBeInstanceOf(TelnyxApiError);
    expect((err as TelnyxApiError).status).toBe(status);
    expect((err as TelnyxApiError).firstCode).toBe(code);
    expect((err as TelnyxApiError).message).toBe(`Telnyx ${status} ${code} Title ${code}: Detail for ${code}`);
    expect(outcome).toMatchObject({ kind, code, status });
  });

  test('429 10011 with Retry-After waits that long', async () => {
    server.script((_req, res) =>
      reply(res, 429, telnyxErrors('10011'), { 'retry-after': '2', 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '9' }),
    );
    const { err, outcome } = await failure(client.sendLongCode(body));
    expect(outcome).toMatchObject({ kind: 'throttled', code: '10011', retryAfterMs: 2000 });
    expect((err as TelnyxApiError).rateLimit).toEqual({ limit: 100, remaining: 0, resetSeconds: 9 });
  });

  test('429 10011 with only x-ratelimit-reset waits for the reset', async () => {
    server.script((_req, res) => reply(res, 429, telnyxErrors('10011'), { 'x-ratelimit-reset': '3' }));
    const { outcome } = await failure(client.sendLongCode(body));
    expect(outcome).toMatchObject({ kind: 'throttled', code: '10011', retryAfterMs: 3000 });
  });

  test('a group MMS to nine recipients is refused before anything is sent', async () => {
    server.script((_req, res) => reply(res, 200, { data: example }));
    const to = Array.from({ length: 9 }, (_, i) => `+1866555000${i}`);
    const { err, outcome } = await failure(client.sendGroupMms({ from: '+18445550001', to, media_urls: ['https://x.test/a.png'] }));
    expect(err).toBeInstanceOf(TelnyxRequestInvalidError);
    expect(outcome.kind).toBe('rejected');
    expect(server.requests).toHaveLength(0);

    await client.sendGroupMms({ from: '+18445550001', to: to.slice(0, 8), media_urls: ['https://x.test/a.png'] });
    expect(server.requests.map((r) => JSON.parse(r.body).to.length)).toEqual([8]);
  });
});

describe('retryable: surely not created', () => {
  test('503 without a body', async () => {
    server.script((_req, res) => reply(res, 503, ''));
    const { outcome } = await failure(client.sendLongCode(body));
    expect(outcome).toMatchObject({ kind: 'retryable', status: 503 });
  });

  test('connection refused happens before anything is written: the API is unreachable', async () => {
    const port = await closedPort();
    const c = createTelnyxClient({ apiKey, baseUrl: `http://127.0.0.1:${port}/v2`, timeoutMs: 5_000 });
    extraClients.push(c);
    const { err, outcome } = await failure(c.sendLongCode(body));
    expect(err).toBeInstanceOf(TelnyxNetworkError);
    expect(err).toMatchObject({ causeCode: 'ECONNREFUSED', phase: 'connect' });
    expect(outcome).toMatchObject({ kind: 'unreachable', code: 'ECONNREFUSED' });
  });

  test('TLS spoken to a plain HTTP server fails before anything is written: unreachable', async () => {
    const c = createTelnyxClient({ apiKey, baseUrl: `${server.origin.replace('http:', 'https:')}/v2`, timeoutMs: 5_000 });
    extraClients.push(c);
    const { err, outcome } = await failure(c.sendLongCode(body));
    expect(err).toMatchObject({ phase: 'connect' });
    expect(outcome.kind).toBe('unreachable');
    expect(server.requests).toHaveLength(0);
  });

  test('a key that cannot be a header value fails here, before anything is written: fatal for the run', async () => {
    server.script((_req, res) => reply(res, 200, { data: example }));
    const c = createTelnyxClient({ apiKey: 'KEY\u0151\u4e00', baseUrl: `${server.origin}/v2`, timeoutMs: 5_000 });
    extraClients.push(c);
    const { err, outcome } = await failure(c.sendLongCode(body));
    expect(err).toMatchObject({ causeCode: 'UND_ERR_INVALID_ARG', phase: 'connect' });
    expect(outcome).toMatchObject({ kind: 'fatal', code: 'UND_ERR_INVALID_ARG' });
    await delay(50);
    expect(server.requests).toHaveLength(0);
  });

  test('a caller abort before sending sends nothing and is not in doubt', async () => {
    server.script((_req, res) => reply(res, 200, { data: example }));
    const controller = new AbortController();
    controller.abort(new Error('run stopped'));
    const { err, outcome } = await failure(client.sendLongCode(body, { signal: controller.signal }));
    expect(err).toBeInstanceOf(TelnyxAbortedError);
    expect(err).toMatchObject({ reason: 'aborted', phase: 'connect' });
    expect(outcome.kind).toBe('retryable');
    await delay(50);
    expect(server.requests).toHaveLength(0);
  });

  test('aborted or timed out while queued behind a busy connection: never written', async () => {
    const c = newClient({ connections: 1 });
    let release: () => void = () => {};
    server.script((_req, res) => {
      release = () => reply(res, 200, { data: example });
    });
    const first = c.sendLongCode(body);
    while (server.requests.length === 0) await delay(5);

    const controller = new AbortController();
    const queuedAbort = failure(c.sendLongCode({ ...body, text: 'aborted' }, { signal: controller.signal }));
    const queuedTimeout = failure(c.sendLongCode({ ...body, text: 'timed out' }, { timeoutMs: 100 }));
    controller.abort();
    const aborted = await queuedAbort;
    const timedOut = await queuedTimeout;
    expect(aborted.err).toMatchObject({ reason: 'aborted', phase: 'connect' });
    expect(aborted.outcome.kind).toBe('retryable');
    expect(timedOut.err).toMatchObject({ reason: 'timeout', phase: 'connect', timeoutMs: 100 });
    // No connection within the time limit: the API counts as unreachable for this attempt.
    expect(timedOut.outcome.kind).toBe('unreachable');

    release();
    await first;
    // The pool now hands the settled requests to the free socket; they must be dropped unwritten.
    server.script((_req, res) => reply(res, 200, { data: example }));
    await c.sendLongCode({ ...body, text: 'after' });
    expect(server.requests.map((r) => JSON.parse(r.body).text)).toEqual(['Hello, World!', 'after']);
  });
});

describe('404 on a send endpoint: a wrong URL stops the run', () => {
  test.each([
    ['with a Telnyx body', telnyxErrors('10005')],
    ['with an HTML page', '<html>Not Found</html>'],
  ])('404 %s is fatal', async (_name, answer) => {
    server.script((_req, res) => reply(res, 404, answer));
    const { outcome } = await failure(client.sendLongCode(body));
    expect(outcome).toMatchObject({ kind: 'fatal', status: 404 });
  });
});

describe('a 2xx with a message id is sent, whatever else is odd in it', () => {
  test('a to entry without phone_number and cost.amount null are left out and named', async () => {
    const odd = { ...example, to: [{ status: 'queued', carrier: 'T-Mobile' }], cost: { amount: null, currency: 'USD' } };
    server.script((_req, res) => reply(res, 200, { data: odd }));
    const message = await client.sendLongCode(body);
    expect(message.id).toBe('40385f64-5717-4562-b3fc-2c963f66afa6');
    expect(message.to).toEqual([]);
    expect(message.cost).toBeUndefined();
    expect(message.parts).toBe(example['parts']);
    expect(oddFieldsOf(message)).toEqual(['to.0.phone_number', 'cost.amount']);
  });

  test('a readable answer has no odd fields', async () => {
    server.script((_req, res) => reply(res, 200, { data: example }));
    expect(oddFieldsOf(await client.sendLongCode(body))).toBeUndefined();
  });

  test('without an id it stays in doubt', async () => {
    server.script((_req, res) => reply(res, 200, { data: { ...example, id: undefined, parts: 'two' } }));
    const { err, outcome } = await failure(client.sendLongCode(body));
    expect(err).toBeInstanceOf(TelnyxResponseInvalidError);
    expect(outcome).toMatchObject({ kind: 'in_doubt', status: 200 });
  });

  test('retrieve still insists on a whole message', async () => {
    server.script((_req, res) => reply(res, 200, { data: { ...example, cost: { amount: null, currency: 'USD' } } }));
    const { err } = await failure(client.retrieve('40385f64-5717-4562-b3fc-2c963f66afa6'));
    expect(err).toBeInstanceOf(TelnyxResponseInvalidError);
  });
});

describe('in doubt: may have created a message', () => {
  test.each([
    ['500 with a Telnyx error body', 500, telnyxErrors('10007')],
    ['501 with a Telnyx error body', 501, telnyxErrors('10007')],
  ])('%s', async (_name, status, answer) => {
    server.script((_req, res) => reply(res, status, answer));
    const { err, outcome } = await failure(client.sendLongCode(body));
    expect(err).toMatchObject({ status, hasTelnyxBody: true });
    expect(outcome).toMatchObject({ kind: 'in_doubt', status, code: '10007' });
  });

  test.each([
    ['502 without a body', 502, ''],
    ['504 gateway timeout', 504, '<html>Gateway Timeout</html>'],
    ['500 with an HTML body', 500, '<html><body>Internal Server Error</body></html>'],
  ])('%s', async (_name, status, text) => {
    server.script((_req, res) => reply(res, status, text));
    const { err, outcome } = await failure(client.sendLongCode(body));
    expect(err).toMatchObject({ status, hasTelnyxBody: false });
    expect(outcome).toMatchObject({ kind: 'in_doubt', status });
  });

  test('the server reads the whole request, then resets the connection', async () => {
    server.script((_req, _res, socket) => socket.destroy());
    const { err, outcome } = await failure(client.sendLongCode(body));
    expect(err).toBeInstanceOf(TelnyxNetworkError);
    expect(err).toMatchObject({ phase: 'after_write' });
    expect(outcome.kind).toBe('in_doubt');
    expect(JSON.parse(server.requests[0]?.body ?? '')).toEqual(body);
  });

  test('the server sends 200 headers and part of the body, then resets', async () => {
    server.script((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
      res.write('{"data":{"id":"40385f64');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const { err, outcome } = await failure(client.sendLongCode(body));
    expect(err).toMatchObject({ phase: 'after_write' });
    expect(outcome.kind).toBe('in_doubt');
  });

  test('the server never answers: our timeout fires after the request was written', async () => {
    server.script(() => {});
    const started = Date.now();
    const { err, outcome } = await failure(client.sendLongCode(body, { timeoutMs: 200 }));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(err).toBeInstanceOf(TelnyxAbortedError);
    expect(err).toMatchObject({ reason: 'timeout', phase: 'after_write', timeoutMs: 200 });
    expect(isAppError(err, 'ERR_TELNYX_ABORTED')).toBe(true);
    expect(outcome.kind).toBe('in_doubt');
    expect(server.requests).toHaveLength(1);
  });

  test('a caller abort after the request was written is in doubt', async () => {
    server.script(() => {});
    const controller = new AbortController();
    const pending = failure(client.sendLongCode(body, { signal: controller.signal }));
    while (server.requests.length === 0) await delay(5);
    controller.abort();
    const { err, outcome } = await pending;
    expect(err).toMatchObject({ reason: 'aborted', phase: 'after_write' });
    expect(outcome.kind).toBe('in_doubt');
  });

  test('one run-wide signal over 50 sends: written ones are in doubt, queued ones are not, no listener leak', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      server.script(() => {});
      const controller = new AbortController();
      const pending = Array.from({ length: 50 }, (_, i) =>
        failure(client.sendLongCode({ ...body, text: `m${i}` }, { signal: controller.signal })),
      );
      while (server.requests.length < 4) await delay(5);
      await delay(20);
      controller.abort();
      const results = await Promise.all(pending);
      const written = results.filter((r) => (r.err as TelnyxAbortedError).phase === 'after_write');
      expect(written).toHaveLength(4); // the client's 4 connections, each holding one unanswered request
      expect(written.every((r) => r.outcome.kind === 'in_doubt')).toBe(true);
      expect(results.filter((r) => r.outcome.kind === 'retryable')).toHaveLength(46);
      await delay(50);
      expect(server.requests).toHaveLength(4);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  test.each([
    ['garbage', 'this is not json'],
    ['JSON that is not a message', JSON.stringify({ data: { id: 42 } })],
    ['an empty body', ''],
  ])('200 with %s', async (_name, text) => {
    server.script((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(text);
    });
    const { err, outcome } = await failure(client.sendLongCode(body));
    expect(err).toBeInstanceOf(TelnyxResponseInvalidError);
    expect(outcome).toMatchObject({ kind: 'in_doubt', status: 200 });
  });
});

describe('the API key stays secret', () => {
  test('never in errors, even when a server echoes the Authorization header back', async () => {
    server.script((req, res) => reply(res, 500, `<html><pre>${req.headers.authorization ?? ''}</pre></html>`));
    const echoed = await failure(client.sendLongCode(body));
    expect((echoed.err as TelnyxApiError).bodyExcerpt).toContain('Bearer [REDACTED]');

    server.script((req, res) => {
      res.writeHead(200);
      res.end(`oops ${req.headers.authorization ?? ''}`);
    });
    const garbage = await failure(client.sendLongCode(body));
    expect((garbage.err as TelnyxResponseInvalidError).bodyExcerpt).toContain('[REDACTED]');

    server.script((req, res) => reply(res, 422, telnyxErrors('40310')));
    await failure(client.sendLongCode(body));
    server.script((_req, _res, socket) => socket.destroy());
    await failure(client.sendLongCode(body));
    server.script(() => {});
    await failure(client.sendLongCode(body, { timeoutMs: 50 }));
    // failure() has checked message, stack, inspect and JSON of each error above.
  });

  test('never in util.inspect or JSON of the client', () => {
    expect(inspect(client, { depth: Infinity, showHidden: true })).not.toContain(apiKey);
    expect(JSON.stringify(client)).not.toContain(apiKey);
    expect(Object.values(client).join(' ')).not.toContain(apiKey);
  });

  test('bad options are refused without echoing the key', () => {
    expect(() => createTelnyxClient({ apiKey: '' })).toThrow(/API key is empty/);
    const badKey = `${apiKey}\r\nx-evil: 1`;
    try {
      createTelnyxClient({ apiKey: badKey });
      expect.unreachable();
    } catch (err) {
      expect(isAppError(err, 'ERR_USAGE')).toBe(true);
      assertNoKey(err);
    }
    expect(() => createTelnyxClient({ apiKey, baseUrl: 'not a url' })).toThrow(/not a URL/);
    expect(() => createTelnyxClient({ apiKey, baseUrl: 'ftp://x.test' })).toThrow(/http\(s\)/);
    expect(() => createTelnyxClient({ apiKey, connections: 0 })).toThrow(/connections/);
    expect(() => createTelnyxClient({ apiKey, timeoutMs: -1 })).toThrow(/timeoutMs/);
    expect(() => createTelnyxClient({ apiKey, pipelining: 2 as 1 })).toThrow(/pipelining/);
  });
});

describe('connections', () => {
  test('500 concurrent sends over at most 8 connections', async () => {
    const c = newClient({ connections: 8 });
    server.script((_req, res) => setTimeout(() => reply(res, 200, { data: example }), 2));
    const messages = await Promise.all(Array.from({ length: 500 }, (_, i) => c.sendLongCode({ ...body, text: `m${i}` })));
    expect(messages).toHaveLength(500);
    expect(server.requests).toHaveLength(500);
    expect(server.connectionCount).toBeLessThanOrEqual(8);
    expect(server.connectionCount).toBeGreaterThan(1);
    expect(server.maxInFlight).toBeLessThanOrEqual(8);
  });

  test('sequential sends reuse one keep-alive connection', async () => {
    server.script((_req, res) => reply(res, 200, { data: example }));
    for (let i = 0; i < 20; i++) await client.sendLongCode(body);
    // undici's Pool reports a connection busy until its 'drain' fires, so the second send may open a
    // second connection (request() does the same); after that they are reused.
    expect(server.connectionCount).toBeLessThanOrEqual(2);
  });

  test('after close() a send fails before anything is written', async () => {
    const c = createTelnyxClient({ apiKey, baseUrl: server.origin });
    await c.close();
    const { err, outcome } = await failure(c.sendLongCode(body));
    expect(err).toMatchObject({ phase: 'connect' });
    expect(outcome.kind).toBe('retryable');
    expect(server.requests).toHaveLength(0);
  });
});

describe('retrieve and cancelScheduled', () => {
  test('retrieve GETs the message by its encoded id', async () => {
    server.script((_req, res) => reply(res, 200, { data: { ...example, to: [{ phone_number: '+18665550001', status: 'delivered' }] } }));
    const message = await client.retrieve('40385f64-5717-4562-b3fc-2c963f66afa6');
    expect(message.to[0]?.status).toBe('delivered');
    await client.retrieve('a/b?c');
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /v2/messages/40385f64-5717-4562-b3fc-2c963f66afa6',
      'GET /v2/messages/a%2Fb%3Fc',
    ]);
    expect(server.requests[0]?.headers['content-type']).toBeUndefined();
  });

  test('retrieve of an unknown id is a 404 API error', async () => {
    server.script((_req, res) => reply(res, 404, telnyxErrors('10005')));
    const { err } = await failure(client.retrieve('nope'));
    expect(err).toMatchObject({ status: 404, firstCode: '10005' });
    await expect(client.retrieve('')).rejects.toBeInstanceOf(TelnyxRequestInvalidError);
  });

  test('cancelScheduled DELETEs and reads the bare cancelled message the spec documents', async () => {
    const cancelled = specExample('OutboundMessagePayloadCancelled');
    server.script((_req, res) => reply(res, 200, cancelled));
    const message = await client.cancelScheduled('40385f64-5717-4562-b3fc-2c963f66afa6');
    expect(message.to[0]?.status).toBe('cancelled');
    expect(server.requests[0]?.method).toBe('DELETE');

    server.script((_req, res) => reply(res, 200, { data: cancelled }));
    expect((await client.cancelScheduled('40385f64-5717-4562-b3fc-2c963f66afa6')).id).toBe('40385f64-5717-4562-b3fc-2c963f66afa6');
  });
});
