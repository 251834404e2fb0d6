/**
 * The job file: a zod schema (unknown keys are errors that name the key), `parseJobSpec` (pure)
 * and the per-mode rules that decide which sender fields are required.
 */
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { ALPHANUMERIC_SENDER_ID, alphanumericMessageKeys, E164, isShortCodeSender, PROFILE_ID } from '../shared/sender-forms.js';
import { pricingSchema } from './pricing-spec.js';
import { dedupeSchema, expiresAfterSchema, scheduleSchema, windowSchema } from './schedule-spec.js';

export type SenderMode = 'long_code' | 'number_pool' | 'short_code' | 'alphanumeric' | 'messages' | 'group_mms';
export type SourceFormat = 'csv' | 'json' | 'ndjson';

/**
 * Default per-sender rate (messages/s) by mode, from Telnyx's documented throughput.
 * Long codes: 1/s is a safe 10DLC figure (Telnyx queues above it); alphanumeric senders: 0.1/s.
 */
export const defaultPerSenderRate: Readonly<Record<SenderMode, number>> = {
  long_code: 1,
  number_pool: 50,
  short_code: 1000,
  alphanumeric: 0.1,
  messages: 1,
  group_mms: 1,
};

const nonEmpty = z.string().min(1, 'must not be empty');

const sourceSchema = z.strictObject({
  /** Path to the recipients file, relative to the job file. */
  path: nonEmpty,
  /** Column (CSV) or property (JSON/NDJSON) holding the phone number. @default "phone" */
  phone_field: nonEmpty.default('phone'),
  /** ISO 3166 country for numbers written without a leading +. @default "US" */
  default_country: z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter ISO country code such as US').default('US'),
  /** File format; inferred from the extension when absent. */
  format: z.enum(['csv', 'json', 'ndjson']).optional(),
  /** CSV field delimiter. @default "," */
  delimiter: z.string().min(1).max(1).default(','),
});

const senderSchema = z.strictObject({
  mode: z.enum(['long_code', 'number_pool', 'short_code', 'alphanumeric', 'messages', 'group_mms']),
  /** One sender, or a list: each recipient is pinned to one number by a stable hash. */
  from: z.union([nonEmpty, z.array(nonEmpty).min(1)]).optional(),
  messaging_profile_id: z.string().regex(PROFILE_ID, 'must be a UUID such as 40017f5e-4e7c-4a58-a5b1-0d58ef7f3a5c (Telnyx portal → Messaging → the profile)').optional(),
  /** A named group of senders from the account file, instead of `from`. */
  group: nonEmpty.optional(),
});

const messageSchema = z.strictObject({
  /** Template: `{{field}}` is replaced by the row's field; a missing field skips the row. */
  text: z.string().optional(),
  media_urls: z.array(nonEmpty).max(10).optional(),
  subject: z.string().optional(),
  type: z.enum(['SMS', 'MMS']).optional(),
  webhook_url: nonEmpty.optional(),
  webhook_failover_url: nonEmpty.optional(),
  use_profile_webhooks: z.boolean().optional(),
  auto_detect: z.boolean().optional(),
  encoding: z.enum(['auto', 'gsm7', 'ucs2']).optional(),
});

const rateSchema = z.strictObject({
  /** Ceiling for the whole run, held over every sliding one-second window. @default 50 */
  messages_per_second: z.number().positive().default(50),
  /** Ceiling for each sending number (fractional allowed). @default by mode, see defaultPerSenderRate */
  per_sender_per_second: z.number().positive().optional(),
  /** Requests in flight at once. @default 16 */
  max_concurrent: z.number().int().min(1).max(1024).default(16),
  /** Count a message's parts (segments) against every limit, as Telnyx meters them. @default true */
  count_parts: z.boolean().default(true),
});

const retrySchema = z.strictObject({
  /** Total tries per message, the first included. @default 5 */
  attempts: z.number().int().min(1).max(50).default(5),
  /** @default 500 */
  min_delay_ms: z.number().int().min(0).default(500),
  /** @default 30000 */
  max_delay_ms: z.number().int().min(0).default(30_000),
});

const suppressionSchema = z.strictObject({
  /** A CSV/JSON/NDJSON file (or plain list, one number per line) of numbers never to text. */
  path: nonEmpty,
  /** Column holding the number in a CSV with a header. @default "phone" */
  phone_field: nonEmpty.default('phone'),
});

export const jobSpecSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits, dot, dash or underscore'),
    source: sourceSchema,
    sender: senderSchema,
    message: messageSchema,
    rate: rateSchema.default({ messages_per_second: 50, max_concurrent: 16, count_parts: true }),
    retry: retrySchema.default({ attempts: 5, min_delay_ms: 500, max_delay_ms: 30_000 }),
    suppression: suppressionSchema.optional(),
    /** Run this job on a cron schedule under `bulktext schedule`. */
    schedule: scheduleSchema.optional(),
    /** When recipients may be texted; rows outside it are deferred, never dropped. */
    window: windowSchema.optional(),
    /** Rows not sent this long after the run began are marked expired and never sent. */
    expires_after: expiresAfterSchema.optional(),
    /** Prices for `bulktext plan`'s cost estimate. */
    pricing: pricingSchema.optional(),
    /** Campaign memory: how far back a new run looks for numbers an earlier run of this job texted. */
    dedupe: dedupeSchema.optional(),
  })
  .superRefine((spec, ctx) => {
    const { mode, from, messaging_profile_id: profile, group } = spec.sender;
    const froms = from === undefined ? [] : Array.isArray(from) ? from : [from];
    if (group !== undefined && froms.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['sender', 'group'], message: 'name either from or group, not both' });
    }
    const need = (field: string, why: string) =>
      ctx.addIssue({ code: 'custom', path: ['sender', field], message: `is required for mode ${mode} (${why})` });
    if (['long_code', 'short_code', 'alphanumeric', 'group_mms'].includes(mode) && froms.length === 0 && group === undefined) {
      need('from', 'the sending number or sender ID');
    }
    if (['number_pool', 'alphanumeric'].includes(mode) && profile === undefined) {
      need('messaging_profile_id', 'Telnyx picks or authorises the sender through the profile');
    }
    if (mode === 'messages' && froms.length === 0 && profile === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['sender', 'from'],
        message: 'mode messages needs from or messaging_profile_id',
      });
    }
    if (mode === 'number_pool' && froms.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['sender', 'from'], message: 'is not allowed for number_pool: Telnyx picks the number' });
    }
    const badFrom = (i: number, f: string, must: string) =>
      ctx.addIssue({ code: 'custom', path: ['sender', 'from', ...(Array.isArray(from) ? [i] : [])], message: `"${f}" ${must}` });
    froms.forEach((f, i) => {
      if ((mode === 'long_code' || mode === 'group_mms') && !E164.test(f)) badFrom(i, f, 'must be an E.164 number such as +18445550001');
      if (mode === 'short_code' && !isShortCodeSender(f)) badFrom(i, f, 'must be a short code: 5 or 6 digits such as 12345, or its E.164 form');
      if (mode === 'alphanumeric' && !ALPHANUMERIC_SENDER_ID.test(f)) badFrom(i, f, 'must be 1-11 letters, digits or spaces with at least one letter');
      if (mode === 'messages' && !E164.test(f) && !isShortCodeSender(f) && !ALPHANUMERIC_SENDER_ID.test(f)) {
        badFrom(i, f, 'must be an E.164 number, a 5-6 digit short code or an alphanumeric sender ID');
      }
    });
    if (mode === 'messages' && profile === undefined && froms.some((f) => ALPHANUMERIC_SENDER_ID.test(f))) {
      need('messaging_profile_id', 'an alphanumeric sender ID is authorised through the profile');
    }
    if (mode === 'alphanumeric') {
      const allowed: readonly string[] = alphanumericMessageKeys;
      for (const [key, value] of Object.entries(spec.message)) {
        if (value === undefined || allowed.includes(key)) continue;
        ctx.addIssue({
          code: 'custom',
          path: ['message', key],
          message: `is not taken by alphanumeric senders (SMS only; they take ${alphanumericMessageKeys.join(', ')})`,
        });
      }
    }
    const text = spec.message.text;
    const hasMedia = (spec.message.media_urls?.length ?? 0) > 0;
    if ((text === undefined || text.trim() === '') && !hasMedia) {
      ctx.addIssue({ code: 'custom', path: ['message', 'text'], message: 'is required unless media_urls is given (MMS)' });
    }
    if (mode === 'alphanumeric' && (text === undefined || text === '')) {
      ctx.addIssue({ code: 'custom', path: ['message', 'text'], message: 'is required for mode alphanumeric' });
    }
    if (mode === 'group_mms' && !hasMedia && spec.message.type !== undefined && spec.message.type !== 'MMS') {
      ctx.addIssue({ code: 'custom', path: ['message', 'type'], message: 'group_mms messages are MMS' });
    }
    if (spec.dedupe?.window === 'slot' && spec.schedule === undefined) {
      ctx.addIssue({ code: 'custom', path: ['dedupe', 'window'], message: 'slot needs a schedule: give a duration such as 30d for a job without one' });
    }
    if (spec.retry.max_delay_ms < spec.retry.min_delay_ms) {
      ctx.addIssue({ code: 'custom', path: ['retry', 'max_delay_ms'], message: 'must be at least min_delay_ms' });
    }
  });

type ParsedSpec = z.infer<typeof jobSpecSchema>;

/** A validated job with defaults applied and paths made absolute. */
export interface JobSpec extends Omit<ParsedSpec, 'source' | 'sender' | 'rate' | 'suppression'> {
  source: ParsedSpec['source'] & { format: SourceFormat };
  sender: { mode: SenderMode; from: string[]; messaging_profile_id?: string; group?: string };
  /** The `rate` keys the job file set itself (absent in specs stored before: treat both as set). */
  rate_given?: ('messages_per_second' | 'per_sender_per_second')[];
  rate: ParsedSpec['rate'] & { per_sender_per_second: number };
  suppression?: ParsedSpec['suppression'];
  /** Absolute path of the job file (for messages and for resolving relative paths). */
  file: string;
}

/** Formats a zod issue list as "key.path: message" lines, naming every bad or unknown key. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => (issue.path.length > 0 ? `${where}.${k}` : k));
        return `unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
      }
      return `${where}: ${issue.message}`;
    })
    .join('\n');
}

/** Which per-second `rate` keys the document itself sets: only those may lower the account's limits. */
function rateGiven(doc: unknown): ('messages_per_second' | 'per_sender_per_second')[] {
  const rate = (doc as { rate?: Record<string, unknown> } | null)?.rate;
  if (rate === null || typeof rate !== 'object') return [];
  return (['messages_per_second', 'per_sender_per_second'] as const).filter((k) => rate[k] !== undefined);
}

function inferFormat(file: string): SourceFormat | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv' || ext === '.txt') return 'csv';
  if (ext === '.json') return 'json';
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  return undefined;
}

/**
 * Validates a parsed job document. Pure: `jobFile` is only used to resolve relative paths.
 * Throws ERR_JOB_SPEC_INVALID with every problem, each naming its key.
 */
export function parseJobSpec(doc: unknown, jobFile: string): JobSpec {
  const result = jobSpecSchema.safeParse(doc);
  const file = path.resolve(jobFile);
  if (!result.success) {
    throw new AppError('ERR_JOB_SPEC_INVALID', `invalid job file ${file}:\n${describeIssues(result.error)}`);
  }
  const spec = result.data;
  const dir = path.dirname(file);
  const sourcePath = path.resolve(dir, spec.source.path);
  const format = spec.source.format ?? inferFormat(sourcePath);
  if (format === undefined) {
    throw new AppError(
      'ERR_JOB_SPEC_INVALID',
      `invalid job file ${file}:\nsource.format: cannot tell the format of ${spec.source.path}; set source.format to csv, json or ndjson`,
    );
  }
  const from = spec.sender.from === undefined ? [] : Array.isArray(spec.sender.from) ? spec.sender.from : [spec.sender.from];
  const { suppression, ...rest } = spec;
  return {
    ...rest,
    source: { ...spec.source, path: sourcePath, format },
    sender: {
      mode: spec.sender.mode,
      from,
      ...(spec.sender.messaging_profile_id === undefined ? {} : { messaging_profile_id: spec.sender.messaging_profile_id }),
      ...(spec.sender.group === undefined ? {} : { group: spec.sender.group }),
    },
    rate_given: rateGiven(doc),
    rate: {
      ...spec.rate,
      per_sender_per_second: spec.rate.per_sender_per_second ?? defaultPerSenderRate[spec.sender.mode],
    },
    ...(suppression === undefined ? {} : { suppression: { ...suppression, path: path.resolve(dir, suppression.path) } }),
    file,
  };
}
