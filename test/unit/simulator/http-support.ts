/**
 * Helpers for the simulator's integration tests: a raw undici caller that checks every JSON answer
 * against Telnyx's OpenAPI spec, and a webhook receiver on 127.0.0.1.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { expect } from 'vitest';
import { responseSchemaRef, validateAgainstSpec, type HttpMethod } from '../../helpers/openapi.js';

export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
  ms: number;
}

export interface CallOptions {
  /** Bearer key; null sends no Authorization header. @default "test-key" */
  auth?: string | null;
  /** Send this text instead of JSON.stringify(body). */
  raw?: string;
  headersTimeout?: number;
  /** Skip the spec check (for answers the spec does not describe). */
  noContract?: boolean;
}

export function createCaller(agent: Agent) {
  return async function call(origin: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, options: CallOptions = {}): Promise<CallResult> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const auth = options.auth === undefined ? 'test-key' : options.auth;
    if (auth !== null) headers.authorization = `Bearer ${auth}`;
    let payload: string | undefined;
    if (options.raw !== undefined || body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = options.raw ?? JSON.stringify(body);
    }
    const started = performance.now();
    const res = await request(`${origin}${path}`, {
      method,
      headers,
      ...(payload === undefined ? {} : { body: payload }),
      dispatcher: agent,
      ...(options.headersTimeout === undefined ? {} : { headersTimeout: options.headersTimeout }),
    });
    const text = await res.body.text();
    const type = String(res.headers['content-type'] ?? '');
    const json = type.startsWith('application/json') ? JSON.parse(text) : undefined;
    const result: CallResult = { status: res.statusCode, headers: res.headers, text, json, ms: performance.now() - started };
    if (path.startsWith('/v2/') && json !== undefined && options.noContract !== true) expectContract(method, path, result);
    return result;
  };
}

/** The spec's path template for a concrete /v2 path. */
function specPath(path: string): string {
  const p = path.slice(3).split('?')[0]!;
  const known = ['/messages', '/messages/long_code', '/messages/number_pool', '/messages/short_code', '/messages/group_mms', '/messages/alphanumeric_sender_id', '/messages/schedule'];
  return known.includes(p) ? p : '/messages/{id}';
}

/** Every JSON answer under /v2 must validate against the schema the spec gives for its status. */
export function expectContract(method: string, path: string, result: CallResult): void {
  let ref: string;
  try {
    ref = responseSchemaRef(specPath(path), method.toLowerCase() as HttpMethod, result.status);
  } catch {
    // The spec defines no body for this status on this path (e.g. 429 or 5xx): Telnyx's error shape.
    ref = '#/components/schemas/messaging_Errors';
  }
  let value = result.json;
  const data = result.json?.data;
  if (result.status === 200 && Array.isArray(data?.to) && data.to.some((t: { status: string }) => t.status === 'scheduled' || t.status === 'cancelled')) {
    // The spec's OutboundMessagePayload omits `scheduled` and `cancelled` from to[].status, though
    // Telnyx answers a send_at message with `scheduled` (API-NOTES) and its own cancel schema,
    // OutboundMessagePayloadCancelled, lists both: check such messages against that schema.
    ref = '#/components/schemas/OutboundMessagePayloadCancelled';
    value = data;
  }
  const check = validateAgainstSpec(ref, value);
  expect(check.errors, `${method} ${path} → ${result.status} against ${ref}`).toEqual([]);
  if (result.status >= 400) {
    // Every error, whatever the spec's schema for it, carries errors[] with a string code and title.
    expect(validateAgainstSpec('#/components/schemas/messaging_Errors', result.json).errors).toEqual([]);
    expect(result.json.errors.length).toBeGreaterThan(0);
    expect(typeof result.json.errors[0].code).toBe('string');
    expect(typeof result.json.errors[0].title).toBe('string');
  }
}

/** A Node KeyObject from Telnyx's published form: base64 of the 32 raw Ed25519 bytes. */
export function publicKeyFromBase64(raw: string): KeyObject {
  const bytes = Buffer.from(raw, 'base64');
  expect(bytes.length).toBe(32);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: bytes.toString('base64url') }, format: 'jwk' });
}

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
}

export function verifyWebhook(key: KeyObject, hook: ReceivedWebhook, body = hook.body): boolean {
  const timestamp = String(hook.headers['telnyx-timestamp']);
  const signature = Buffer.from(String(hook.headers['telnyx-signature-ed25519']), 'base64');
  return verify(null, Buffer.from(`${timestamp}|${body}`), key, signature);
}

export interface Receiver {
  url: string;
  received: ReceivedWebhook[];
  /** Resolves once `n` hooks have arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

/**
 * A webhook receiver on 127.0.0.1.
 * @param answer status to answer each hook with, or "hang" to never answer
 */
export async function startReceiver(answer: (hook: ReceivedWebhook) => number | 'hang' = () => 200): Promise<Receiver> {
  const received: ReceivedWebhook[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const hook: ReceivedWebhook = { headers: req.headers, body, json: JSON.parse(body) };
      received.push(hook);
      for (const w of waiters.filter((w) => received.length >= w.n)) w.resolve();
      const status = answer(hook);
      if (status === 'hang') return;
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    waitFor(n, timeoutMs = 5000) {
      if (received.length >= n) return Promise.resolve(received.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${received.length} of ${n} webhooks arrived`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve(received.slice());
          },
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
