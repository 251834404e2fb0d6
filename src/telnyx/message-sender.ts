/**
 * Adapter from the dispatcher's MessageSender port to the Telnyx client: builds each row's request body
 * for the job's sending mode and turns every answer into a classified SendResult.
 */
import type { MessageSender, PendingMessage, SendResult } from '../dispatch/ports.js';
import { classifySendError } from './classify.js';
import { oddFieldsOf, type TelnyxClient } from './client.js';
import type { SendKind } from './wire.js';

/** The parts of every request that come from the job, not the row. */
export interface SendTemplate {
  kind: SendKind;
  messagingProfileId?: string;
  mediaUrls?: string[];
  type?: 'SMS' | 'MMS';
  webhookUrl?: string;
  webhookFailoverUrl?: string;
  useProfileWebhooks?: boolean;
  autoDetect?: boolean;
  encoding?: 'auto' | 'gsm7' | 'ucs2';
}

function optional<T>(key: string, value: T | undefined | null): Record<string, T> {
  return value === undefined || value === null ? {} : { [key]: value };
}

/**
 * Returns a function that builds one row's JSON body for the job's sending mode (pure; exported for
 * tests). What comes from the job is gathered once here, not again for every row.
 */
export function requestBodyBuilder(template: SendTemplate): (msg: PendingMessage) => Record<string, unknown> {
  const webhooks = {
    ...optional('webhook_url', template.webhookUrl),
    ...optional('webhook_failover_url', template.webhookFailoverUrl),
    ...optional('use_profile_webhooks', template.useProfileWebhooks),
  };
  const shared = { ...optional('media_urls', template.mediaUrls), ...webhooks };
  const sms = {
    ...optional('type', template.type),
    ...optional('auto_detect', template.autoDetect),
    ...optional('encoding', template.encoding),
  };
  const profile = template.messagingProfileId;
  const content = (msg: PendingMessage) => ({ ...optional('text', msg.text), ...optional('subject', msg.subject) });
  switch (template.kind) {
    case 'group_mms':
      return (msg) => ({ from: msg.sender ?? undefined, to: msg.to.split(','), ...content(msg), ...shared });
    case 'number_pool':
      return (msg) => ({ messaging_profile_id: profile, to: msg.to, ...content(msg), ...shared, ...sms });
    case 'alphanumeric':
      // Only what POST /messages/alphanumeric_sender_id declares (the job file refuses the rest too).
      return (msg) => ({ from: msg.sender ?? undefined, messaging_profile_id: profile, to: msg.to, ...optional('text', msg.text), ...webhooks });
    case 'messages': {
      const withProfile = optional('messaging_profile_id', profile);
      return (msg) => ({
        to: msg.to,
        // A row pinned to the profile (no from list) lets Telnyx pick the number.
        ...(msg.sender !== null && msg.sender !== profile ? { from: msg.sender } : {}),
        ...withProfile,
        ...content(msg),
        ...shared,
        ...sms,
      });
    }
    case 'long_code':
    case 'short_code':
      return (msg) => ({ from: msg.sender ?? undefined, to: msg.to, ...content(msg), ...shared, ...sms });
  }
}

export function createMessageSender(client: TelnyxClient, template: SendTemplate): MessageSender {
  const build = requestBodyBuilder(template);
  return {
    async send(msg: PendingMessage, signal?: AbortSignal): Promise<SendResult> {
      const body = build(msg);
      try {
        // The body is built from a validated job spec and ledger row; the client checks group size.
        const message = await client.send(template.kind, body as never, signal === undefined ? {} : { signal });
        const result: SendResult = {
          kind: 'accepted',
          messageId: message.id,
          fromNumber: message.from?.phone_number ?? null,
          parts: message.parts ?? null,
          cost: message.cost?.amount ?? null,
          currency: message.cost?.currency ?? null,
          httpStatus: 200,
        };
        const odd = oddFieldsOf(message);
        if (odd !== undefined) result.oddFields = odd;
        return result;
      } catch (err) {
        const failure = classifySendError(err);
        return {
          kind: failure.kind,
          code: failure.code ?? null,
          detail: failure.detail,
          httpStatus: failure.status ?? null,
          ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
        };
      }
    },
  };
}
