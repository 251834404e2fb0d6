/**
 * Simulator options: one zod schema that is both the TypeScript type (`SimulatorOptions`) and the
 * validator for scenario files and `POST /__sim/config`, so a scenario key that is misspelt is
 * reported by name. Every option is plain JSON, so the same object crosses into a worker thread.
 * Rates count segments (parts) per second, as Telnyx meters them (API-NOTES "Throughput").
 */
import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import { E164 } from '../wire.js';
import { PROFILE_ID } from '../../shared/sender-forms.js';

/** How a send request misbehaves, scripted per recipient or drawn by probability. */
export const faultKinds = [
  /** HTTP 500 with a Telnyx body (10007); nothing was created. */
  'server_error',
  /** HTTP 503 with a Telnyx body (10037); nothing was created. */
  'service_unavailable',
  /** HTTP 502 with an HTML page from a proxy; nothing was created. */
  'bad_gateway',
  /** HTTP 504 with an HTML page from a proxy; nothing was created. */
  'gateway_timeout',
  /** HTTP 429 10011 with rate-limit headers and Retry-After. */
  'rate_limited',
  /** HTTP 429 40318, as if the sender queue were full. */
  'queue_full',
  /** Answer normally after `faults.latencyMs`. */
  'latency',
  /** Read the request and never answer; nothing was created. */
  'hang',
  /** Create the message, then destroy the socket without answering: the in-doubt case. */
  'accept_then_reset',
  /** Create the message and never answer (the client times out): in doubt. */
  'accept_then_hang',
  /** Create the message, then answer 502 HTML as a proxy that lost the answer: in doubt. */
  'accept_then_bad_gateway',
] as const;
export type FaultKind = (typeof faultKinds)[number];

/** Statuses a message can end in when delivery fails. */
export const failureStatuses = ['sending_failed', 'delivery_failed', 'delivery_unconfirmed', 'expired'] as const;
export type FailureStatus = (typeof failureStatuses)[number];

const code = z.string().regex(/^\d{5}$/, 'must be a five-digit Telnyx error code such as "40008"');
const rate = z.number().positive().max(1_000_000);
const probability = z.number().min(0).max(1);
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const address = z.string().min(1);

/**
 * A delivery outcome: `"delivered"`, a Telnyx delivery error code (`"40008"`; the status follows
 * from the code), or both explicitly.
 */
const outcomeSpec = z.union([
  z.literal('delivered'),
  code,
  z.strictObject({
    code,
    /** @default by code: 40001/40010/40300 → sending_failed, 40014 → expired, others → delivery_failed */
    status: z.enum(failureStatuses).optional(),
    detail: z.string().optional(),
  }),
]);
export type OutcomeSpec = z.infer<typeof outcomeSpec>;

const senderRatesSchema = z.strictObject({
  /** Long codes (any E.164 number that is not toll-free). @default 1 */
  longCode: rate.optional(),
  /** Toll-free numbers (+1 800/833/844/855/866/877/888). @default 20 */
  tollFree: rate.optional(),
  /** Short codes (a `from` of 5 or 6 digits). @default 1000 */
  shortCode: rate.optional(),
  /** Alphanumeric sender IDs (a `from` with a letter). @default 0.1 */
  alphanumeric: rate.optional(),
  /** Rate for one particular sender, overriding its type's rate. */
  byNumber: z.record(address, rate).optional(),
});

const profileSchema = z.union([
  z.array(z.string().regex(E164, 'must be an E.164 number')).min(1),
  z.strictObject({
    numbers: z.array(z.string().regex(E164, 'must be an E.164 number')).min(1),
    /** The profile's webhook URL, used after the message's own (when use_profile_webhooks). */
    webhookUrl: httpUrl.optional(),
    webhookFailoverUrl: httpUrl.optional(),
  }),
]);

const webhooksSchema = z.strictObject({
  /** Deliver `message.sent` and `message.finalized` to each message's webhook URL. @default true */
  enabled: z.boolean().optional(),
  /** URL for messages that carry none (and whose profile has none), so a sandbox run gets receipts. */
  defaultWebhookUrl: httpUrl.optional(),
  /** Failover URL for messages that carry none. */
  defaultFailoverUrl: httpUrl.optional(),
  /**
   * Deliver every receipt here and nowhere else, whatever the message's or its profile's webhook and
   * failover URLs say: how a sandbox run stays sealed (its job's `webhook_url` is a real address).
   */
  onlyUrl: httpUrl.optional(),
  /** Extra delay before each event is delivered. @default 0 */
  delayMs: z.number().int().min(0).max(3_600_000).optional(),
  /** Chance that an event is delivered twice (same `data.id`). @default 0 */
  duplicateProbability: probability.optional(),
  /** Chance that `message.finalized` is delivered before `message.sent`. @default 0 */
  outOfOrderProbability: probability.optional(),
  /** Tries per URL before moving on to the failover URL, like Telnyx. @default 3 */
  triesPerUrl: z.number().int().min(1).max(10).optional(),
  /** Wait between tries. @default 1000 */
  retryDelayMs: z.number().int().min(0).max(600_000).optional(),
  /** A receiver that has not answered 2xx within this is a failed try (Telnyx allows 2 s). @default 2000 */
  timeoutMs: z.number().int().min(1).max(60_000).optional(),
  /** Deliveries in flight at once (undici connections per receiver). @default 8 */
  concurrency: z.number().int().min(1).max(256).optional(),
});

const outcomesSchema = z.strictObject({
  /** Scripted outcome per recipient number. */
  recipients: z.record(address, outcomeSpec).optional(),
  /** Chance that any other message fails delivery (seeded). @default 0 */
  failureProbability: probability.optional(),
  /** Codes a random failure draws from, uniformly. @default ["40008"] */
  failureCodes: z.array(code).min(1).optional(),
});

const faultsSchema = z
  .strictObject({
    /**
     * Scripted faults per recipient: the nth send request to that number gets the nth entry,
     * `"none"` lets that request through, and requests after the list behave normally.
     */
    recipients: z.record(address, z.array(z.union([z.enum(faultKinds), z.literal('none')]))).optional(),
    /** Chance per send request of each fault (seeded; drawn per recipient and request count). */
    probabilities: z.partialRecord(z.enum(faultKinds), probability).optional(),
    /** Delay of the `latency` fault. @default 1000 */
    latencyMs: z.number().int().min(0).max(600_000).optional(),
  })
  .refine((f) => Object.values(f.probabilities ?? {}).reduce((a, b) => a + (b ?? 0), 0) <= 1, {
    message: 'fault probabilities must add up to at most 1',
    path: ['probabilities'],
  });

const lifecycleSchema = z.strictObject({
  /** Time from leaving the queue (`sending`) to `sent`. @default 200 */
  sendingMs: z.number().int().min(0).max(86_400_000).optional(),
  /** Time from `sent` to the final status (`delivered` or the scripted failure). @default 800 */
  deliveryMs: z.number().int().min(0).max(86_400_000).optional(),
});

/** Options that can also be changed at run time through `POST /__sim/config`. */
const runtimeShape = {
  /** Account throughput for SMS, segments/s (Telnyx: 50). @default 50 */
  accountRate: rate.optional(),
  /** Account throughput for MMS, messages/s (Telnyx: 15). @default 15 */
  mmsAccountRate: rate.optional(),
  /** Throughput of each sender, by sender type. */
  senderRates: senderRatesSchema.optional(),
  /**
   * How long a queue may hold work: a send that would push a queue past rate × queueSeconds
   * segments is refused with 429 40318. @default 14400 (4 hours, like Telnyx)
   */
  queueSeconds: z.number().positive().max(864_000).optional(),
  /**
   * API request limit per window: beyond it, 429 10011 with `x-ratelimit-*` and `Retry-After`.
   * `false` turns it off. @default false
   */
  apiRequestLimit: z
    .union([
      z.literal(false),
      z.strictObject({
        requests: z.number().int().positive(),
        /** @default 1000 */
        windowMs: z.number().int().positive().max(3_600_000).optional(),
      }),
    ])
    .optional(),
  /** Spend limit per UTC day (in the price currency): sends beyond it get 429 40333. @default none */
  spendLimit: z.number().min(0).optional(),
  /** Price of one part, as a decimal string. @default "0.0040" */
  pricePerPart: z.string().regex(/^\d{1,6}(\.\d{1,8})?$/, 'must be a decimal such as "0.0040"').optional(),
  /** @default "USD" */
  currency: z.string().regex(/^[A-Z]{3}$/).optional(),
  /** Put `cost` in the send response; when false it is null until the message is sent. @default true */
  costAtSend: z.boolean().optional(),
  /** Numbers that replied STOP: a send to them gets 409 40300. @default [] */
  stopList: z.array(address).optional(),
  /**
   * Messaging profiles: id → pool numbers (or numbers plus the profile's webhook URLs). Any other
   * profile id gets a default pool of five toll-free numbers, so the SDK and demos just work.
   */
  profiles: z.record(z.string().regex(PROFILE_ID, 'must be a UUID, as Telnyx profile ids are'), profileSchema).optional(),
  webhooks: webhooksSchema.optional(),
  outcomes: outcomesSchema.optional(),
  faults: faultsSchema.optional(),
  lifecycle: lifecycleSchema.optional(),
};

export const simulatorConfigSchema = z.strictObject(runtimeShape);

export const simulatorOptionsSchema = z.strictObject({
  /** TCP port; 0 picks a free one. @default 0 */
  port: z.number().int().min(0).max(65_535).optional(),
  /** @default "127.0.0.1" */
  host: z.string().min(1).optional(),
  /** The one API key accepted as `Authorization: Bearer …`. @default any non-empty key */
  apiKey: z.string().min(1).optional(),
  /** Seed for every random choice (ids, probabilistic faults, outcomes, webhook duplicates). @default random */
  seed: z.number().int().min(0).max(0xffff_ffff).optional(),
  /** A JSON file with these same options; options given directly win over the file's. */
  scenario: z.string().min(1).optional(),
  ...runtimeShape,
});

/** Everything `startSimulator` accepts; all optional, all plain JSON. */
export type SimulatorOptions = z.infer<typeof simulatorOptionsSchema>;
/** The part of the options `POST /__sim/config` may change. */
export type SimulatorConfigPatch = z.infer<typeof simulatorConfigSchema>;

/** Formats zod issues one per line with the offending path, naming unknown keys. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length === 0 ? '(top level)' : issue.path.join('.');
      if (issue.code === 'unrecognized_keys') {
        return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      }
      return `${where}: ${issue.message}`;
    })
    .join('\n');
}

/** Validates simulator options (scenario file contents, or options from code). Pure. */
export function parseSimulatorOptions(input: unknown, source = 'simulator options'): SimulatorOptions {
  const result = simulatorOptionsSchema.safeParse(input);
  if (!result.success) {
    throw new AppError('ERR_USAGE', `invalid ${source}:\n${formatIssues(result.error)}`, {
      details: { issues: result.error.issues },
    });
  }
  return result.data;
}

/** Validates a run-time config change. Pure. */
export function parseConfigPatch(input: unknown): SimulatorConfigPatch {
  const result = simulatorConfigSchema.safeParse(input);
  if (!result.success) {
    throw new AppError('ERR_USAGE', `invalid simulator config:\n${formatIssues(result.error)}`, {
      details: { issues: result.error.issues },
    });
  }
  return result.data;
}
