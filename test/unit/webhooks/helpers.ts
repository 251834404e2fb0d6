/** Shared by the webhook unit and integration tests: signed requests and Telnyx event bodies (ledgers: test/helpers/ledger.ts). */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { request } from 'undici';

/** A fresh Ed25519 key pair, the public half as Telnyx publishes it (base64 of the 32 raw bytes). */
export function keyPair(): { privateKey: KeyObject; publicKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64') };
}

export function signedHeaders(privateKey: KeyObject, body: string | Buffer, timestampSeconds = Math.floor(Date.now() / 1000)): Record<string, string> {
  const ts = String(timestampSeconds);
  const signature = sign(null, Buffer.concat([Buffer.from(`${ts}|`), Buffer.isBuffer(body) ? body : Buffer.from(body)]), privateKey).toString('base64');
  return { 'content-type': 'application/json', 'telnyx-timestamp': ts, 'telnyx-signature-ed25519': signature };
}

export async function post(url: string, body: string | Buffer, headers: Record<string, string>, method = 'POST'): Promise<{ status: number; text: string }> {
  const res = await request(url, { method: method as 'POST', headers, body, signal: AbortSignal.timeout(5000) });
  return { status: res.statusCode, text: await res.body.text() };
}

let counter = 0;
export function uuid(): string {
  counter++;
  return `00000000-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`;
}

export interface OutboundFields {
  id: string;
  to: string | string[];
  from?: string;
  profile?: string;
  text?: string;
  status?: string;
  receivedAt?: number;
  sentAt?: number | null;
  completedAt?: number | null;
  cost?: { amount: string; currency: string } | null;
  errors?: { code: string; title: string; detail?: string }[];
}

/** A Telnyx event envelope around an outbound message payload. */
export function outboundEvent(eventType: 'message.sent' | 'message.finalized', f: OutboundFields, eventId = uuid(), occurredAt = Date.now()): string {
  const to = (Array.isArray(f.to) ? f.to : [f.to]).map((n) => ({ phone_number: n, status: f.status ?? (eventType === 'message.sent' ? 'sent' : 'delivered') }));
  const receivedAt = f.receivedAt ?? occurredAt - 1000;
  return JSON.stringify({
    data: {
      event_type: eventType,
      id: eventId,
      occurred_at: new Date(occurredAt).toISOString(),
      record_type: 'event',
      payload: {
        record_type: 'message',
        direction: 'outbound',
        id: f.id,
        type: 'SMS',
        messaging_profile_id: f.profile ?? 'profile-default',
        from: { phone_number: f.from ?? '+18445550001' },
        to,
        text: f.text ?? 'hello',
        parts: 1,
        cost: f.cost === undefined ? { amount: '0.0040', currency: 'USD' } : f.cost,
        errors: f.errors ?? [],
        received_at: new Date(receivedAt).toISOString(),
        sent_at: f.sentAt === null ? null : new Date(f.sentAt ?? receivedAt + 100).toISOString(),
        completed_at: f.completedAt === null || eventType === 'message.sent' ? null : new Date(f.completedAt ?? occurredAt).toISOString(),
      },
    },
    meta: { attempt: 1, delivered_to: 'http://127.0.0.1/telnyx' },
  });
}

/** A `message.received` envelope: `from` replied `text` to our number `to`. */
export function inboundEvent(from: string, to: string, text: string, eventId = uuid()): string {
  return JSON.stringify({
    data: {
      event_type: 'message.received',
      id: eventId,
      occurred_at: new Date().toISOString(),
      record_type: 'event',
      payload: {
        record_type: 'message',
        direction: 'inbound',
        id: uuid(),
        type: 'SMS',
        from: { phone_number: from, carrier: 'T-Mobile', line_type: 'Wireless' },
        to: [{ phone_number: to, status: 'webhook_delivered' }],
        text,
        received_at: new Date().toISOString(),
        errors: [],
      },
    },
    meta: { attempt: 1, delivered_to: 'http://127.0.0.1/telnyx' },
  });
}

/** Polls `check` until it returns true or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
