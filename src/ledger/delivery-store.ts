/**
 * What happened after Telnyx accepted a message: delivery status per row, the webhook events that said
 * so (schema: migration 2); the suppression list has its own store (suppression-store.ts). A class over the ledger's connection with its own
 * prepared statements, like the Ledger itself; synchronous, and every multi-step change runs inside
 * `transaction()` so an event is stored and applied together or not at all.
 */
import type Database from 'better-sqlite3';
import { connectionOf, type Ledger } from './ledger.js';
import type { RowStatus } from './states.js';
import { perLedger } from './per-ledger.js';
import { senderOf, textOf } from './message-text.js';
import { messageIdStoreOf, type MessageIdStore } from './message-id-store.js';

/** Statuses after which Telnyx reports nothing more for a message. */
export const finalDeliveryStatuses = ['delivered', 'delivery_failed', 'delivery_unconfirmed', 'sending_failed', 'expired'] as const;
export type FinalDeliveryStatus = (typeof finalDeliveryStatuses)[number];

export type DeliverySource = 'webhook' | 'reconcile';

/** A message row as delivery tracking sees it. */
export interface DeliveryState {
  rid: number;
  row: number;
  runId: string;
  status: RowStatus;
  messageId: string | null;
  deliveryStatus: string | null;
  deliveredAt: number | null;
  sentEventAt: number | null;
}

/** One change of a row's delivery columns. `sentEventAt` only fills a gap, it never replaces a time. */
export interface DeliveryWrite {
  deliveryStatus: string;
  errorCode: string | null;
  errorDetail: string | null;
  deliveredAt: number | null;
  sentEventAt: number | null;
  finalizedAt: number | null;
  /** Kept when null: a later event without a cost must not erase the one we have. */
  finalCost: string | null;
  finalCurrency: string | null;
  source: DeliverySource;
  at: number;
}

/** An `unknown` row: its request may have reached Telnyx, but no message id came back. */
export interface UnknownRow {
  rid: number;
  row: number;
  runId: string;
  to: string;
  sender: string | null;
  text: string | null;
  sendingAt: number | null;
}

/** What a receipt proves about an in-doubt request: Telnyx accepted it as this message. */
export interface InDoubtResolution {
  messageId: string;
  fromNumber: string | null;
  parts: number | null;
  cost: string | null;
  currency: string | null;
  /** When Telnyx received the request (the message's `received_at`). */
  sentAt: number;
  at: number;
}

export interface StoredEvent {
  eventId: string;
  eventType: string;
  messageId: string | null;
  to: string | null;
  occurredAt: number | null;
  receivedAt: number;
  /** The verified raw body. */
  payload: string;
  applied: boolean;
  note: string | null;
}

/** Rows Telnyx accepted, by what it last said about them. `awaiting`: no final status yet. */
export interface DeliveryCounts {
  delivered: number;
  delivery_failed: number;
  delivery_unconfirmed: number;
  sending_failed: number;
  expired: number;
  awaiting: number;
}

/** A sent row whose final status is not known yet (reconcile's work list). */
export interface AwaitingRow {
  row: number;
  messageId: string;
  sentAt: number | null;
  sendingAt: number | null;
  deliveryStatus: string | null;
}

const finalList = finalDeliveryStatuses.map((s) => `'${s}'`).join(', ');

export class DeliveryStore {
  readonly ledger: Ledger;
  readonly #db: Database.Database;
  readonly #ids: MessageIdStore;
  #hasEvent;
  #insertEvent;
  #setEventOutcome;
  #byMessageId;
  #addMessageId;
  #updateDelivery;
  #unknownByTo;
  #anyUnknown;
  #resolveUnknown;
  #waitingKnown;
  #waitingForUnknown;
  #awaiting;
  #countDelivery;
  #event;

  constructor(ledger: Ledger) {
    this.ledger = ledger;
    const db = connectionOf(ledger);
    this.#db = db;
    this.#ids = messageIdStoreOf(ledger);
    this.#hasEvent = db.prepare(`SELECT 1 FROM webhook_events WHERE event_id = ?`).pluck();
    this.#insertEvent = db.prepare(
      `INSERT INTO webhook_events (event_id, event_type, message_id, to_number, occurred_at, received_at, payload, applied, note)
       VALUES (@eventId, @eventType, @messageId, @to, @occurredAt, @receivedAt, @payload, @applied, @note)`,
    );
    this.#setEventOutcome = db.prepare(`UPDATE webhook_events SET applied = ?, note = ? WHERE event_id = ?`);
    this.#event = db.prepare(
      `SELECT event_id AS eventId, event_type AS eventType, message_id AS messageId, to_number AS "to", occurred_at AS occurredAt,
              received_at AS receivedAt, payload, applied, note FROM webhook_events WHERE event_id = ?`,
    );
    this.#byMessageId = db.prepare(
      `SELECT m.rid, m.row, r.run_id AS runId, m.status, m.message_id AS messageId, m.delivery_status AS deliveryStatus,
              m.delivered_at AS deliveredAt, m.sent_event_at AS sentEventAt
       FROM message_ids i JOIN messages m ON m.rid = i.rid AND m.row = i.row JOIN runs r ON r.rid = m.rid
       WHERE i.message_id = ?`,
    );
    this.#addMessageId = db.prepare(`INSERT OR IGNORE INTO message_ids (message_id, rid, row) VALUES (?, ?, ?)`);
    this.#updateDelivery = db.prepare(
      `UPDATE messages SET delivery_status = @deliveryStatus, delivery_error_code = @errorCode, delivery_error_detail = @errorDetail,
         delivered_at = @deliveredAt, sent_event_at = coalesce(sent_event_at, @sentEventAt), finalized_at = @finalizedAt,
         final_cost = coalesce(@finalCost, final_cost), final_currency = coalesce(@finalCurrency, final_currency),
         delivery_source = @source, updated_at = @at
       WHERE rid = @rid AND row = @row`,
    );
    // Served by the partial index messages_unknown_to.
    this.#unknownByTo = db.prepare(
      `SELECT m.rid, m.row, r.run_id AS runId, m.to_number AS "to", ${senderOf('m')} AS sender, ${textOf('m')} AS text, m.sending_at AS sendingAt
       FROM messages m JOIN runs r ON r.rid = m.rid WHERE m.to_number = ? AND m.status = 'unknown' ORDER BY m.rid, m.row`,
    );
    this.#anyUnknown = db.prepare(`SELECT 1 FROM messages WHERE status = 'unknown' LIMIT 1`).pluck();
    // unknown → sent is the one move the state table allows for a receipt; the WHERE guards it.
    this.#resolveUnknown = db.prepare(
      `UPDATE messages SET status = 'sent', message_id = @messageId, from_number = coalesce(@fromNumber, from_number),
         parts = coalesce(@parts, parts), cost = @cost, currency = @currency, sent_at = @sentAt,
         error_code = NULL, error_detail = NULL, updated_at = @at
       WHERE rid = @rid AND row = @row AND status = 'unknown'`,
    );
    // Outbound events that arrived before their row knew its message id (the response was still in flight).
    this.#waitingKnown = db.prepare(
      `SELECT e.event_id FROM webhook_events e JOIN message_ids i ON i.message_id = e.message_id
       WHERE e.applied = 0 AND e.received_at >= ? AND e.event_type IN ('message.sent', 'message.finalized')
       ORDER BY e.received_at`,
    ).pluck();
    // Driven from the (few) unknown rows, so old unrelated events are never scanned: CROSS JOIN fixes
    // the loop order (SQLite never reorders it), each unknown row probing webhook_events_waiting_to.
    this.#waitingForUnknown = db.prepare(
      `SELECT e.event_id FROM messages m CROSS JOIN webhook_events e ON e.to_number = m.to_number AND e.applied = 0
       WHERE m.status = 'unknown' AND e.event_type IN ('message.sent', 'message.finalized')`,
    ).pluck();
    this.#awaiting = db.prepare(
      `SELECT row, message_id AS messageId, sent_at AS sentAt, sending_at AS sendingAt, delivery_status AS deliveryStatus
       FROM messages WHERE rid = ? AND status = 'sent' AND row > ? AND message_id IS NOT NULL
         AND (delivery_status IS NULL OR delivery_status NOT IN (${finalList}))
       ORDER BY row LIMIT ?`,
    );
    this.#countDelivery = db.prepare(
      // The totals the ledger's triggers keep (migration 10); '' is a row without a delivery status yet.
      `SELECT nullif(delivery_status, '') AS status, sum(n) AS n FROM run_sent_totals WHERE rid = ? GROUP BY delivery_status HAVING sum(n) > 0`,
    );
  }

  /** Runs `fn` in one SQLite transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  hasEvent(eventId: string): boolean {
    return this.#hasEvent.get(eventId) !== undefined;
  }

  insertEvent(e: StoredEvent): void {
    this.#insertEvent.run({ ...e, applied: e.applied ? 1 : 0 });
  }

  event(eventId: string): StoredEvent | undefined {
    const r = this.#event.get(eventId) as (Omit<StoredEvent, 'applied'> & { applied: number }) | undefined;
    return r === undefined ? undefined : { ...r, applied: r.applied === 1 };
  }

  setEventOutcome(eventId: string, applied: boolean, note: string | null): void {
    this.#setEventOutcome.run(applied ? 1 : 0, note, eventId);
  }

  /** The row Telnyx's message id belongs to, indexing sends not yet in `message_ids` before giving up. */
  byMessageId(messageId: string): DeliveryState | undefined {
    const found = this.#byMessageId.get(messageId) as DeliveryState | undefined;
    if (found !== undefined || this.#ids.indexMessageIds() === 0) return found;
    return this.#byMessageId.get(messageId) as DeliveryState | undefined;
  }

  updateDelivery(rid: number, row: number, w: DeliveryWrite): void {
    this.#updateDelivery.run({ ...w, rid, row });
  }

  unknownRowsTo(to: string): UnknownRow[] {
    return this.#unknownByTo.all(to) as UnknownRow[];
  }

  hasUnknownRows(): boolean {
    return this.#anyUnknown.get() !== undefined;
  }

  /** unknown → sent with the message id a receipt proved. False if the row was no longer unknown. */
  resolveUnknown(rid: number, row: number, r: InDoubtResolution): boolean {
    if (this.#resolveUnknown.run({ ...r, rid, row }).changes !== 1) return false;
    // No accepted attempt records this send, so indexMessageIds would never find it.
    this.#addMessageId.run(r.messageId, rid, row);
    return true;
  }

  /**
   * Ids of stored outbound events that were not applied but now could be: their message id has since
   * reached a row (received since `since`), or a row to the same destination is `unknown`.
   */
  waitingEventIds(since: number): string[] {
    this.#ids.indexMessageIds();
    const ids = new Set(this.#waitingKnown.all(since) as string[]);
    if (this.hasUnknownRows()) for (const id of this.#waitingForUnknown.all() as string[]) ids.add(id);
    return [...ids];
  }

  /** Sent rows without a final delivery status after `afterRow`, in row order. */
  awaitingDelivery(rid: number, afterRow: number, limit: number): AwaitingRow[] {
    return this.#awaiting.all(rid, afterRow, limit) as AwaitingRow[];
  }

  deliveryCounts(rid: number): DeliveryCounts {
    return tallyDelivery(this.#countDelivery.all(rid) as { status: string | null; n: number }[]);
  }

}

/**
 * Sent rows counted by what Telnyx last said of them (either backend's grouped counts): a final status as
 * it is, anything else but `cancelled` as awaiting.
 */
export function tallyDelivery(groups: Iterable<{ status: string | null; n: number }>): DeliveryCounts {
  const counts: DeliveryCounts = { delivered: 0, delivery_failed: 0, delivery_unconfirmed: 0, sending_failed: 0, expired: 0, awaiting: 0 };
  for (const g of groups) {
    if (g.status !== null && (finalDeliveryStatuses as readonly string[]).includes(g.status)) counts[g.status as FinalDeliveryStatus] += g.n;
    else if (g.status !== 'cancelled') counts.awaiting += g.n;
  }
  return counts;
}

/** One store per open ledger, so helpers called per row do not prepare their statements again. */
export const deliveryStoreFor = perLedger((ledger) => new DeliveryStore(ledger));
