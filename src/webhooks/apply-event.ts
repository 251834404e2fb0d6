/**
 * What a verified webhook event does to the ledger. Synchronous and transactional: the receiver calls
 * `receiveEvent` once per request, and the event is stored and applied in one SQLite transaction, so a
 * crash leaves either both or neither (Telnyx then re-delivers, and the stored id makes it a no-op).
 *
 * Order-proof by rank: queued/sending < sent < a final status. A status only replaces one of lower rank,
 * so a `message.sent` that arrives after `message.finalized` changes nothing.
 *
 * In-doubt resolution: a request that may have reached Telnyx but got no answer leaves its row `unknown`
 * with no message id. A receipt for an id the ledger does not know, whose destination, sender and text
 * match exactly one unknown row sent around the time Telnyx received it, proves that row was accepted:
 * the row becomes `sent` with that id. Two or more candidates change nothing — guessing could mark the
 * wrong person as texted — and the event records why.
 */
import { z } from 'zod';
import {
  finalDeliveryStatuses,
  type DeliverySource,
  type DeliveryState,
  type DeliveryStore,
  type UnknownRow,
} from '../ledger/delivery-store.js';
import { webhookEnvelope, type Message } from '../telnyx/wire.js';
import { suppressionStoreOf } from '../ledger/suppression-store.js';

/** Replies that opt a number out (CTIA keywords Telnyx honours), compared trimmed and upper-cased. */
export const optOutKeywords: ReadonlySet<string> = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT']);
/** Replies that opt a number back in. */
export const optInKeywords: ReadonlySet<string> = new Set(['START', 'UNSTOP']);

/** How far Telnyx's receive time may be from the row's `sending_at` for an in-doubt match (clock skew). */
export const inDoubtWindowMs = 10 * 60_000;

/** Outbound events retried by `retryWaitingEvents` when their message id reaches a row within this. */
export const waitingEventWindowMs = 15 * 60_000;

const finals: ReadonlySet<string> = new Set<string>([...finalDeliveryStatuses, 'cancelled']);
const beforeSent: ReadonlySet<string> = new Set(['queued', 'sending', 'scheduled']);

/** queued/sending/scheduled 0, sent 1, final 2. A status Telnyx adds later counts as in progress. */
export function deliveryRank(status: string): number {
  if (finals.has(status)) return 2;
  if (beforeSent.has(status)) return 0;
  return 1;
}

/** What one message object says about delivery. */
export interface Observation {
  status: string;
  rank: number;
  errorCode: string | null;
  errorDetail: string | null;
  sentEventAt: number | null;
  deliveredAt: number | null;
  cost: string | null;
  currency: string | null;
}

export type ObservationContext = 'message.sent' | 'message.finalized' | 'retrieve';

function parseTime(iso: string | null | undefined): number | null {
  if (iso === null || iso === undefined) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * One status for the row. A single recipient's status is the row's; a group MMS row is delivered only
 * when every recipient is, else it takes the least advanced status, or the first failure among finals.
 */
function aggregateStatus(statuses: readonly string[]): string | undefined {
  if (statuses.length <= 1) return statuses[0];
  let least = statuses[0]!;
  for (const s of statuses) if (deliveryRank(s) < deliveryRank(least)) least = s;
  if (deliveryRank(least) < 2) return least;
  return statuses.find((s) => s !== 'delivered') ?? 'delivered';
}

export function observeMessage(message: Message, context: ObservationContext, occurredAt: number | null): Observation {
  const statuses = message.to.map((a) => a.status).filter((s): s is string => typeof s === 'string' && s !== '');
  let status = aggregateStatus(statuses) ?? (context === 'message.finalized' ? 'delivery_unconfirmed' : 'sent');
  // A message.sent event means at least "sent", whatever the payload's snapshot says.
  if (context === 'message.sent' && deliveryRank(status) < 1) status = 'sent';
  const rank = deliveryRank(status);
  const error = rank === 2 ? message.errors?.[0] : undefined;
  const detail = error === undefined ? null : [error.title, error.detail].filter((s) => s !== undefined && s !== '').join(': ');
  return {
    status,
    rank,
    errorCode: error?.code ?? null,
    errorDetail: detail === '' ? null : detail,
    sentEventAt: parseTime(message.sent_at) ?? (context === 'message.sent' ? occurredAt : null),
    deliveredAt: rank === 2 ? (parseTime(message.completed_at) ?? occurredAt) : null,
    cost: message.cost?.amount ?? null,
    currency: message.cost?.currency ?? null,
  };
}

export interface ObservationApplied {
  changed: boolean;
  from: string | null;
  to: string | null;
}

/**
 * Writes an observation to a row if it advances it. Same-rank finals: the later one wins (a carrier's
 * correction); anything of equal or lower rank is otherwise ignored.
 */
export function applyObservation(store: DeliveryStore, state: DeliveryState, obs: Observation, source: DeliverySource, at: number): ObservationApplied {
  const current = state.deliveryStatus;
  const currentRank = current === null ? -1 : deliveryRank(current);
  const later =
    obs.rank === 2 && currentRank === 2 && obs.status !== current && obs.deliveredAt !== null && state.deliveredAt !== null && obs.deliveredAt > state.deliveredAt;
  if (obs.rank > currentRank || later) {
    store.updateDelivery(state.rid, state.row, {
      deliveryStatus: obs.status,
      errorCode: obs.errorCode,
      errorDetail: obs.errorDetail,
      deliveredAt: obs.deliveredAt,
      sentEventAt: obs.sentEventAt,
      finalizedAt: obs.rank === 2 ? at : null,
      finalCost: obs.cost,
      finalCurrency: obs.cost === null ? null : obs.currency,
      source,
      at,
    });
    return { changed: true, from: current, to: obs.status };
  }
  return { changed: false, from: current, to: current };
}

/** What applying one event did; `note` is what webhook_events.note records. */
export type EventOutcome =
  | { kind: 'applied'; runId: string; row: number; messageId: string; from: string | null; to: string }
  | { kind: 'kept'; runId: string; row: number; messageId: string; current: string | null; offered: string }
  | { kind: 'resolved'; runId: string; row: number; messageId: string; to: string }
  | { kind: 'unmatched'; messageId: string }
  | { kind: 'ambiguous'; messageId: string; candidates: { runId: string; row: number }[] }
  | { kind: 'suppressed'; number: string; keyword: string; added: boolean }
  | { kind: 'unsuppressed'; number: string; keyword: string; removed: boolean }
  | { kind: 'inbound'; number: string | null }
  | { kind: 'ignored'; reason: string };

/** Outcomes after which the event needs nothing more; the others wait in webhook_events (applied = 0). */
export function isApplied(o: EventOutcome): boolean {
  return o.kind !== 'unmatched' && o.kind !== 'ambiguous' && o.kind !== 'ignored';
}

export function describeOutcome(o: EventOutcome): string {
  switch (o.kind) {
    case 'applied':
      return `run ${o.runId} row ${o.row}: delivery ${o.from ?? '(none)'} → ${o.to}`;
    case 'kept':
      return `run ${o.runId} row ${o.row}: kept ${o.current ?? '(none)'}; this event said ${o.offered}`;
    case 'resolved':
      return `run ${o.runId} row ${o.row}: in-doubt row resolved as message ${o.messageId} (unknown → sent), delivery ${o.to}`;
    case 'unmatched':
      return `no ledger row has message id ${o.messageId} (kept for later)`;
    case 'ambiguous':
      return `ambiguous: ${o.candidates.length} unknown rows match message ${o.messageId} (${o.candidates
        .map((c) => `run ${c.runId} row ${c.row}`)
        .join(', ')}); nothing changed`;
    case 'suppressed':
      return o.added ? `${o.number} replied ${o.keyword}: added to suppressions` : `${o.number} replied ${o.keyword}: already suppressed`;
    case 'unsuppressed':
      return o.removed ? `${o.number} replied ${o.keyword}: removed from suppressions` : `${o.number} replied ${o.keyword}: was not suppressed by a reply`;
    case 'inbound':
      return `inbound message from ${o.number ?? '(unknown)'}: no keyword`;
    case 'ignored':
      return o.reason;
  }
}

/** A verified webhook body, read. `message` is absent when the payload is not a message object. */
export interface IncomingEvent {
  eventId: string;
  eventType: string;
  occurredAt: number | null;
  message: Message | undefined;
  /** Why `message` is absent. */
  problem: string | undefined;
}

const minimalEnvelope = z.looseObject({
  data: z.looseObject({ id: z.string().min(1), event_type: z.string().min(1), occurred_at: z.string().optional() }),
});

/**
 * Reads a verified body. An authentic event whose payload we cannot read is still returned (with
 * `problem`) so it can be stored rather than lost; a body without an event id cannot be stored at all.
 */
export function parseWebhookBody(raw: string): { ok: true; event: IncomingEvent } | { ok: false; detail: string } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, detail: 'body is not JSON' };
  }
  const full = webhookEnvelope.safeParse(json);
  if (full.success) {
    const d = full.data.data;
    return { ok: true, event: { eventId: d.id, eventType: d.event_type, occurredAt: parseTime(d.occurred_at), message: d.payload, problem: undefined } };
  }
  const min = minimalEnvelope.safeParse(json);
  if (!min.success) return { ok: false, detail: 'body is not a Telnyx event envelope (data.id, data.event_type)' };
  const d = min.data.data;
  const issue = full.error.issues[0];
  return {
    ok: true,
    event: {
      eventId: d.id,
      eventType: d.event_type,
      occurredAt: parseTime(d.occurred_at),
      message: undefined,
      problem: `payload unreadable at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}`,
    },
  };
}

function destinations(message: Message): string[] {
  return message.to.map((a) => a.phone_number);
}

/** The unknown rows this outbound message could be: same destination(s), sender or profile, text, and time. */
export function inDoubtCandidates(store: DeliveryStore, message: Message, occurredAt: number | null): UnknownRow[] {
  if (message.direction !== undefined && message.direction !== 'outbound') return [];
  const to = destinations(message);
  if (to.length === 0) return [];
  // A group MMS row stores its recipients comma-joined in job order; Telnyx may list them sorted.
  const keys = [...new Set([to.join(','), [...to].sort().join(',')])];
  const at = parseTime(message.received_at) ?? occurredAt;
  if (at === null) return [];
  const from = message.from?.phone_number ?? null;
  const profile = message.messaging_profile_id ?? null;
  const text = message.text ?? '';
  return keys
    .flatMap((k) => store.unknownRowsTo(k))
    .filter(
      (r) =>
        r.sender !== null &&
        (r.sender === from || r.sender === profile) &&
        (r.text ?? '') === text &&
        r.sendingAt !== null &&
        Math.abs(at - r.sendingAt) <= inDoubtWindowMs,
    );
}

function applyOutbound(store: DeliveryStore, ev: IncomingEvent, message: Message, receivedAt: number): EventOutcome {
  const context = ev.eventType === 'message.finalized' ? 'message.finalized' : 'message.sent';
  const obs = observeMessage(message, context, ev.occurredAt);
  let state = store.byMessageId(message.id);
  let resolved = false;
  if (state === undefined) {
    const candidates = inDoubtCandidates(store, message, ev.occurredAt);
    if (candidates.length === 0) return { kind: 'unmatched', messageId: message.id };
    if (candidates.length > 1) {
      return { kind: 'ambiguous', messageId: message.id, candidates: candidates.map((c) => ({ runId: c.runId, row: c.row })) };
    }
    const c = candidates[0]!;
    const ok = store.resolveUnknown(c.rid, c.row, {
      messageId: message.id,
      fromNumber: message.from?.phone_number ?? null,
      parts: message.parts ?? null,
      cost: obs.cost,
      currency: obs.cost === null ? null : obs.currency,
      sentAt: parseTime(message.received_at) ?? ev.occurredAt ?? receivedAt,
      at: receivedAt,
    });
    state = ok ? store.byMessageId(message.id) : undefined;
    if (state === undefined) return { kind: 'unmatched', messageId: message.id };
    resolved = true;
  }
  const r = applyObservation(store, state, obs, 'webhook', receivedAt);
  if (resolved) return { kind: 'resolved', runId: state.runId, row: state.row, messageId: message.id, to: r.to ?? obs.status };
  if (r.changed) return { kind: 'applied', runId: state.runId, row: state.row, messageId: message.id, from: r.from, to: obs.status };
  return { kind: 'kept', runId: state.runId, row: state.row, messageId: message.id, current: r.from, offered: obs.status };
}

function applyInbound(store: DeliveryStore, ev: IncomingEvent, message: Message, receivedAt: number): EventOutcome {
  const number = message.from?.phone_number ?? null;
  const keyword = (message.text ?? '').trim().toUpperCase();
  if (number === null || number === '') return { kind: 'inbound', number: null };
  if (optOutKeywords.has(keyword)) {
    const ourNumber = message.to[0]?.phone_number;
    const added = suppressionStoreOf(store.ledger).addSuppression(number, 'stop_reply', `replied ${keyword}${ourNumber === undefined ? '' : ` to ${ourNumber}`} (event ${ev.eventId})`, receivedAt);
    return { kind: 'suppressed', number, keyword, added };
  }
  if (optInKeywords.has(keyword)) {
    // A manual entry is the operator's decision; a reply only undoes what replies (or Telnyx's 40300) put there.
    const removed = suppressionStoreOf(store.ledger).removeSuppression(number, ['stop_reply', '40300']);
    return { kind: 'unsuppressed', number, keyword, removed };
  }
  return { kind: 'inbound', number };
}

/** Applies an event to the ledger without storing it (callers wrap it in a transaction). */
export function applyEvent(store: DeliveryStore, ev: IncomingEvent, receivedAt: number): EventOutcome {
  if (ev.message === undefined) return { kind: 'ignored', reason: `${ev.eventType}: ${ev.problem ?? 'no payload'}` };
  switch (ev.eventType) {
    case 'message.sent':
    case 'message.finalized':
      return applyOutbound(store, ev, ev.message, receivedAt);
    case 'message.received':
      return applyInbound(store, ev, ev.message, receivedAt);
    default:
      return { kind: 'ignored', reason: `event type ${ev.eventType} is not used` };
  }
}

export type ReceiveResult = { duplicate: true } | { duplicate: false; outcome: EventOutcome };

/**
 * Stores and applies one verified event in a single transaction. An event id already stored is
 * acknowledged and ignored (Telnyx re-delivers; the first copy decided).
 */
export function receiveEvent(store: DeliveryStore, ev: IncomingEvent, raw: string, receivedAt: number): ReceiveResult {
  return store.transaction((): ReceiveResult => {
    if (store.hasEvent(ev.eventId)) return { duplicate: true };
    const outcome = applyEvent(store, ev, receivedAt);
    store.insertEvent({
      eventId: ev.eventId,
      eventType: ev.eventType,
      messageId: ev.message?.id ?? null,
      to: ev.message === undefined ? null : destinations(ev.message).join(',') || null,
      occurredAt: ev.occurredAt,
      receivedAt,
      payload: raw,
      applied: isApplied(outcome),
      note: describeOutcome(outcome),
    });
    return { duplicate: false, outcome };
  });
}

export interface RetriedEvent {
  eventId: string;
  eventType: string;
  outcome: EventOutcome;
}

/**
 * Re-applies stored outbound events that were not applied but now may be: their message id reached a
 * row after they arrived (the send's answer was still in flight), or a row to their destination became
 * `unknown` (a run stopped, or its request timed out, after Telnyx had accepted it). Returns the events
 * that were applied this time.
 */
export function retryWaitingEvents(store: DeliveryStore, now: number, windowMs = waitingEventWindowMs): RetriedEvent[] {
  const done: RetriedEvent[] = [];
  for (const id of store.waitingEventIds(now - windowMs)) {
    const result = store.transaction((): RetriedEvent | undefined => {
      const stored = store.event(id);
      if (stored === undefined || stored.applied) return undefined;
      const parsed = parseWebhookBody(stored.payload);
      if (!parsed.ok) return undefined;
      const outcome = applyEvent(store, parsed.event, now);
      const note = describeOutcome(outcome);
      if (isApplied(outcome)) {
        store.setEventOutcome(id, true, note);
        return { eventId: id, eventType: stored.eventType, outcome };
      }
      if (note !== stored.note) store.setEventOutcome(id, false, note);
      return undefined;
    });
    if (result !== undefined) done.push(result);
  }
  return done;
}
