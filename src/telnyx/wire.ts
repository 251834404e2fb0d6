/**
 * The Telnyx Messages API v2 wire format, as zod schemas shared by the client and the simulator.
 * Source of truth: test/fixtures/messaging-openapi.yml. Responses are parsed tolerantly:
 * unknown fields pass through, and nulls are accepted wherever the spec (or practice) allows them.
 */
import { z } from 'zod';

export { E164 } from '../shared/sender-forms.js';

/** How a message is sent; each kind has its own endpoint. */
export type SendKind = 'messages' | 'long_code' | 'number_pool' | 'short_code' | 'group_mms' | 'alphanumeric';

export const sendKinds: readonly SendKind[] = [
  'messages',
  'long_code',
  'number_pool',
  'short_code',
  'group_mms',
  'alphanumeric',
];

export const sendPaths: Readonly<Record<SendKind, string>> = {
  messages: '/messages',
  long_code: '/messages/long_code',
  number_pool: '/messages/number_pool',
  short_code: '/messages/short_code',
  group_mms: '/messages/group_mms',
  alphanumeric: '/messages/alphanumeric_sender_id',
};

/**
 * Optional fields of the per-resource send endpoints (long code, short code, number pool), exactly as
 * the spec declares them. `send_at` is not among them: only POST /messages (and /messages/schedule)
 * declares it, and an endpoint that ignored it would send at once instead of at the scheduled time.
 */
const commonSendFields = {
  text: z.string().optional(),
  media_urls: z.array(z.string()).optional(),
  subject: z.string().optional(),
  type: z.enum(['SMS', 'MMS']).optional(),
  auto_detect: z.boolean().optional(),
  encoding: z.enum(['auto', 'gsm7', 'ucs2']).optional(),
  webhook_url: z.string().optional(),
  webhook_failover_url: z.string().optional(),
  use_profile_webhooks: z.boolean().optional(),
};

export const sendMessageRequest = z.object({
  to: z.string(),
  from: z.string().optional(),
  messaging_profile_id: z.string().optional(),
  ...commonSendFields,
  send_at: z.string().nullable().optional(),
});
export const longCodeRequest = z.object({ from: z.string(), to: z.string(), ...commonSendFields });
export const shortCodeRequest = longCodeRequest;
export const numberPoolRequest = z.object({ messaging_profile_id: z.string(), to: z.string(), ...commonSendFields });
/** SMS only: the spec declares no media, subject, type, encoding or send_at for this endpoint. */
export const alphanumericRequest = z.object({
  from: z.string(),
  to: z.string(),
  text: z.string(),
  messaging_profile_id: z.string(),
  webhook_url: z.string().nullable().optional(),
  webhook_failover_url: z.string().nullable().optional(),
  use_profile_webhooks: z.boolean().optional(),
});
export const groupMmsRequest = z.object({
  from: z.string(),
  to: z.array(z.string()).min(1).max(8),
  text: z.string().optional(),
  media_urls: z.array(z.string()).optional(),
  subject: z.string().optional(),
  webhook_url: z.string().optional(),
  webhook_failover_url: z.string().optional(),
  use_profile_webhooks: z.boolean().optional(),
});

export type SendMessageRequest = z.infer<typeof sendMessageRequest>;
export type LongCodeRequest = z.infer<typeof longCodeRequest>;
export type ShortCodeRequest = z.infer<typeof shortCodeRequest>;
export type NumberPoolRequest = z.infer<typeof numberPoolRequest>;
export type AlphanumericRequest = z.infer<typeof alphanumericRequest>;
export type GroupMmsRequest = z.infer<typeof groupMmsRequest>;

/** The request body for each kind, so a caller can build one generically. */
export interface SendRequestByKind {
  messages: SendMessageRequest;
  long_code: LongCodeRequest;
  number_pool: NumberPoolRequest;
  short_code: ShortCodeRequest;
  group_mms: GroupMmsRequest;
  alphanumeric: AlphanumericRequest;
}

export const sendRequestSchemas = {
  messages: sendMessageRequest,
  long_code: longCodeRequest,
  number_pool: numberPoolRequest,
  short_code: shortCodeRequest,
  group_mms: groupMmsRequest,
  alphanumeric: alphanumericRequest,
} as const;

export const money = z.looseObject({ amount: z.string(), currency: z.string() });
export type Money = z.infer<typeof money>;

export const telnyxError = z.looseObject({
  code: z.string(),
  title: z.string(),
  detail: z.string().optional(),
  source: z.looseObject({ pointer: z.string().optional(), parameter: z.string().optional() }).optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});
export type TelnyxErrorObject = z.infer<typeof telnyxError>;

export const errorBody = z.looseObject({ errors: z.array(telnyxError).min(1) });
export type ErrorBody = z.infer<typeof errorBody>;

export const deliveryStatus = z.enum([
  'queued',
  'sending',
  'sent',
  'delivered',
  'sending_failed',
  'delivery_failed',
  'delivery_unconfirmed',
  'expired',
  'scheduled',
  'cancelled',
]);
export type DeliveryStatus = z.infer<typeof deliveryStatus>;

const addressee = z.looseObject({
  phone_number: z.string(),
  // A status Telnyx adds later must not break a run: keep it as a string.
  status: z.string().optional(),
  carrier: z.string().nullable().optional(),
  line_type: z.string().nullable().optional(),
});

/** An outbound message as Telnyx returns it (OutboundMessagePayload). */
export const message = z.looseObject({
  id: z.string(),
  record_type: z.string().optional(),
  direction: z.string().optional(),
  type: z.string().optional(),
  messaging_profile_id: z.string().nullable().optional(),
  from: z.looseObject({ phone_number: z.string().nullable().optional() }).nullable().optional(),
  to: z.array(addressee),
  cc: z.array(addressee).optional(),
  text: z.string().nullable().optional(),
  subject: z.string().nullable().optional(),
  media: z.array(z.looseObject({ url: z.string() })).optional(),
  parts: z.number().int().nullable().optional(),
  encoding: z.string().nullable().optional(),
  cost: money.nullable().optional(),
  cost_breakdown: z.unknown().optional(),
  errors: z.array(telnyxError).optional(),
  received_at: z.string().nullable().optional(),
  sent_at: z.string().nullable().optional(),
  completed_at: z.string().nullable().optional(),
  valid_until: z.string().nullable().optional(),
  send_at: z.string().nullable().optional(),
  wait_seconds: z.number().nullable().optional(),
  webhook_url: z.string().nullable().optional(),
  webhook_failover_url: z.string().nullable().optional(),
});
export type Message = z.infer<typeof message>;

export const messageResponse = z.looseObject({ data: message });
export type MessageResponse = z.infer<typeof messageResponse>;

/**
 * The same checks without building a copy: a strip object validates every known field and skips the
 * rest without copying it. `message` has no transforms, so an answer that passes is, as JSON.parse
 * built it, exactly what the loose parse would return; the client hands that object on. About 1 µs
 * an answer against 3–5 µs for the loose parse, which copies all ~30 fields of every send's answer.
 */
export const messageCheck = z.object(message.shape);
export const messageResponseCheck = z.object({ data: messageCheck });

export const webhookEventType = z.string(); // message.sent | message.finalized | message.received | …
export const webhookEnvelope = z.looseObject({
  data: z.looseObject({
    event_type: webhookEventType,
    id: z.string(),
    occurred_at: z.string(),
    payload: message,
    record_type: z.string(),
  }),
  meta: z.looseObject({ attempt: z.number().int().optional(), delivered_to: z.string().optional() }).optional(),
});
export type WebhookEnvelope = z.infer<typeof webhookEnvelope>;

/** Telnyx error codes bulktext branches on (strings on the wire). */
export const TelnyxCode = {
  authFailed: '10009',
  notAuthorized: '10010',
  rateLimited: '10011',
  invalidParameter: '10004',
  invalidValue: '10015',
  missingParameter: '10016',
  internalError: '10007',
  serviceUnavailable: '10037',
  insufficientFunds: '20100',
  accountInactive: '20012',
  blockedStop: '40300',
  tooManyParts: '40302',
  invalidSource: '40305',
  invalidFromForProfile: '40309',
  invalidToNumber: '40310',
  profileDisabled: '40312',
  messagingDisabled: '40314',
  invalidMedia: '40316',
  invalidSendAt: '40317',
  queueFull: '40318',
  alphaNotSupported: '40328',
  spendLimit: '40333',
} as const;
