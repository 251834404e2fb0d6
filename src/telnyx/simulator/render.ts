/**
 * A stored record → the message as Telnyx shows it at a given moment (OutboundMessagePayload).
 * The status is a function of time: queued until the sender's queue drains to it, then sending,
 * sent, and the final outcome; scheduled messages wait for send_at.
 */
import type { DeliveryStatus, TelnyxErrorObject } from '../wire.js';
import type { SimRecord } from './store.js';

export interface OutboundAddressee {
  phone_number: string;
  status: DeliveryStatus;
  carrier: string;
  line_type: string;
}

/** The message object the simulator writes: every field of the spec's OutboundMessagePayload. */
export interface OutboundMessagePayload {
  record_type: 'message';
  direction: 'outbound';
  id: string;
  type: 'SMS' | 'MMS';
  messaging_profile_id: string;
  organization_id: string;
  from: { phone_number: string; carrier: string; line_type: string };
  to: OutboundAddressee[];
  cc: OutboundAddressee[];
  text: string;
  subject: string | null;
  media: Array<{ url: string; content_type: null; sha256: null; size: null }>;
  webhook_url: string | null;
  webhook_failover_url: string | null;
  encoding: 'GSM-7' | 'UCS-2';
  parts: number;
  num_chars: number;
  tags: string[];
  cost: { amount: string; currency: string } | null;
  cost_breakdown: null;
  tcr_campaign_id: null;
  tcr_campaign_billable: boolean;
  tcr_campaign_registered: null;
  smart_encoding_applied: boolean;
  received_at: string;
  sent_at: string | null;
  completed_at: string | null;
  valid_until: string | null;
  wait_seconds: number | null;
  errors: TelnyxErrorObject[];
}

const CARRIER = 'TELNYX SIMULATOR';

export function statusAt(record: SimRecord, index: number, at: number): DeliveryStatus {
  if (record.cancelledAt !== undefined && at >= record.cancelledAt) return 'cancelled';
  if (record.sendAt !== undefined && at < record.sendAt) return 'scheduled';
  if (at < record.departAt) return 'queued';
  if (at < record.sentAt) return 'sending';
  if (at < record.finalAt) return 'sent';
  return record.outcomes[index]!.status;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * @param at the moment to show (epoch ms)
 * @param accepting true for the send response itself, which always says queued/scheduled
 */
export function renderMessage(record: SimRecord, organizationId: string, at: number, accepting = false): OutboundMessagePayload {
  const to: OutboundAddressee[] = new Array(record.to.length);
  const errors: TelnyxErrorObject[] = [];
  let final = false;
  for (let i = 0; i < record.to.length; i++) {
    const status = accepting ? (record.sendAt === undefined ? 'queued' : 'scheduled') : statusAt(record, i, at);
    to[i] = { phone_number: record.to[i]!, status, carrier: CARRIER, line_type: 'Wireless' };
    if (status !== 'cancelled' && !accepting && at >= record.finalAt) {
      final = true;
      const error = record.outcomes[i]!.error;
      if (error !== undefined) errors.push(error);
    }
  }
  const cancelled = record.cancelledAt !== undefined && at >= record.cancelledAt;
  const sent = !accepting && !cancelled && at >= record.sentAt;
  const inQueue = !cancelled && (accepting || at < record.departAt);
  const showCost = cancelled ? true : sent || record.costAtSend;
  return {
    record_type: 'message',
    direction: 'outbound',
    id: record.id,
    type: record.type,
    messaging_profile_id: record.profileId,
    organization_id: organizationId,
    from: {
      phone_number: record.from,
      carrier: record.senderType === 'alphanumeric' ? '' : CARRIER,
      line_type: record.senderType === 'alphanumeric' ? '' : 'VoIP',
    },
    to,
    cc: [],
    text: record.text ?? '',
    subject: record.subject ?? null,
    media: record.media.map((url) => ({ url, content_type: null, sha256: null, size: null })),
    webhook_url: record.webhookUrl ?? null,
    webhook_failover_url: record.webhookFailoverUrl ?? null,
    encoding: record.encoding,
    parts: record.parts,
    num_chars: record.text?.length ?? 0,
    tags: [],
    // A cancelled message costs nothing (the spec's cancel example says "0.0").
    cost: showCost ? { amount: cancelled ? '0.0' : record.cost, currency: record.currency } : null,
    cost_breakdown: null,
    tcr_campaign_id: null,
    tcr_campaign_billable: false,
    tcr_campaign_registered: null,
    smart_encoding_applied: false,
    received_at: iso(record.receivedAt),
    sent_at: sent ? iso(record.sentAt) : null,
    completed_at: final ? iso(record.finalAt) : null,
    // Telnyx nulls valid_until once the message has left the queue.
    valid_until: inQueue ? iso(record.validUntil) : null,
    wait_seconds: inQueue ? Math.max(0, (record.departAt - (record.sendAt ?? record.receivedAt)) / 1000) : null,
    errors,
  };
}
