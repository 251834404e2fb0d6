/**
 * Adapter from the dispatcher's MessageSender port to the Telnyx client: builds each row's request body
 * for the job's sending mode and turns every answer into a classified SendResult.
 */
import type { MessageSender, PendingMessage, SendResult } from '../dispatch/ports.js';
import { classifySendError } from './classify.js';
import type { TelnyxClient } from './client.js';
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

/** The JSON body for one row (pure; exported for contract tests). */
export function buildRequestBody(template: SendTemplate, msg: PendingMessage): Record<string, unknown> {
  const common = {
    ...optional('text', msg.text),
    ...optional('subject', msg.subject),
    ...optional('media_urls', template.mediaUrls),
    ...optional('webhook_url', template.webhookUrl),
    ...optional('webhook_failover_url', template.webhookFailoverUrl),
    ...optional('use_profile_webhooks', template.useProfileWebhooks),
  };
  const smsOptions = {
    ...optional('type', template.type),
    ...optional('auto_detect', template.autoDetect),
    ...optional('encoding', template.encoding),
  };
  const sender = msg.sender ?? undefined;
  switch (template.kind) {
    case 'group_mms':
      return { from: sender, to: msg.to.split(','), ...common };
    case 'number_pool':
      return { messaging_profile_id: template.messagingProfileId, to: msg.to, ...common, ...smsOptions };
    case 'alphanumeric':
      return { from: sender, messaging_profile_id: template.messagingProfileId, to: msg.to, ...common, ...smsOptions };
    case 'messages':
      return {
        to: msg.to,
        // A row pinned to the profile (no from list) lets Telnyx pick the number.
        ...(sender !== undefined && sender !== template.messagingProfileId ? { from: sender } : {}),
        ...optional('messaging_profile_id', template.messagingProfileId),
        ...common,
        ...smsOptions,
      };
    case 'long_code':
    case 'short_code':
      return { from: sender, to: msg.to, ...common, ...smsOptions };
  }
}

export function createMessageSender(client: TelnyxClient, template: SendTemplate): MessageSender {
  return {
    async send(msg: PendingMessage, signal?: AbortSignal): Promise<SendResult> {
      const body = buildRequestBody(template, msg);
      try {
        // The body is built from a validated job spec and ledger row; the client checks group size.
        const message = await client.send(template.kind, body as never, signal === undefined ? {} : { signal });
        return {
          kind: 'accepted',
          messageId: message.id,
          fromNumber: message.from?.phone_number ?? null,
          parts: message.parts ?? null,
          cost: message.cost?.amount ?? null,
          currency: message.cost?.currency ?? null,
          httpStatus: 200,
        };
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
