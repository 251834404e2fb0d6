/**
 * A send request → either a normalised send or the Telnyx error (HTTP status, code, source.pointer)
 * Telnyx answers for it. Structure (types, required keys) comes from the shared wire schemas; the
 * rules Telnyx applies on top (E.164, sender formats, parts, media, send_at) are checked here.
 */
import { z } from 'zod';
import { isAppError } from '../../shared/errors.js';
import { countSegments, MAX_PARTS } from '../segments.js';
import { E164, sendMessageRequest, sendRequestSchemas, type SendKind, type TelnyxErrorObject } from '../wire.js';
import { ALPHANUMERIC_SENDER_ID as ALPHANUMERIC, alphanumericRefusal, isShortCodeSender, PROFILE_ID } from '../../shared/sender-forms.js';
import { senderType, type SenderType } from './config.js';
import { telnyxError } from './telnyx-errors.js';

/** A send endpoint: the six of wire.ts plus `/messages/schedule`, which the SDK's `schedule()` calls. */
export type SendEndpoint = SendKind | 'schedule';

export interface NormalisedSend {
  to: readonly string[];
  /** Absent for a number-pool send until the pool picks a number. */
  from: string | undefined;
  senderType: SenderType | undefined;
  profileId: string | undefined;
  text: string | undefined;
  subject: string | undefined;
  media: readonly string[];
  type: 'SMS' | 'MMS';
  parts: number;
  encoding: 'GSM-7' | 'UCS-2';
  /** Epoch ms, for a scheduled message. */
  sendAt: number | undefined;
  webhookUrl: string | undefined;
  webhookFailoverUrl: string | undefined;
  useProfileWebhooks: boolean;
}

export type ValidationResult =
  | { ok: true; send: NormalisedSend }
  | { ok: false; status: number; error: TelnyxErrorObject };

const scheduleRequest = sendMessageRequest.extend({ send_at: z.string() });
const schemas = { ...sendRequestSchemas, schedule: scheduleRequest } as const;

const SHORT_CODE_TO = /^\d{5,6}$/;
const MIN_SCHEDULE_MS = 5 * 60_000;
const MAX_SCHEDULE_MS = 5 * 86_400_000;
const EMPTY: readonly string[] = Object.freeze([]);

function fail(status: number, code: string, detail: string, pointer: string): ValidationResult {
  return { ok: false, status, error: telnyxError(code, detail, pointer) };
}

function valueAt(body: Record<string, unknown>, path: readonly PropertyKey[]): unknown {
  let v: unknown = body;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function isValidTo(to: string): boolean {
  return E164.test(to) || SHORT_CODE_TO.test(to);
}

function isHttpUrl(s: string): boolean {
  if (!URL.canParse(s)) return false;
  const protocol = new URL(s).protocol;
  return protocol === 'http:' || protocol === 'https:';
}

/**
 * Checks one send request the way Telnyx does.
 * @param now epoch ms, for the send_at window
 */
export function validateSend(endpoint: SendEndpoint, body: unknown, now: number): ValidationResult {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return fail(400, '10015', 'The request body must be a JSON object.', '/');
  }
  const raw = body as Record<string, unknown>;
  const parsed = schemas[endpoint].safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.slice(0, issue.code === 'too_big' || issue.code === 'too_small' ? 1 : undefined);
    const pointer = `/${path.map(String).join('/')}`;
    if (valueAt(raw, path) === undefined) {
      return fail(400, '10016', `The '${path.map(String).join('.')}' parameter is required.`, pointer);
    }
    if (endpoint === 'group_mms' && path[0] === 'to' && issue.code === 'too_big') {
      return fail(400, '10015', 'A group MMS may have no more than 8 destinations.', pointer);
    }
    return fail(400, '10015', `Invalid value for '${path.map(String).join('.')}': ${issue.message}.`, pointer);
  }
  const req = parsed.data as Record<string, unknown> & {
    to: string | string[];
    from?: string;
    messaging_profile_id?: string;
    text?: string;
    subject?: string;
    media_urls?: string[];
    type?: 'SMS' | 'MMS';
    encoding?: 'auto' | 'gsm7' | 'ucs2';
    send_at?: string | null;
    webhook_url?: string;
    webhook_failover_url?: string;
    use_profile_webhooks?: boolean;
  };

  // Recipients.
  const to = typeof req.to === 'string' ? [req.to] : req.to;
  for (let i = 0; i < to.length; i++) {
    if (!isValidTo(to[i]!)) {
      const pointer = typeof req.to === 'string' ? '/to' : `/to/${i}`;
      return fail(400, '40310', `The 'to' address ${JSON.stringify(to[i])} is not a valid +E.164 number or short code.`, pointer);
    }
  }
  if (endpoint === 'group_mms' && new Set(to).size !== to.length) {
    return fail(400, '10015', 'A group MMS lists each destination once.', '/to');
  }

  // Sender.
  const profileId = req.messaging_profile_id === '' ? undefined : req.messaging_profile_id;
  if (profileId !== undefined && !PROFILE_ID.test(profileId)) {
    return fail(422, '10015', `Invalid value for 'messaging_profile_id': ${JSON.stringify(profileId)} is not a UUID.`, '/messaging_profile_id');
  }
  let from: string | undefined;
  let type: SenderType | undefined;
  switch (endpoint) {
    case 'number_pool':
      if (profileId === undefined) return fail(400, '10016', "The 'messaging_profile_id' parameter is required.", '/messaging_profile_id');
      break;
    case 'long_code':
    case 'group_mms':
      if (!E164.test(req.from!)) {
        return fail(400, '40305', `The 'from' address ${JSON.stringify(req.from)} is not a +E.164 phone number.`, '/from');
      }
      from = req.from;
      type = senderType(req.from!);
      if (type === 'short_code') {
        return fail(400, '40305', `The 'from' address ${JSON.stringify(req.from)} is a short code; use /messages/short_code.`, '/from');
      }
      break;
    case 'short_code':
      if (!isShortCodeSender(req.from!)) {
        return fail(400, '40305', `The 'from' address ${JSON.stringify(req.from)} is not a short code (5 or 6 digits, or +E.164).`, '/from');
      }
      from = req.from;
      type = 'short_code';
      break;
    case 'alphanumeric':
      if (!ALPHANUMERIC.test(req.from!)) {
        return fail(400, '40305', `The 'from' sender ID ${JSON.stringify(req.from)} must be 1-11 letters, digits or spaces with a letter.`, '/from');
      }
      if (profileId === undefined) return fail(400, '10016', "The 'messaging_profile_id' parameter is required.", '/messaging_profile_id');
      from = req.from;
      type = 'alphanumeric';
      break;
    case 'messages':
    case 'schedule':
      if (req.from === undefined || req.from === '') {
        if (profileId === undefined) {
          return fail(400, '10016', "Either 'from' or 'messaging_profile_id' (number pool) is required.", '/from');
        }
      } else {
        from = req.from;
        type = senderType(req.from);
        if (type === 'alphanumeric') {
          if (!ALPHANUMERIC.test(from)) {
            return fail(400, '40305', `The 'from' sender ID ${JSON.stringify(from)} must be 1-11 letters, digits or spaces with a letter.`, '/from');
          }
          if (profileId === undefined) {
            return fail(400, '10016', "The 'messaging_profile_id' parameter is required for an alphanumeric sender ID.", '/messaging_profile_id');
          }
        } else if (type !== 'short_code' && !E164.test(from)) {
          return fail(400, '40305', `The 'from' address ${JSON.stringify(from)} is not a +E.164 number, short code or alphanumeric sender ID.`, '/from');
        }
      }
      break;
  }

  // Content.
  const media = req.media_urls ?? EMPTY;
  if (req.text !== undefined && req.text.length === 0) {
    return fail(400, '10015', "The 'text' parameter must be a non-empty string.", '/text');
  }
  if (media.length > 10) return fail(400, '40316', 'No more than 10 media URLs are allowed.', '/media_urls');
  for (let i = 0; i < media.length; i++) {
    if (!isHttpUrl(media[i]!)) return fail(400, '40316', `Media URL ${JSON.stringify(media[i])} is not an http(s) URL.`, `/media_urls/${i}`);
  }
  const messageType: 'SMS' | 'MMS' = endpoint === 'group_mms' ? 'MMS' : (req.type ?? (media.length > 0 ? 'MMS' : 'SMS'));
  if (type === 'alphanumeric') {
    if (media.length > 0 || req.type === 'MMS') {
      return fail(400, '10015', 'Alphanumeric sender IDs send SMS only.', media.length > 0 ? '/media_urls' : '/type');
    }
    const refusedBy = alphanumericRefusal(to[0]!);
    if (refusedBy !== undefined) return fail(422, '40328', `Alphanumeric sender IDs cannot send to ${refusedBy}.`, '/to');
  }
  if (messageType === 'SMS') {
    if (req.text === undefined) return fail(400, '10016', "The 'text' parameter is required for SMS.", '/text');
    if (media.length > 0) return fail(400, '10015', "An SMS cannot carry 'media_urls'; send type MMS.", '/type');
  } else if (media.length === 0 && (endpoint !== 'group_mms' || req.text === undefined)) {
    return fail(400, '10016', "The 'media_urls' parameter is required for MMS.", '/media_urls');
  }

  // Parts. MMS is not split; its text still has an encoding.
  let parts = 1;
  let encoding: 'GSM-7' | 'UCS-2' = 'GSM-7';
  if (req.text !== undefined) {
    try {
      const count = countSegments(req.text, {
        encoding: req.encoding ?? 'auto',
        shortCode: type === 'short_code',
      });
      encoding = count.encoding;
      if (messageType === 'SMS') parts = count.parts;
    } catch (err) {
      if (isAppError(err, 'ERR_USAGE')) return fail(400, '10015', err.message, '/text');
      throw err;
    }
    if (parts > MAX_PARTS) {
      return fail(400, '40302', `The message is ${parts} parts long; at most ${MAX_PARTS} are allowed.`, '/text');
    }
  }

  // Scheduling.
  let sendAt: number | undefined;
  if (req.send_at !== undefined && req.send_at !== null) {
    sendAt = Date.parse(req.send_at);
    if (Number.isNaN(sendAt)) return fail(400, '40317', "'send_at' must be an ISO 8601 date-time.", '/send_at');
    const ahead = sendAt - now;
    if (ahead < MIN_SCHEDULE_MS || ahead > MAX_SCHEDULE_MS) {
      return fail(400, '40317', "'send_at' must be between 5 minutes and 5 days from now.", '/send_at');
    }
  }

  const urlError = checkUrl(req.webhook_url, '/webhook_url') ?? checkUrl(req.webhook_failover_url, '/webhook_failover_url');
  if (urlError !== undefined) return urlError;

  return {
    ok: true,
    send: {
      to,
      from,
      senderType: type,
      profileId,
      text: req.text,
      subject: req.subject,
      media,
      type: messageType,
      parts,
      encoding,
      sendAt,
      webhookUrl: req.webhook_url === '' ? undefined : req.webhook_url,
      webhookFailoverUrl: req.webhook_failover_url === '' ? undefined : req.webhook_failover_url,
      useProfileWebhooks: req.use_profile_webhooks ?? true,
    },
  };
}

function checkUrl(url: string | undefined, pointer: string): ValidationResult | undefined {
  if (url === undefined || url === '' || isHttpUrl(url)) return undefined;
  return fail(400, '10015', `${JSON.stringify(url)} is not an http(s) URL.`, pointer);
}
