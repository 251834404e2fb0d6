/**
 * The webhook receiver over real HTTP on 127.0.0.1: the simulator sends signed `message.sent` /
 * `message.finalized` events to it, and forged, stale, replayed and oversized requests are sent
 * directly. Every case checks the ledger afterwards.
 */
import { Readable } from 'node:stream';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { DeliveryStore, deliveryStoreFor } from '../../src/ledger/delivery-store.js';
import type { SimulatorOptions } from '../../src/telnyx/simulator/index.js';
import { startWebhookReceiver, type ReceiverLog } from '../../src/webhooks/receiver.js';
import { acceptedAttempt, markSending, seedRun } from '../helpers/ledger.js';
import { withLedgerSql } from '../helpers/ledger-sql.js';
import { useSimulator } from '../helpers/simulator.js';
import { inboundEvent, keyPair, outboundEvent, post, signedHeaders, uuid, waitFor } from '../unit/webhooks/helpers.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';
import { suppressionStoreOf } from '../../src/ledger/suppression-store.js';

const FROM = '+18445550001';
const A = '+14155550101';
const B = '+14155550102';
const C = '+14155550103';

const env = useSimulator();

function setup(webhooks: NonNullable<SimulatorOptions['webhooks']> = {}): Promise<void> {
  return env.start({
    simulator: { seed: 7, lifecycle: { sendingMs: 10, deliveryMs: 30 }, senderRates: { tollFree: 1000 }, outcomes: { recipients: { [B]: '40008' } } },
    receiver: { retryIntervalMs: 100, webhooks },
  });
}

/** Sends each row through the simulator as a run would: mark sending, POST, record the answer. */
async function sendRows(rid: number, rows: { row: number; to: string; text: string }[]): Promise<string[]> {
  const ids: string[] = [];
  for (const r of rows) {
    markSending(env.ledger, rid, r.row);
    const msg = await env.client.sendLongCode({ from: FROM, to: r.to, text: r.text });
    messageStoreOf(env.ledger).commit(rid, {
      sending: [],
      attempts: [acceptedAttempt(r.row, msg.id)],
      outcomes: [{ row: r.row, status: 'sent', messageId: msg.id, fromNumber: msg.from?.phone_number ?? null, parts: msg.parts ?? null, cost: msg.cost?.amount ?? null, currency: msg.cost?.currency ?? null, at: Date.now() }],
    });
    ids.push(msg.id);
  }
  return ids;
}

function delivery(rid: number, row: number) {
  return withLedgerSql(env.ledger.path, (sql) =>
    sql.get(
      `SELECT status, message_id AS messageId, delivery_status AS deliveryStatus, delivery_error_code AS code, delivered_at AS deliveredAt,
              sent_event_at AS sentEventAt, final_cost AS finalCost, final_currency AS finalCurrency, updated_at AS updatedAt
       FROM messages WHERE rid = ? AND row = ?`,
      rid,
      row,
    ),
  ) as Record<string, unknown>;
}

function eventCount(): number {
  return withLedgerSql(env.ledger.path, (sql) => sql.value<number>(`SELECT count(*) FROM webhook_events`));
}

function snapshot(): string {
  return withLedgerSql(env.ledger.path, (sql) =>
    JSON.stringify([
      sql.all(`SELECT * FROM webhook_events ORDER BY event_id`),
      sql.all(`SELECT * FROM messages ORDER BY rid, row`),
      sql.all(`SELECT * FROM suppressions ORDER BY number`),
    ]),
  );
}

const threeRows = [
  { to: A, sender: FROM, text: 'hello a' },
  { to: B, sender: FROM, text: 'hello b' },
  { to: C, sender: FROM, text: 'hello c' },
];

describe('receipts from the simulator', () => {
  it('applies signed message.sent and message.finalized: status, carrier error, final cost, times', async () => {
    await setup();
    const rid = seedRun(env.ledger, 'r1', threeRows);
    const ids = await sendRows(rid, threeRows.map((r, i) => ({ row: i + 1, to: r.to, text: r.text })));
    await env.sim.webhooksIdle();
    await waitFor(() => eventCount() === 6, 'six stored events');
    expect(env.sim.webhookDeliveries().every((d) => d.ok && d.status === 200)).toBe(true);

    const a = delivery(rid, 1);
    const simA = env.sim.messages.get(ids[0]!)!;
    expect(a).toMatchObject({ status: 'sent', messageId: ids[0], deliveryStatus: 'delivered', code: null, finalCost: simA.cost!.amount, finalCurrency: 'USD' });
    expect(a.deliveredAt).toBe(Date.parse(simA.completed_at!));
    expect(a.sentEventAt).toBe(Date.parse(simA.sent_at!));
    expect(delivery(rid, 2)).toMatchObject({ deliveryStatus: 'delivery_failed', code: '40008' });
    expect(delivery(rid, 3)).toMatchObject({ deliveryStatus: 'delivered' });
    const store = new DeliveryStore(env.ledger);
    expect(store.deliveryCounts(rid)).toEqual({ delivered: 2, delivery_failed: 1, delivery_unconfirmed: 0, sending_failed: 0, expired: 0, awaiting: 0 });
    expect(withLedgerSql(env.ledger.path, (sql) => sql.get(`SELECT count(*) AS n FROM webhook_events WHERE applied = 1`))).toEqual({ n: 6 });
  });

  it('keeps the final status through duplicates and finalized-before-sent, applying each event id once', async () => {
    // One delivery at a time, so the order the simulator chose is the order the receiver sees.
    await setup({ duplicateProbability: 1, outOfOrderProbability: 1, concurrency: 1 });
    const rid = seedRun(env.ledger, 'r1', threeRows);
    const ids = await sendRows(rid, threeRows.map((r, i) => ({ row: i + 1, to: r.to, text: r.text })));
    await env.sim.webhooksIdle();
    const deliveries = env.sim.webhookDeliveries();
    expect(deliveries).toHaveLength(12);
    expect(deliveries.filter((d) => d.duplicate)).toHaveLength(6);
    expect(deliveries.every((d) => d.ok)).toBe(true);
    await waitFor(() => eventCount() === 6, 'six distinct events');
    const events = env.logs.filter((l): l is Extract<ReceiverLog, { type: 'event' }> => l.type === 'event');
    // Finalized really did reach the receiver first for every message.
    for (const id of ids) {
      const order = events.filter((e) => !e.duplicate && e.outcome !== undefined && 'messageId' in e.outcome && e.outcome.messageId === id).map((e) => e.eventType);
      expect(order).toEqual(['message.finalized', 'message.sent']);
    }
    expect(delivery(rid, 1)).toMatchObject({ deliveryStatus: 'delivered' });
    expect(delivery(rid, 2)).toMatchObject({ deliveryStatus: 'delivery_failed', code: '40008' });
    expect(delivery(rid, 3)).toMatchObject({ deliveryStatus: 'delivered' });
    expect(events.filter((e) => e.duplicate)).toHaveLength(6);
    expect(events.filter((e) => !e.duplicate && e.outcome?.kind === 'kept')).toHaveLength(3);
  });
});

describe('requests that must not be believed', () => {
  const valid = () => outboundEvent('message.finalized', { id: 'm-1', to: A, from: FROM, text: 'hello a', receivedAt: Date.now() });

  async function seeded(): Promise<number> {
    await setup();
    const rid = seedRun(env.ledger, 'r1', threeRows);
    messageStoreOf(env.ledger).commit(rid, { sending: [{ row: 1, at: Date.now() }], outcomes: [], attempts: [] });
    messageStoreOf(env.ledger).commit(rid, { sending: [], attempts: [acceptedAttempt(1, 'm-1')], outcomes: [{ row: 1, status: 'sent', messageId: 'm-1', fromNumber: FROM, parts: 1, cost: '0.0040', currency: 'USD', at: Date.now() }] });
    return rid;
  }

  it('answers 401 to missing signature headers and 403 to a tampered body, a wrong key, stale and future timestamps', async () => {
    const rid = await seeded();
    const key = env.sim.engine.privateKey;
    const before = snapshot();
    const body = valid();
    const good = signedHeaders(key, body);
    const now = Math.floor(Date.now() / 1000);
    const { 'telnyx-signature-ed25519': _sig, ...noSignature } = good;
    const { 'telnyx-timestamp': _ts, ...noTimestamp } = good;
    const cases: [string, string, Record<string, string>, number][] = [
      ['no signature', body, noSignature, 401],
      ['no timestamp', body, noTimestamp, 401],
      ['no headers', body, { 'content-type': 'application/json' }, 401],
      ['tampered body', body.replace('"delivered"', '"expired"'), good, 403],
      ['wrong key', body, signedHeaders(keyPair().privateKey, body), 403],
      // Well past the 300 s limit so that a slow machine's passing seconds cannot bring them inside it
      // (the exact edge is covered by the unit test with an injected clock).
      ['stale timestamp', body, signedHeaders(key, body, now - 330), 403],
      ['future timestamp', body, signedHeaders(key, body, now + 330), 403],
      ['garbage signature', body, { ...good, 'telnyx-signature-ed25519': 'bm90IGEgc2lnbmF0dXJl' }, 403],
    ];
    for (const [what, b, headers, status] of cases) {
      const res = await post(env.receiver.url, b, headers);
      expect({ what, status: res.status }).toEqual({ what, status });
    }
    expect(snapshot()).toBe(before);
    expect(delivery(rid, 1)).toMatchObject({ deliveryStatus: null });
    // The same body, correctly signed and on time, is applied.
    expect((await post(env.receiver.url, body, good)).status).toBe(200);
    expect(delivery(rid, 1)).toMatchObject({ deliveryStatus: 'delivered' });
  });

  it('acknowledges a replayed event id with 200 and applies it once', async () => {
    const rid = await seeded();
    const body = valid();
    const headers = signedHeaders(env.sim.engine.privateKey, body);
    expect((await post(env.receiver.url, body, headers)).status).toBe(200);
    const after = delivery(rid, 1);
    const stored = snapshot();
    await new Promise((r) => setTimeout(r, 5));
    expect((await post(env.receiver.url, body, headers)).status).toBe(200);
    expect((await post(env.receiver.url, body, signedHeaders(env.sim.engine.privateKey, body))).status).toBe(200);
    expect(snapshot()).toBe(stored);
    expect(delivery(rid, 1)).toEqual(after);
    const events = env.logs.filter((l) => l.type === 'event');
    expect(events.map((e) => (e.type === 'event' ? e.duplicate : null))).toEqual([false, true, true]);
  });

  it('refuses oversized bodies with 413, other paths with 404 and other methods with 405, writing nothing', async () => {
    await seeded();
    const before = snapshot();
    const big = JSON.stringify({ data: { id: uuid(), event_type: 'message.sent', pad: 'x'.repeat(300 * 1024) } });
    expect((await post(env.receiver.url, big, signedHeaders(env.sim.engine.privateKey, big))).status).toBe(413);
    const small = valid();
    const headers = signedHeaders(env.sim.engine.privateKey, small);
    expect((await post(env.receiver.url.replace('/telnyx', '/other'), small, headers)).status).toBe(404);
    const get = await post(env.receiver.url, '', {}, 'GET');
    expect(get.status).toBe(405);
    const notJson = 'not json at all';
    expect((await post(env.receiver.url, notJson, signedHeaders(env.sim.engine.privateKey, notJson))).status).toBe(400);
    expect(snapshot()).toBe(before);
  });

  it('counts the body limit on the bytes actually received, not only on content-length', async () => {
    await seeded();
    const small = await startWebhookReceiver({ ledger: env.ledger, publicKey: env.sim.publicKey, maxBodyBytes: 1024, retryIntervalMs: 0 });
    try {
      const body = outboundEvent('message.sent', { id: 'm-1', to: A, text: 'y'.repeat(2000) });
      // A chunked body has no content-length: the limit must hold while streaming.
      const res = await request(small.url, {
        method: 'POST',
        headers: signedHeaders(env.sim.engine.privateKey, body),
        body: Readable.from([Buffer.from(body.slice(0, 800)), Buffer.from(body.slice(800))]),
        signal: AbortSignal.timeout(5000),
      }).catch((err: unknown) => ({ statusCode: -1, body: { text: async () => String(err) } }));
      expect(res.statusCode).toBe(413);
      expect(eventCount()).toBe(0);
    } finally {
      await small.close();
    }
  });
});

describe('events the ledger cannot place yet, and replies', () => {
  it('stores an event for an unknown message id instead of dropping it', async () => {
    await setup();
    const body = outboundEvent('message.finalized', { id: 'm-elsewhere', to: '+14155550999' });
    expect((await post(env.receiver.url, body, signedHeaders(env.sim.engine.privateKey, body))).status).toBe(200);
    const row = withLedgerSql(env.ledger.path, (sql) => sql.get(`SELECT message_id AS messageId, applied, note, payload FROM webhook_events`))!;
    expect(row).toMatchObject({ messageId: 'm-elsewhere', applied: 0, payload: body });
    expect(row.note).toMatch(/no ledger row has message id m-elsewhere/);
  });

  it('adds a number that replies STOP to the suppression table and removes it on START', async () => {
    await setup();
    const stop = inboundEvent(A, FROM, '  Stop ');
    expect((await post(env.receiver.url, stop, signedHeaders(env.sim.engine.privateKey, stop))).status).toBe(200);
    const chat = inboundEvent(B, FROM, 'what is this?');
    expect((await post(env.receiver.url, chat, signedHeaders(env.sim.engine.privateKey, chat))).status).toBe(200);
    const suppressed = () => suppressionStoreOf(env.ledger).suppressions().map(({ number, source }) => ({ number, source }));
    expect(suppressed()).toEqual([{ number: A, source: 'stop_reply' }]);
    const start = inboundEvent(A, FROM, 'START');
    expect((await post(env.receiver.url, start, signedHeaders(env.sim.engine.privateKey, start))).status).toBe(200);
    expect(suppressed()).toEqual([]);
    expect(eventCount()).toBe(3);
  });
});
