import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { deliveryCounts } from '../../../src/campaign/delivery-report.js';
import { planVsActual } from '../../../src/plan/index.js';
import { addSuppression, listSuppressions, loadSuppressedSet } from '../../../src/campaign/suppressions.js';
import { DeliveryStore } from '../../../src/ledger/delivery-store.js';
import { Ledger } from '../../../src/ledger/ledger.js';
import { migrations } from '../../../src/ledger/migrations.js';
import {
  deliveryRank,
  inDoubtWindowMs,
  observeMessage,
  parseWebhookBody,
  receiveEvent,
  retryWaitingEvents,
  type EventOutcome,
} from '../../../src/webhooks/apply-event.js';
import { tempDir } from '../../helpers/temp.js';
import { acceptedAttempt, markSending, markSent, markUnknown, seedRun, useTempLedger } from '../../helpers/ledger.js';
import { createLedgerAt, withLedgerSql } from '../../helpers/ledger-sql.js';
import { inboundEvent, outboundEvent, uuid } from './helpers.js';
import { messageStoreOf } from '../../../src/ledger/message-store.js';
import { suppressionStoreOf } from '../../../src/ledger/suppression-store.js';

const t = useTempLedger();
let store: DeliveryStore;
const T0 = 1_800_000_000_000;

beforeEach(() => {
  store = new DeliveryStore(t.ledger);
});

/** Parses and receives a body the way the receiver does (after verification). */
function receive(raw: string, at = T0 + 60_000): EventOutcome | 'duplicate' {
  const parsed = parseWebhookBody(raw);
  if (!parsed.ok) throw new Error(parsed.detail);
  const r = receiveEvent(store, parsed.event, raw, at);
  return r.duplicate ? 'duplicate' : r.outcome;
}

function row(rid: number, n: number) {
  return withLedgerSql(t.file, (sql) =>
    sql.get(
      `SELECT status, message_id AS messageId, delivery_status AS deliveryStatus, delivery_error_code AS code, delivery_error_detail AS detail,
              delivered_at AS deliveredAt, sent_event_at AS sentEventAt, finalized_at AS finalizedAt, final_cost AS finalCost,
              final_currency AS finalCurrency, delivery_source AS source, sent_at AS sentAt, error_code AS errorCode, cost
       FROM messages WHERE rid = ? AND row = ?`,
      rid,
      n,
    ),
  ) as Record<string, unknown>;
}

describe('migration 2', () => {
  it('upgrades a version-1 ledger in place, keeping its rows', () => {
    const tmp = tempDir();
    try {
      const file = path.join(tmp.dir, 'v1.db');
      createLedgerAt(file, migrations[0]!.sql, 1);
      withLedgerSql(file, (sql) => {
        sql.run(`INSERT INTO runs (run_id, job_name, job_file, job_spec, spec_hash, source_path, source_sha256, state, started_at)
                 VALUES ('old', 'j', 'f', '{}', 'h', 's', 'x', 'completed', 1)`);
        sql.run(`INSERT INTO messages (rid, row, line, to_number, status, message_id, updated_at) VALUES (1, 1, 2, '+14155550101', 'sent', 'm-old', 1)`);
      });
      const ledger = new Ledger(file);
      try {
        expect(withLedgerSql(file, (sql) => sql.pragma('user_version'))).toBe(migrations.at(-1)!.version);
        const s = new DeliveryStore(ledger);
        expect(s.byMessageId('m-old')).toMatchObject({ runId: 'old', row: 1, status: 'sent', deliveryStatus: null });
        expect(suppressionStoreOf(ledger).suppressions()).toEqual([]);
      } finally {
        ledger.close();
      }
    } finally {
      tmp.cleanup();
    }
  });
});

describe('observeMessage', () => {
  it('ranks queued/sending < sent < final, and treats a status Telnyx adds later as in progress', () => {
    expect(['queued', 'sending', 'scheduled'].map(deliveryRank)).toEqual([0, 0, 0]);
    expect(deliveryRank('sent')).toBe(1);
    expect(['delivered', 'delivery_failed', 'delivery_unconfirmed', 'sending_failed', 'expired'].map(deliveryRank)).toEqual([2, 2, 2, 2, 2]);
    expect(deliveryRank('carrier_accepted')).toBe(1);
  });

  it('reads a group MMS as delivered only when every recipient is', () => {
    const msg = (statuses: string[]) => ({ id: 'g', to: statuses.map((s, i) => ({ phone_number: `+1415555010${i}`, status: s })) });
    expect(observeMessage(msg(['delivered', 'delivered']), 'message.finalized', T0).status).toBe('delivered');
    expect(observeMessage(msg(['delivered', 'delivery_failed', 'expired']), 'message.finalized', T0).status).toBe('delivery_failed');
    expect(observeMessage(msg(['delivered', 'sending']), 'retrieve', T0).status).toBe('sending');
  });
});

describe('applying outbound events', () => {
  it('records sent then delivered, with times, final cost and source', () => {
    const rid = seedRun(t.ledger, 'r1', [{ to: '+14155550101', sender: '+18445550001', text: 'hello' }], T0);
    markSent(t.ledger, rid, 1, 'm-1', T0, null);
    expect(receive(outboundEvent('message.sent', { id: 'm-1', to: '+14155550101', receivedAt: T0, sentAt: T0 + 200 }, uuid(), T0 + 200))).toMatchObject({
      kind: 'applied', runId: 'r1', row: 1, from: null, to: 'sent',
    });
    expect(row(rid, 1)).toMatchObject({ deliveryStatus: 'sent', sentEventAt: T0 + 200, deliveredAt: null, finalizedAt: null, source: 'webhook' });
    expect(
      receive(outboundEvent('message.finalized', { id: 'm-1', to: '+14155550101', receivedAt: T0, sentAt: T0 + 200, completedAt: T0 + 900, cost: { amount: '0.0055', currency: 'USD' } }, uuid(), T0 + 950), T0 + 1000),
    ).toMatchObject({ kind: 'applied', from: 'sent', to: 'delivered' });
    expect(row(rid, 1)).toMatchObject({ deliveryStatus: 'delivered', deliveredAt: T0 + 900, finalizedAt: T0 + 1000, finalCost: '0.0055', finalCurrency: 'USD', code: null });
    expect(deliveryCounts(t.ledger, rid)).toEqual({ delivered: 1, delivery_failed: 0, delivery_unconfirmed: 0, sending_failed: 0, expired: 0, awaiting: 0 });
    expect(messageStoreOf(t.ledger).message(rid, 1)).toMatchObject({ deliveryStatus: 'delivered', deliveryErrorCode: null, deliveredAt: T0 + 900 });
  });

  it('keeps the final status when message.sent arrives after message.finalized, and carries the carrier error', () => {
    const rid = seedRun(t.ledger, 'r1', [{ to: '+14155550101', sender: '+18445550001', text: 'hello' }], T0);
    markSent(t.ledger, rid, 1, 'm-1', T0);
    const finalized = outboundEvent('message.finalized', {
      id: 'm-1', to: '+14155550101', status: 'delivery_failed', receivedAt: T0, completedAt: T0 + 900,
      errors: [{ code: '40008', title: 'Undeliverable', detail: 'The carrier rejected the message.' }],
    });
    expect(receive(finalized)).toMatchObject({ kind: 'applied', to: 'delivery_failed' });
    expect(receive(outboundEvent('message.sent', { id: 'm-1', to: '+14155550101', receivedAt: T0 }))).toMatchObject({
      kind: 'kept', current: 'delivery_failed', offered: 'sent',
    });
    expect(row(rid, 1)).toMatchObject({ deliveryStatus: 'delivery_failed', code: '40008', detail: 'Undeliverable: The carrier rejected the message.' });
    // The same event id again is acknowledged and ignored.
    expect(receive(finalized)).toBe('duplicate');
    expect(deliveryCounts(t.ledger, rid)).toMatchObject({ delivery_failed: 1, awaiting: 0 });
  });

  it('sums final cost where known and accept-time cost otherwise', () => {
    const rid = seedRun(t.ledger, 'r1', [
      { to: '+14155550101', sender: '+18445550001', text: 'a' },
      { to: '+14155550102', sender: '+18445550001', text: 'b' },
    ], T0);
    markSent(t.ledger, rid, 1, 'm-1', T0, '0.0040');
    markSent(t.ledger, rid, 2, 'm-2', T0, '0.0040');
    receive(outboundEvent('message.finalized', { id: 'm-1', to: '+14155550101', cost: { amount: '0.0100', currency: 'USD' } }));
    expect(planVsActual(t.ledger, rid).actual).toMatchObject({ sent_rows: 2, cost: [{ amount: '0.0140', currency: 'USD' }], rows_without_cost: 0 });
    expect(deliveryCounts(t.ledger, rid)).toMatchObject({ delivered: 1, awaiting: 1 });
  });

  it('keeps events for unknown message ids, unapplied', () => {
    const raw = outboundEvent('message.finalized', { id: 'm-nobody', to: '+14155550199' });
    expect(receive(raw)).toEqual({ kind: 'unmatched', messageId: 'm-nobody' });
    const eventId = (JSON.parse(raw) as { data: { id: string } }).data.id;
    expect(store.event(eventId)).toMatchObject({ eventType: 'message.finalized', messageId: 'm-nobody', to: '+14155550199', applied: false, payload: raw });
  });

  it('stores an authentic event whose payload is not a message, as not applied', () => {
    const raw = JSON.stringify({ data: { id: 'ev-odd', event_type: 'number_order.complete', occurred_at: new Date(T0).toISOString(), payload: { phone_numbers: [] } } });
    expect(receive(raw)).toMatchObject({ kind: 'ignored' });
    expect(store.event('ev-odd')).toMatchObject({ applied: false, messageId: null });
    expect(parseWebhookBody('{"no":"envelope"}').ok).toBe(false);
    expect(parseWebhookBody('not json').ok).toBe(false);
  });
});

describe('in-doubt resolution', () => {
  const to = '+14155550101';

  it('resolves the one matching unknown row: unknown → sent with the id, then applies the event', () => {
    const rid = seedRun(t.ledger, 'r1', [{ to, sender: '+18445550001', text: 'hello' }, { to: '+14155550102', sender: '+18445550001', text: 'hello' }], T0);
    markUnknown(t.ledger, rid, 1, T0);
    const outcome = receive(outboundEvent('message.finalized', { id: 'm-doubt', to, from: '+18445550001', text: 'hello', receivedAt: T0 + 40 }));
    expect(outcome).toEqual({ kind: 'resolved', runId: 'r1', row: 1, messageId: 'm-doubt', to: 'delivered' });
    expect(row(rid, 1)).toMatchObject({ status: 'sent', messageId: 'm-doubt', deliveryStatus: 'delivered', sentAt: T0 + 40, errorCode: null, cost: '0.0040' });
    expect(messageStoreOf(t.ledger).counts(rid)).toMatchObject({ sent: 1, unknown: 0, pending: 1 });
  });

  it('matches a pool send by messaging profile id', () => {
    const rid = seedRun(t.ledger, 'r1', [{ to, sender: 'profile-pool', text: 'hi' }], T0);
    markUnknown(t.ledger, rid, 1, T0);
    expect(receive(outboundEvent('message.sent', { id: 'm-pool', to, from: '+18885550123', profile: 'profile-pool', text: 'hi', receivedAt: T0 }))).toMatchObject({
      kind: 'resolved', row: 1,
    });
  });

  it('does not match a different sender, text or time', () => {
    const rid = seedRun(t.ledger, 'r1', [{ to, sender: '+18445550001', text: 'hello' }], T0);
    markUnknown(t.ledger, rid, 1, T0);
    const misses: Parameters<typeof outboundEvent>[1][] = [
      { id: 'x1', to, from: '+18445550002', text: 'hello', receivedAt: T0 },
      { id: 'x2', to, from: '+18445550001', text: 'hello!', receivedAt: T0 },
      { id: 'x3', to, from: '+18445550001', text: 'hello', receivedAt: T0 + inDoubtWindowMs + 1 },
      { id: 'x4', to: '+14155550109', from: '+18445550001', text: 'hello', receivedAt: T0 },
    ];
    for (const m of misses) expect(receive(outboundEvent('message.sent', m))).toMatchObject({ kind: 'unmatched' });
    expect(row(rid, 1)).toMatchObject({ status: 'unknown', messageId: null });
  });

  it('changes nothing when two unknown rows match, and says so', () => {
    const a = seedRun(t.ledger, 'r1', [{ to, sender: '+18445550001', text: 'hello' }], T0);
    const b = seedRun(t.ledger, 'r2', [{ to, sender: '+18445550001', text: 'hello' }], T0);
    markUnknown(t.ledger, a, 1, T0);
    markUnknown(t.ledger, b, 1, T0 + 5000);
    const raw = outboundEvent('message.finalized', { id: 'm-amb', to, from: '+18445550001', text: 'hello', receivedAt: T0 + 2000 });
    expect(receive(raw)).toEqual({ kind: 'ambiguous', messageId: 'm-amb', candidates: [{ runId: 'r1', row: 1 }, { runId: 'r2', row: 1 }] });
    expect(row(a, 1)).toMatchObject({ status: 'unknown', messageId: null });
    expect(row(b, 1)).toMatchObject({ status: 'unknown', messageId: null });
    const eventId = (JSON.parse(raw) as { data: { id: string } }).data.id;
    expect(store.event(eventId)).toMatchObject({ applied: false });
    expect(store.event(eventId)?.note).toMatch(/^ambiguous: 2 unknown rows match/);
  });

  it('re-applies an event that arrived while its row was still sending, once the row becomes unknown', () => {
    const rid = seedRun(t.ledger, 'r1', [{ to, sender: '+18445550001', text: 'hello' }], T0);
    markSending(t.ledger, rid, 1, T0);
    const now = T0 + 60_000;
    expect(receive(outboundEvent('message.finalized', { id: 'm-late', to, from: '+18445550001', text: 'hello', receivedAt: T0 + 10 }), now)).toMatchObject({ kind: 'unmatched' });
    expect(retryWaitingEvents(store, now)).toEqual([]);
    // The run stops (or resumes) and its in-flight row becomes unknown.
    expect(messageStoreOf(t.ledger).markInFlightUnknown(rid, now)).toBe(1);
    const retried = retryWaitingEvents(store, now + 1000);
    expect(retried).toHaveLength(1);
    expect(retried[0]!.outcome).toMatchObject({ kind: 'resolved', messageId: 'm-late', to: 'delivered' });
    expect(row(rid, 1)).toMatchObject({ status: 'sent', messageId: 'm-late', deliveryStatus: 'delivered' });
    expect(retryWaitingEvents(store, now + 2000)).toEqual([]);
  });

  it('re-applies an event that arrived before the send answer reached the ledger', () => {
    const rid = seedRun(t.ledger, 'r1', [{ to, sender: '+18445550001', text: 'hello' }], T0);
    markSending(t.ledger, rid, 1, T0);
    receive(outboundEvent('message.sent', { id: 'm-race', to, receivedAt: T0 }), T0 + 500);
    messageStoreOf(t.ledger).commit(rid, { sending: [], attempts: [acceptedAttempt(1, 'm-race', T0 + 600)], outcomes: [{ row: 1, status: 'sent', messageId: 'm-race', fromNumber: null, parts: 1, cost: null, currency: null, at: T0 + 600 }] });
    expect(retryWaitingEvents(store, T0 + 1000).map((r) => r.outcome)).toEqual([
      { kind: 'applied', runId: 'r1', row: 1, messageId: 'm-race', from: null, to: 'sent' },
    ]);
    // Outside the window such events are no longer looked at.
    expect(retryWaitingEvents(store, T0 + 3_600_000)).toEqual([]);
  });
});

describe('STOP and START replies', () => {
  it('adds opt-out keywords (trimmed, any case) and removes them on START/UNSTOP', () => {
    for (const [n, text] of [['+14155550101', ' stop '], ['+14155550102', 'Unsubscribe'], ['+14155550103', 'STOPALL'], ['+14155550104', 'end'], ['+14155550105', 'quit'], ['+14155550106', 'cancel']] as const) {
      expect(receive(inboundEvent(n, '+18445550001', text))).toMatchObject({ kind: 'suppressed', number: n, added: true });
    }
    expect(receive(inboundEvent('+14155550107', '+18445550001', 'please stop'))).toEqual({ kind: 'inbound', number: '+14155550107' });
    expect(receive(inboundEvent('+14155550101', '+18445550001', 'STOP'))).toMatchObject({ kind: 'suppressed', added: false });
    expect(listSuppressions(t.ledger).find((s) => s.number === '+14155550101')).toMatchObject({ source: 'stop_reply' });
    expect(loadSuppressedSet(t.ledger)).toEqual(new Set(['+14155550101', '+14155550102', '+14155550103', '+14155550104', '+14155550105', '+14155550106']));
    expect(receive(inboundEvent('+14155550101', '+18445550001', 'start'))).toMatchObject({ kind: 'unsuppressed', removed: true });
    expect(receive(inboundEvent('+14155550102', '+18445550001', 'UNSTOP'))).toMatchObject({ kind: 'unsuppressed', removed: true });
    expect(loadSuppressedSet(t.ledger).has('+14155550101')).toBe(false);
  });

  it('lets START undo a 40300 entry but not an operator entry', () => {
    expect(addSuppression(t.ledger, '+14155550101', '40300', 'send rejected: recipient replied STOP', T0)).toBe(true);
    expect(addSuppression(t.ledger, '+14155550102', 'manual', null, T0)).toBe(true);
    expect(addSuppression(t.ledger, '+14155550102', '40300', null, T0)).toBe(false);
    receive(inboundEvent('+14155550101', '+18445550001', 'START'));
    expect(receive(inboundEvent('+14155550102', '+18445550001', 'START'))).toMatchObject({ kind: 'unsuppressed', removed: false });
    expect(listSuppressions(t.ledger)).toEqual([{ number: '+14155550102', source: 'manual', detail: null, addedAt: T0 }]);
  });
});
