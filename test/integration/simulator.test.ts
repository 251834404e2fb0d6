/**
 * The simulator over real HTTP on 127.0.0.1 (undici directly): every endpoint, every validation
 * code, auth, pools, queues, limits, STOP, the status lifecycle, cancel, and each fault kind.
 * Every JSON answer under /v2 is checked against Telnyx's OpenAPI spec by the caller.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type InProcessSimulator, type SimulatorOptions } from '../../src/telnyx/simulator/index.js';
import { tempDir } from '../helpers/temp.js';
import { createCaller, sleep, until, UUID } from '../unit/simulator/http-support.js';

const agent = new Agent({ keepAliveTimeout: 2000, connections: 16 });
const call = createCaller(agent);
const open: InProcessSimulator[] = [];

async function sim(options: SimulatorOptions = {}): Promise<InProcessSimulator> {
  const s = await startSimulator({ seed: 7, ...options });
  open.push(s);
  return s;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await agent.close();
});

const TO = '+13125550100';
const LONG = '+13125550001';
const TOLL_FREE = '+18445550001';
const PROFILE = '4000eba1-a0c0-4563-9925-b25e842a7cb6';
const IMG = 'https://example.com/a.png';

describe('send endpoints (happy paths)', () => {
  let s: InProcessSimulator;
  beforeAll(async () => {
    s = await startSimulator({ seed: 1 });
  });
  afterAll(() => s.close());

  const cases: Array<[string, string, Record<string, unknown>, { from?: string; type: string; to: string[] }]> = [
    ['messages (long code)', '/v2/messages', { from: LONG, to: TO, text: 'hi' }, { from: LONG, type: 'SMS', to: [TO] }],
    ['messages (number pool)', '/v2/messages', { messaging_profile_id: PROFILE, to: TO, text: 'hi' }, { type: 'SMS', to: [TO] }],
    ['long_code', '/v2/messages/long_code', { from: LONG, to: TO, text: 'hi' }, { from: LONG, type: 'SMS', to: [TO] }],
    ['long_code MMS', '/v2/messages/long_code', { from: TOLL_FREE, to: TO, media_urls: [IMG], subject: 'S' }, { from: TOLL_FREE, type: 'MMS', to: [TO] }],
    ['number_pool', '/v2/messages/number_pool', { messaging_profile_id: PROFILE, to: TO, text: 'hi' }, { type: 'SMS', to: [TO] }],
    ['short_code', '/v2/messages/short_code', { from: '12345', to: TO, text: 'hi' }, { from: '12345', type: 'SMS', to: [TO] }],
    ['group_mms', '/v2/messages/group_mms', { from: LONG, to: [TO, '+13125550101'], media_urls: [IMG], text: 'all' }, { from: LONG, type: 'MMS', to: [TO, '+13125550101'] }],
    ['alphanumeric', '/v2/messages/alphanumeric_sender_id', { from: 'MyShop', to: '+447700900123', text: 'hi', messaging_profile_id: PROFILE }, { from: 'MyShop', type: 'SMS', to: ['+447700900123'] }],
  ];

  it.each(cases)('%s answers 200 with an OutboundMessagePayload', async (_name, p, body, want) => {
    const r = await call(s.origin, 'POST', p, body);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    const m = r.json.data;
    expect(m.id).toMatch(UUID);
    expect(m.record_type).toBe('message');
    expect(m.direction).toBe('outbound');
    expect(m.type).toBe(want.type);
    expect(m.to.map((t: { phone_number: string }) => t.phone_number)).toEqual(want.to);
    expect(m.to.every((t: { status: string }) => t.status === 'queued')).toBe(true);
    if (want.from !== undefined) expect(m.from.phone_number).toBe(want.from);
    else expect(m.from.phone_number).toMatch(/^\+1833555\d{4}$/);
    expect(m.parts).toBe(1);
    expect(m.encoding).toBe('GSM-7');
    expect(m.cost).toEqual({ amount: want.to.length === 2 ? '0.0080' : '0.0040', currency: 'USD' });
    expect(m.errors).toEqual([]);
    expect(typeof m.messaging_profile_id).toBe('string');
    expect(Date.parse(m.received_at)).toBeGreaterThan(Date.now() - 10_000);
    expect(Date.parse(m.valid_until)).toBeGreaterThan(Date.parse(m.received_at));
    expect(s.messages.get(m.id)?.id).toBe(m.id);
  });

  it('counts parts and encoding with the shared segment counter (MMS is not split)', async () => {
    const gsm = await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'a'.repeat(161) });
    expect([gsm.json.data.parts, gsm.json.data.encoding, gsm.json.data.cost.amount]).toEqual([2, 'GSM-7', '0.0080']);
    const ucs = await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: `${'é'.repeat(5)}😀${'x'.repeat(70)}` });
    expect([ucs.json.data.parts, ucs.json.data.encoding]).toEqual([2, 'UCS-2']);
    const mms = await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'a'.repeat(500), media_urls: [IMG] });
    expect([mms.json.data.parts, mms.json.data.type]).toEqual([1, 'MMS']);
  });

  it('sticks a pool number to each recipient and spreads recipients over the pool', async () => {
    const froms = new Map<string, string>();
    for (let i = 0; i < 20; i++) {
      const to = `+1312555${String(2000 + i)}`;
      const a = await call(s.origin, 'POST', '/v2/messages/number_pool', { messaging_profile_id: PROFILE, to, text: 'a' });
      const b = await call(s.origin, 'POST', '/v2/messages', { messaging_profile_id: PROFILE, to, text: 'b' });
      expect(b.json.data.from.phone_number).toBe(a.json.data.from.phone_number);
      froms.set(to, a.json.data.from.phone_number);
    }
    expect(new Set(froms.values()).size).toBeGreaterThan(1);
    const stats = await s.stats({ timestamps: false });
    for (const from of new Set(froms.values())) expect(stats.bySender[from]).toBeGreaterThan(0);
  });
});

describe('validation errors', () => {
  let s: InProcessSimulator;
  beforeAll(async () => {
    s = await startSimulator({ seed: 2 });
  });
  afterAll(() => s.close());

  const soon = () => new Date(Date.now() + 60_000).toISOString();
  const cases: Array<[string, string, unknown, number, string, string]> = [
    ['to missing', '/v2/messages/long_code', { from: LONG, text: 'x' }, 400, '10016', '/to'],
    ['to not E.164', '/v2/messages/long_code', { from: LONG, to: '3125550100', text: 'x' }, 400, '40310', '/to'],
    ['to of the wrong type', '/v2/messages', { from: LONG, to: 5, text: 'x' }, 400, '10015', '/to'],
    ['from missing (long code)', '/v2/messages/long_code', { to: TO, text: 'x' }, 400, '10016', '/from'],
    ['from not E.164 (long code)', '/v2/messages/long_code', { from: '555-0001', to: TO, text: 'x' }, 400, '40305', '/from'],
    ['from not a short code', '/v2/messages/short_code', { from: '1234', to: TO, text: 'x' }, 400, '40305', '/from'],
    ['profile id not a UUID', '/v2/messages/number_pool', { messaging_profile_id: 'prof-1', to: TO, text: 'x' }, 422, '10015', '/messaging_profile_id'],
    ['neither from nor profile', '/v2/messages', { to: TO, text: 'x' }, 400, '10016', '/from'],
    ['from unusable on /messages', '/v2/messages', { from: '++12', to: TO, text: 'x' }, 400, '40305', '/from'],
    ['pool without profile', '/v2/messages/number_pool', { to: TO, text: 'x' }, 400, '10016', '/messaging_profile_id'],
    ['alphanumeric without profile', '/v2/messages/alphanumeric_sender_id', { from: 'Shop', to: '+447700900123', text: 'x' }, 400, '10016', '/messaging_profile_id'],
    ['alphanumeric on /messages without profile', '/v2/messages', { from: 'Shop', to: '+447700900123', text: 'x' }, 400, '10016', '/messaging_profile_id'],
    ['alphanumeric without text', '/v2/messages/alphanumeric_sender_id', { from: 'Shop', to: '+447700900123', messaging_profile_id: PROFILE }, 400, '10016', '/text'],
    ['alphanumeric sender ID too long', '/v2/messages/alphanumeric_sender_id', { from: 'ABCDEFGHIJKL', to: '+447700900123', text: 'x', messaging_profile_id: PROFILE }, 400, '40305', '/from'],
    ['alphanumeric to the US', '/v2/messages/alphanumeric_sender_id', { from: 'Shop', to: TO, text: 'x', messaging_profile_id: PROFILE }, 422, '40328', '/to'],
    ['alphanumeric with media', '/v2/messages', { from: 'Shop', to: '+447700900123', text: 'x', media_urls: [IMG], messaging_profile_id: PROFILE }, 400, '10015', '/media_urls'],
    ['neither text nor media', '/v2/messages/long_code', { from: LONG, to: TO }, 400, '10016', '/text'],
    ['empty text', '/v2/messages/long_code', { from: LONG, to: TO, text: '' }, 400, '10015', '/text'],
    ['MMS without media', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x', type: 'MMS' }, 400, '10016', '/media_urls'],
    ['SMS with media', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x', type: 'SMS', media_urls: [IMG] }, 400, '10015', '/type'],
    ['11 media URLs', '/v2/messages/long_code', { from: LONG, to: TO, media_urls: Array(11).fill(IMG) }, 400, '40316', '/media_urls'],
    ['media URL not http', '/v2/messages/long_code', { from: LONG, to: TO, media_urls: ['ftp://x/y.png'] }, 400, '40316', '/media_urls/0'],
    ['11 parts', '/v2/messages/long_code', { from: LONG, to: TO, text: 'a'.repeat(153 * 10 + 1) }, 400, '40302', '/text'],
    ['gsm7 forced on emoji', '/v2/messages/long_code', { from: LONG, to: TO, text: 'hi 😀', encoding: 'gsm7' }, 400, '10015', '/text'],
    ['bad type enum', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x', type: 'RCS' }, 400, '10015', '/type'],
    ['group of 9', '/v2/messages/group_mms', { from: LONG, to: Array.from({ length: 9 }, (_, i) => `+1312555090${i}`), media_urls: [IMG] }, 400, '10015', '/to'],
    ['group with a bad number', '/v2/messages/group_mms', { from: LONG, to: [TO, 'nope'], media_urls: [IMG] }, 400, '40310', '/to/1'],
    ['group without from', '/v2/messages/group_mms', { to: [TO], media_urls: [IMG] }, 400, '10016', '/from'],
    ['send_at too soon', '/v2/messages', { from: LONG, to: TO, text: 'x', send_at: soon() }, 400, '40317', '/send_at'],
    ['send_at not a date', '/v2/messages', { from: LONG, to: TO, text: 'x', send_at: 'tomorrow' }, 400, '40317', '/send_at'],
    ['schedule without send_at', '/v2/messages/schedule', { from: LONG, to: TO, text: 'x' }, 400, '10016', '/send_at'],
    ['webhook_url not a URL', '/v2/messages', { from: LONG, to: TO, text: 'x', webhook_url: 'not a url' }, 400, '10015', '/webhook_url'],
    ['body is an array', '/v2/messages', [1, 2], 400, '10015', '/'],
  ];

  it.each(cases)('%s', async (_name, p, body, status, code, pointer) => {
    const r = await call(s.origin, 'POST', p, body);
    expect(r.status).toBe(status);
    expect(r.json.errors[0].code).toBe(code);
    expect(r.json.errors[0].source.pointer).toBe(pointer);
    expect(r.json.errors[0].detail.length).toBeGreaterThan(0);
  });

  it('bad JSON → 400 10015', async () => {
    const r = await call(s.origin, 'POST', '/v2/messages', undefined, { raw: '{"to": ' });
    expect([r.status, r.json.errors[0].code, r.json.errors[0].source.pointer]).toEqual([400, '10015', '/']);
  });

  it('accepts nothing that it refused', async () => {
    expect(s.messages.count()).toBe(0);
    const stats = await s.stats();
    expect(stats.accepted).toBe(0);
    expect(stats.rejected['10016']).toBeGreaterThan(0);
  });
});

describe('auth', () => {
  it('refuses a missing or empty bearer with 401 10009 and accepts any key by default', async () => {
    const s = await sim();
    const none = await call(s.origin, 'POST', '/v2/messages', { from: LONG, to: TO, text: 'x' }, { auth: null });
    expect([none.status, none.json.errors[0].code]).toEqual([401, '10009']);
    const empty = await call(s.origin, 'GET', '/v2/messages/x', undefined, { auth: '' });
    expect([empty.status, empty.json.errors[0].code]).toEqual([401, '10009']);
    const any = await call(s.origin, 'POST', '/v2/messages', { from: LONG, to: TO, text: 'x' }, { auth: 'whatever' });
    expect(any.status).toBe(200);
  });

  it('accepts only the configured apiKey', async () => {
    const s = await sim({ apiKey: 'KEY123' });
    const wrong = await call(s.origin, 'POST', '/v2/messages', { from: LONG, to: TO, text: 'x' }, { auth: 'other' });
    expect([wrong.status, wrong.json.errors[0].code]).toEqual([401, '10009']);
    const right = await call(s.origin, 'POST', '/v2/messages', { from: LONG, to: TO, text: 'x' }, { auth: 'KEY123' });
    expect(right.status).toBe(200);
    expect(s.messages.count()).toBe(1);
  });
});

describe('rates, queues and limits', () => {
  it('refuses with 429 40318 once a sender queue would exceed rate × queueSeconds segments', async () => {
    const s = await sim({ senderRates: { longCode: 1 }, queueSeconds: 3 });
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x' })).status);
    expect(codes).toEqual([200, 200, 200, 429]);
    const full = await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x' });
    expect(full.json.errors[0].code).toBe('40318');
    // Another sender has its own queue; a 2-part message needs 2 segments of room.
    const other = '+13125550002';
    expect((await call(s.origin, 'POST', '/v2/messages/long_code', { from: other, to: TO, text: 'a'.repeat(200) })).status).toBe(200);
    expect((await call(s.origin, 'POST', '/v2/messages/long_code', { from: other, to: TO, text: 'a'.repeat(200) })).status).toBe(429);
    expect(s.messages.count()).toBe(4);
    // The queue drains at the sender's rate: a second later there is room for one more segment.
    await sleep(1050);
    expect((await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x' })).status).toBe(200);
  });

  it('has an account queue too (SMS and MMS separately)', async () => {
    const s = await sim({ accountRate: 2, mmsAccountRate: 1, queueSeconds: 1, senderRates: { longCode: 100 } });
    const sms = [];
    for (let i = 0; i < 3; i++) sms.push((await call(s.origin, 'POST', '/v2/messages/long_code', { from: `+1312555000${i}`, to: TO, text: 'x' })).status);
    expect(sms).toEqual([200, 200, 429]);
    const mms = [];
    for (let i = 0; i < 2; i++) mms.push((await call(s.origin, 'POST', '/v2/messages/long_code', { from: `+1312555001${i}`, to: TO, media_urls: [IMG] })).status);
    expect(mms).toEqual([200, 429]);
  });

  it('rate-limits API requests with 429 10011, x-ratelimit-* and Retry-After', async () => {
    const s = await sim({ apiRequestLimit: { requests: 3, windowMs: 60_000 } });
    const ok = await call(s.origin, 'POST', '/v2/messages', { from: LONG, to: TO, text: 'x' });
    expect([ok.headers['x-ratelimit-limit'], ok.headers['x-ratelimit-remaining']]).toEqual(['3', '2']);
    await call(s.origin, 'GET', `/v2/messages/${ok.json.data.id}`);
    await call(s.origin, 'POST', '/v2/messages', { from: LONG, to: TO, text: 'x' });
    const limited = await call(s.origin, 'POST', '/v2/messages', { from: LONG, to: TO, text: 'x' });
    expect([limited.status, limited.json.errors[0].code]).toEqual([429, '10011']);
    expect(limited.headers['x-ratelimit-limit']).toBe('3');
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(limited.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(59);
    expect(limited.headers['retry-after']).toBe(limited.headers['x-ratelimit-reset']);
    expect(s.messages.count()).toBe(2);
  });

  it('refuses with 429 40333 once the daily spend limit would be passed', async () => {
    const s = await sim({ pricePerPart: '0.0040', spendLimit: 0.01 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x' }));
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(statuses[2]!.json.errors[0].code).toBe('40333');
    expect((await s.stats()).spent).toBe('0.0080');
  });

  it('refuses recipients on the STOP list with 409 40300', async () => {
    const s = await sim({ stopList: [TO] });
    const r = await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x' });
    expect([r.status, r.json.errors[0].code, r.json.errors[0].source.pointer]).toEqual([409, '40300', '/to']);
    const group = await call(s.origin, 'POST', '/v2/messages/group_mms', { from: LONG, to: ['+13125550199', TO], media_urls: [IMG] });
    expect(group.status).toBe(409);
    expect(s.messages.byRecipient(TO)).toHaveLength(0);
  });

  it('leaves cost null at send time when costAtSend is false, and fills it once sent', async () => {
    const s = await sim({ costAtSend: false, lifecycle: { sendingMs: 20, deliveryMs: 20 }, pricePerPart: '0.0051' });
    const r = await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x' });
    expect(r.json.data.cost).toBeNull();
    await until(() => s.messages.get(r.json.data.id)?.sent_at !== null);
    const got = await call(s.origin, 'GET', `/v2/messages/${r.json.data.id}`);
    expect(got.json.data.cost).toEqual({ amount: '0.0051', currency: 'USD' });
  });
});

describe('status lifecycle, retrieve and cancel', () => {
  it('moves queued → sending → sent → delivered as the sender queue drains', async () => {
    const s = await sim({ senderRates: { longCode: 2 }, lifecycle: { sendingMs: 100, deliveryMs: 100 } });
    const first = await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x' });
    const second = await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x' });
    expect(second.json.data.wait_seconds).toBeGreaterThan(0.4);
    const id = second.json.data.id;
    const seen: string[] = [];
    await until(async () => {
      const g = await call(s.origin, 'GET', `/v2/messages/${id}`);
      const status = g.json.data.to[0].status;
      if (seen.at(-1) !== status) seen.push(status);
      return status === 'delivered';
    });
    expect(seen[0]).toBe('queued');
    expect(seen).toContain('sent');
    const done = await call(s.origin, 'GET', `/v2/messages/${id}`);
    expect(done.json.data.valid_until).toBeNull();
    expect(Date.parse(done.json.data.sent_at)).toBeLessThanOrEqual(Date.parse(done.json.data.completed_at));
    expect(done.json.data.errors).toEqual([]);
    expect((await call(s.origin, 'GET', `/v2/messages/${first.json.data.id}`)).json.data.to[0].status).toBe('delivered');
  });

  it('ends in the scripted failure with its error code', async () => {
    const s = await sim({
      lifecycle: { sendingMs: 10, deliveryMs: 10 },
      outcomes: { recipients: { [TO]: '40008', '+13125550177': { code: '40001' }, '+13125550178': { code: '40300', status: 'delivery_unconfirmed' } } },
    });
    const a = await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x' });
    const b = await call(s.origin, 'POST', '/v2/messages/long_code', { from: '+13125550003', to: '+13125550177', text: 'x' });
    const c = await call(s.origin, 'POST', '/v2/messages/long_code', { from: '+13125550004', to: '+13125550178', text: 'x' });
    const final = () => [a, b, c].every((r) => s.messages.get(r.json.data.id)?.completed_at !== null);
    await until(final);
    const [ga, gb, gc] = await Promise.all([a, b, c].map((r) => call(s.origin, 'GET', `/v2/messages/${r.json.data.id}`)));
    expect([ga!.json.data.to[0].status, ga!.json.data.errors[0].code]).toEqual(['delivery_failed', '40008']);
    expect([gb!.json.data.to[0].status, gb!.json.data.errors[0].code]).toEqual(['sending_failed', '40001']);
    expect([gc!.json.data.to[0].status, gc!.json.data.errors[0].code]).toEqual(['delivery_unconfirmed', '40300']);
  });

  it('answers 404 10005 for an unknown id', async () => {
    const s = await sim();
    const r = await call(s.origin, 'GET', '/v2/messages/6b0b7e55-6f2d-4b1a-9d36-5c1d1c5b8a10');
    expect([r.status, r.json.errors[0].code]).toEqual([404, '10005']);
  });

  it('schedules with send_at and cancels only scheduled messages', async () => {
    const s = await sim();
    const sendAt = new Date(Date.now() + 10 * 60_000).toISOString();
    const r = await call(s.origin, 'POST', '/v2/messages', { from: LONG, to: TO, text: 'later', send_at: sendAt });
    expect(r.status).toBe(200);
    expect(r.json.data.to[0].status).toBe('scheduled');
    const viaSchedule = await call(s.origin, 'POST', '/v2/messages/schedule', { from: LONG, to: TO, text: 'later', send_at: sendAt });
    expect(viaSchedule.json.data.to[0].status).toBe('scheduled');
    expect((await call(s.origin, 'GET', `/v2/messages/${r.json.data.id}`)).json.data.to[0].status).toBe('scheduled');

    const cancelled = await call(s.origin, 'DELETE', `/v2/messages/${r.json.data.id}`);
    expect(cancelled.status).toBe(200);
    // The spec answers DELETE with the bare message (OutboundMessagePayloadCancelled), not {data}.
    expect(cancelled.json.id).toBe(r.json.data.id);
    expect(cancelled.json.to[0].status).toBe('cancelled');
    expect((await call(s.origin, 'GET', `/v2/messages/${r.json.data.id}`)).json.data.to[0].status).toBe('cancelled');

    const again = await call(s.origin, 'DELETE', `/v2/messages/${r.json.data.id}`);
    expect([again.status, again.json.code, again.json.errors[0].code]).toEqual([403, '10015', '10015']);
    const now = await call(s.origin, 'POST', '/v2/messages', { from: LONG, to: TO, text: 'now' });
    expect((await call(s.origin, 'DELETE', `/v2/messages/${now.json.data.id}`)).status).toBe(403);
    const unknown = await call(s.origin, 'DELETE', '/v2/messages/6b0b7e55-6f2d-4b1a-9d36-5c1d1c5b8a10');
    expect([unknown.status, unknown.json.errors[0].code]).toEqual([404, '10005']);
  });
});

describe('faults', () => {
  const body = (to: string) => ({ from: LONG, to, text: 'x' });

  it('answers each scripted 5xx/429 fault without creating the message', async () => {
    const kinds = ['server_error', 'service_unavailable', 'bad_gateway', 'gateway_timeout', 'rate_limited', 'queue_full'] as const;
    const recipients = Object.fromEntries(kinds.map((k, i) => [`+1312555080${i}`, [k]]));
    const s = await sim({ faults: { recipients } });
    const results = [];
    for (let i = 0; i < kinds.length; i++) results.push(await call(s.origin, 'POST', '/v2/messages/long_code', body(`+1312555080${i}`)));
    expect(results.map((r) => r.status)).toEqual([500, 503, 502, 504, 429, 429]);
    expect(results[0]!.json.errors[0].code).toBe('10007');
    expect(results[1]!.json.errors[0].code).toBe('10037');
    expect(results[2]!.headers['content-type']).toBe('text/html');
    expect(results[2]!.text).toContain('502 Bad Gateway');
    expect(results[3]!.text).toContain('504');
    expect(results[4]!.json.errors[0].code).toBe('10011');
    expect(results[4]!.headers['retry-after']).toBe('1');
    expect(results[4]!.headers['x-ratelimit-remaining']).toBe('0');
    expect(results[5]!.json.errors[0].code).toBe('40318');
    expect(s.messages.count()).toBe(0);
    // The script is used up: the next request to each recipient goes through.
    const next = await call(s.origin, 'POST', '/v2/messages/long_code', body('+13125550800'));
    expect(next.status).toBe(200);
    expect((await s.stats()).faults).toMatchObject({ server_error: 1, bad_gateway: 1, rate_limited: 1 });
  });

  it('plays a script in order, "none" letting a request through', async () => {
    const s = await sim({ faults: { recipients: { [TO]: ['server_error', 'none', 'bad_gateway'] } } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(s.origin, 'POST', '/v2/messages/long_code', body(TO))).status);
    expect(statuses).toEqual([500, 200, 502, 200]);
    expect(s.messages.byRecipient(TO)).toHaveLength(2);
  });

  it('adds latency', async () => {
    const s = await sim({ faults: { recipients: { [TO]: ['latency'] }, latencyMs: 250 } });
    const slow = await call(s.origin, 'POST', '/v2/messages/long_code', body(TO));
    expect(slow.status).toBe(200);
    expect(slow.ms).toBeGreaterThanOrEqual(240);
  });

  it('hangs without creating the message', async () => {
    const s = await sim({ faults: { recipients: { [TO]: ['hang'] } } });
    await expect(call(s.origin, 'POST', '/v2/messages/long_code', body(TO), { headersTimeout: 200 })).rejects.toMatchObject({
      code: 'UND_ERR_HEADERS_TIMEOUT',
    });
    expect(s.messages.count()).toBe(0);
  });

  it('accept-then-reset: records the message as accepted and destroys the socket unanswered', async () => {
    const s = await sim({ faults: { recipients: { [TO]: ['accept_then_reset'] } } });
    const err = await call(s.origin, 'POST', '/v2/messages/long_code', body(TO)).then(
      () => undefined,
      (e: { code?: string }) => e,
    );
    expect(err?.code).toMatch(/^(UND_ERR_SOCKET|ECONNRESET)$/);
    expect(s.messages.byRecipient(TO)).toHaveLength(1);
    expect((await s.stats()).byRecipient).toEqual({ [TO]: 1 });
    // Resending (what a naive client does) texts the person twice: the simulator shows it.
    expect((await call(s.origin, 'POST', '/v2/messages/long_code', body(TO))).status).toBe(200);
    expect(s.messages.byRecipient(TO)).toHaveLength(2);
  });

  it('accept-then-hang and accept-then-502 also record the message', async () => {
    const s = await sim({ faults: { recipients: { [TO]: ['accept_then_hang'], '+13125550111': ['accept_then_bad_gateway'] } } });
    await expect(call(s.origin, 'POST', '/v2/messages/long_code', body(TO), { headersTimeout: 200 })).rejects.toMatchObject({
      code: 'UND_ERR_HEADERS_TIMEOUT',
    });
    const gateway = await call(s.origin, 'POST', '/v2/messages/long_code', body('+13125550111'));
    expect(gateway.status).toBe(502);
    expect(s.messages.byRecipient(TO)).toHaveLength(1);
    expect(s.messages.byRecipient('+13125550111')).toHaveLength(1);
  });

  it('draws faults by seeded probability, the same per recipient on every run', async () => {
    const run = async () => {
      const s = await sim({ seed: 42, faults: { probabilities: { server_error: 0.3, bad_gateway: 0.2 } } });
      const statuses: number[] = [];
      // Interleave concurrently: the draw must depend on recipient and request count, not order.
      const tos = Array.from({ length: 100 }, (_, i) => `+1312556${String(i).padStart(4, '0')}`);
      await Promise.all(
        tos.map(async (to, i) => {
          statuses[i] = (await call(s.origin, 'POST', '/v2/messages/long_code', body(to))).status;
        }),
      );
      return statuses;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    const count = (n: number) => a.filter((x) => x === n).length;
    expect(count(500)).toBeGreaterThan(15);
    expect(count(500)).toBeLessThan(45);
    expect(count(502)).toBeGreaterThan(8);
    expect(count(200)).toBe(100 - count(500) - count(502));
  });

  it('changes faults at run time through POST /__sim/config', async () => {
    const s = await sim();
    expect((await call(s.origin, 'POST', '/v2/messages/long_code', body(TO))).status).toBe(200);
    const cfg = await call(s.origin, 'POST', '/__sim/config', { faults: { recipients: { [TO]: ['service_unavailable'] } } });
    expect(cfg.status).toBe(200);
    expect((await call(s.origin, 'POST', '/v2/messages/long_code', body(TO))).status).toBe(503);
    const bad = await call(s.origin, 'POST', '/__sim/config', { fautls: {} });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toContain('"fautls"');
  });
});

describe('inspection API', () => {
  it('lists messages, counts per recipient and sender, keeps accept timestamps, resets', async () => {
    const s = await sim();
    const other = '+13125550155';
    for (const to of [TO, TO, other]) await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to, text: 'x' });
    await call(s.origin, 'POST', '/v2/messages/group_mms', { from: TOLL_FREE, to: [TO, other], media_urls: [IMG] });

    const list = await call(s.origin, 'GET', `/__sim/messages?to=${encodeURIComponent(TO)}`);
    expect(list.json.data).toHaveLength(3);
    expect((await call(s.origin, 'GET', '/__sim/messages')).json.data).toHaveLength(4);
    const stats = (await call(s.origin, 'GET', '/__sim/stats')).json;
    expect(stats.accepted).toBe(4);
    expect(stats.byRecipient).toEqual({ [TO]: 3, [other]: 2 });
    expect(stats.bySender).toEqual({ [LONG]: 3, [TOLL_FREE]: 1 });
    expect(stats.acceptedTimestamps).toHaveLength(4);
    expect(stats.acceptedTimestamps[3]).toBeGreaterThanOrEqual(stats.acceptedTimestamps[0]);
    expect(Math.abs(stats.acceptedTimestamps[0] - Date.now())).toBeLessThan(10_000);
    const lean = (await call(s.origin, 'GET', '/__sim/stats?timestamps=0&recipients=0')).json;
    expect(lean.acceptedTimestamps).toBeUndefined();
    expect(lean.byRecipient).toBeUndefined();
    expect(s.acceptedTimestamps()).toBeInstanceOf(Float64Array);
    expect(s.messages.byRecipient(other).map((m) => m.type)).toEqual(['SMS', 'MMS']);

    expect((await call(s.origin, 'POST', '/__sim/reset')).json).toEqual({ ok: true });
    expect(s.messages.count()).toBe(0);
    expect((await call(s.origin, 'GET', '/__sim/stats')).json.accepted).toBe(0);
  });
});

describe('scenario files', () => {
  it('loads options from a JSON file and reports unknown keys by name', async () => {
    const { dir, cleanup } = tempDir('sim-scenario-');
    try {
      const good = path.join(dir, 'good.json');
      writeFileSync(good, JSON.stringify({ stopList: [TO], faults: { recipients: { '+13125550122': ['server_error'] } } }));
      const s = await sim({ scenario: good });
      expect((await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: TO, text: 'x' })).status).toBe(409);
      expect((await call(s.origin, 'POST', '/v2/messages/long_code', { from: LONG, to: '+13125550122', text: 'x' })).status).toBe(500);

      const bad = path.join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ stoplist: [TO], webhooks: { delay: 5 }, faults: { probabilities: { explode: 0.1 } } }));
      const err = await startSimulator({ scenario: bad }).then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
      expect(err?.code).toBe('ERR_USAGE');
      expect(err?.message).toContain('"stoplist"');
      expect(err?.message).toContain('webhooks: unknown key "delay"');
      expect(err?.message).toContain('faults.probabilities');
    } finally {
      cleanup();
    }
  });
});
