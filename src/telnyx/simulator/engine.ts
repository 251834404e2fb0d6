/**
 * The simulated Telnyx account, free of HTTP: validates and accepts sends, runs the queue model,
 * spend limit, STOP list, outcomes and faults, and keeps the store. The server maps its answers
 * to HTTP; tests and the in-process handle read it directly.
 *
 * Queue model (API-NOTES "Throughput"): each sender has a segment queue drained at its rate, and
 * the account has one for SMS and one for MMS. A queue is represented by the time it will be
 * empty, so admitting a message is O(1): it leaves when both queues have drained to it, and a send
 * that would push either past rate × queueSeconds segments is refused with 429 40318.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { TelnyxErrorObject } from '../wire.js';
import {
  DELIVERED,
  defaultPool,
  formatUnits,
  resolveConfig,
  senderRate,
  senderType as classifySender,
  type ResolvedOutcome,
  type ResolvedProfile,
  type SimConfig,
} from './config.js';
import type { FaultKind, SimulatorConfigPatch, SimulatorOptions } from './options.js';
import { chance, createRng, hashString, randomSeed, uuidFrom, type Rng } from './random.js';
import { renderMessage, type OutboundMessagePayload } from './render.js';
import { MessageStore, type SimRecord } from './store.js';
import { telnyxError } from './telnyx-errors.js';
import { validateSend, type SendEndpoint } from './validate.js';
import { WebhookDispatcher, type ReceiptSink, type WebhookCounts } from './webhooks.js';

export type SendResult =
  | { ok: true; record: SimRecord }
  | { ok: false; status: number; error: TelnyxErrorObject };

export type CancelResult =
  | { ok: true; record: SimRecord }
  | { ok: false; status: number; error: TelnyxErrorObject };

export interface SimulatorStats {
  /** Requests to /v2, answered or not. */
  requests: number;
  accepted: number;
  /** Distinct recipients with at least one accepted message. */
  recipients: number;
  /** Refusals by Telnyx error code (validation, 40318, 40333, 10011, 10009, injected faults…). */
  rejected: Record<string, number>;
  /** Faults injected, by kind. */
  faults: Record<string, number>;
  /** Accepted messages per sending number (the pool's choice for number-pool sends). */
  bySender: Record<string, number>;
  /** Accepted messages per recipient; absent when not asked for. */
  byRecipient?: Record<string, number>;
  /** Accept times, epoch ms with sub-ms precision, in accept order; absent when not asked for. */
  acceptedTimestamps?: number[];
  /** Spent today (UTC) as a decimal string. */
  spent: string;
  currency: string;
  /** Seconds of backlog in each sender's queue now. */
  queues: Record<string, number>;
  webhooks: WebhookCounts;
}

export interface StatsQuery {
  /** Include `byRecipient`. @default true */
  recipients?: boolean;
  /** Include `acceptedTimestamps`. @default true */
  timestamps?: boolean;
}

function hrNow(): number {
  return performance.timeOrigin + performance.now();
}

function utcDay(ms: number): number {
  return Math.floor(ms / 86_400_000);
}

export class SimulatorEngine {
  readonly publicKey: string;
  readonly privateKey: KeyObject;
  readonly organizationId: string;
  /** Profile id shown on messages sent without one (Telnyx shows the number's profile). */
  readonly defaultProfileId: string;
  readonly store = new MessageStore();
  readonly webhooks: WebhookDispatcher;
  readonly seed: number;
  #config: SimConfig;
  readonly #rng: Rng;
  #senderQueues = new Map<string, number>();
  #smsQueue = 0;
  #mmsQueue = 0;
  #spentUnits = 0;
  #spentDay = utcDay(Date.now());
  #windowStart = 0;
  #windowCount = 0;
  #requests = 0;
  #rejected = new Map<string, number>();
  #faultsInjected = new Map<string, number>();
  #scriptPosition = new Map<string, number>();
  #requestsByRecipient = new Map<string, number>();
  #defaultPools = new Map<string, ResolvedProfile>();
  /**
   * One string per distinct sender and per distinct cost: every request parses its own copy of
   * `from`, and a million records holding a million copies of the same few strings add up.
   */
  #interned = new Map<string, string>();
  #costStrings = new Map<number, string>();

  /** @param receipts takes every receipt in place of posting it (see ReceiptSink) */
  constructor(options: SimulatorOptions, receipts?: ReceiptSink) {
    this.seed = options.seed ?? randomSeed();
    this.#rng = createRng(this.seed);
    this.#config = resolveConfig(options);
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    // The SPKI DER of an Ed25519 key ends with the 32 raw key bytes; Telnyx publishes those, base64.
    this.publicKey = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
    this.privateKey = privateKey;
    this.organizationId = uuidFrom(this.#rng);
    this.defaultProfileId = uuidFrom(this.#rng);
    this.webhooks = new WebhookDispatcher({
      privateKey,
      config: () => this.#config,
      rng: createRng(this.seed ^ 0x2545f491),
      organizationId: this.organizationId,
      sink: receipts,
    });
  }

  get config(): SimConfig {
    return this.#config;
  }

  /** Applies a run-time change: the given keys replace the current ones whole. */
  configure(patch: SimulatorConfigPatch): void {
    this.#config = resolveConfig({ ...this.#config.source, ...patch });
    if (patch.faults !== undefined) this.#scriptPosition.clear();
  }

  /** Forgets every message, counter, queue and scheduled webhook; keeps the configuration. */
  reset(): void {
    this.store.clear();
    this.webhooks.clear();
    this.#senderQueues.clear();
    this.#smsQueue = 0;
    this.#mmsQueue = 0;
    this.#spentUnits = 0;
    this.#windowStart = 0;
    this.#windowCount = 0;
    this.#requests = 0;
    this.#rejected.clear();
    this.#faultsInjected.clear();
    this.#scriptPosition.clear();
    this.#requestsByRecipient.clear();
  }

  /** Counts a /v2 request against the API request limit; returns the headers to send, and whether it is over. */
  countRequest(now: number): { headers: Record<string, string> | undefined; limited: boolean } {
    this.#requests++;
    const limit = this.#config.apiLimit;
    if (limit === undefined) return { headers: undefined, limited: false };
    if (now >= this.#windowStart + limit.windowMs) {
      this.#windowStart = now;
      this.#windowCount = 0;
    }
    this.#windowCount++;
    const resetSeconds = Math.max(1, Math.ceil((this.#windowStart + limit.windowMs - now) / 1000));
    const headers: Record<string, string> = {
      'x-ratelimit-limit': String(limit.requests),
      'x-ratelimit-remaining': String(Math.max(0, limit.requests - this.#windowCount)),
      'x-ratelimit-reset': String(resetSeconds),
    };
    const limited = this.#windowCount > limit.requests;
    if (limited) {
      headers['retry-after'] = String(resetSeconds);
      this.countRejection('10011');
    }
    return { headers, limited };
  }

  countRejection(code: string): void {
    this.#rejected.set(code, (this.#rejected.get(code) ?? 0) + 1);
  }

  /** Picks the fault for a send to `to`: the recipient's script first, then the seeded dice. */
  decideFault(to: string | undefined): FaultKind | undefined {
    if (to === undefined) return undefined;
    const config = this.#config;
    let fault: FaultKind | undefined;
    const script = config.faultScripts.get(to);
    if (script !== undefined) {
      const position = this.#scriptPosition.get(to) ?? 0;
      if (position < script.length) {
        this.#scriptPosition.set(to, position + 1);
        const step = script[position]!;
        if (step !== 'none') fault = step;
      }
    }
    if (fault === undefined && config.faultTable.length > 0) {
      const n = this.#requestsByRecipient.get(to) ?? 0;
      this.#requestsByRecipient.set(to, n + 1);
      const u = chance(this.seed, 'fault', to, n);
      for (const row of config.faultTable) {
        if (u < row.upTo) {
          fault = row.kind;
          break;
        }
      }
    }
    if (fault !== undefined) this.#faultsInjected.set(fault, (this.#faultsInjected.get(fault) ?? 0) + 1);
    return fault;
  }

  /** Validates and, if Telnyx would, accepts one send. */
  send(endpoint: SendEndpoint, body: unknown): SendResult {
    const now = Date.now();
    const config = this.#config;
    const validation = validateSend(endpoint, body, now);
    if (!validation.ok) return this.#refuse(validation.status, validation.error);
    const send = validation.send;

    for (const to of send.to) {
      if (config.stop.has(to)) {
        return this.#refuse(409, telnyxError('40300', `${to} replied STOP; messages to it are blocked.`, '/to'));
      }
    }

    let from = send.from;
    let type = send.senderType;
    const configuredProfile = send.profileId === undefined ? undefined : config.profiles.get(send.profileId);
    if (from === undefined) {
      // Number pool: a sticky choice per recipient (a hash, so it needs no memory).
      const pool = configuredProfile ?? this.#defaultPool(send.profileId!);
      from = pool.numbers[hashString(send.to[0]!) % pool.numbers.length]!;
      type = classifySender(from);
    }
    const senderKind = type!;
    from = this.#intern(from);

    const segments = send.parts * send.to.length;
    const costUnits = segments * config.pricePerPartUnits;
    const day = utcDay(now);
    if (day !== this.#spentDay) {
      this.#spentDay = day;
      this.#spentUnits = 0;
    }
    if (config.spendLimitUnits !== undefined && this.#spentUnits + costUnits > config.spendLimitUnits) {
      return this.#refuse(
        429,
        telnyxError('40333', `The daily spend limit of ${formatUnits(config.spendLimitUnits, config.priceScale)} ${config.currency} has been reached.`),
      );
    }

    let departAt: number;
    if (send.sendAt === undefined) {
      const rate = senderRate(config, from, senderKind);
      const isMms = send.type === 'MMS';
      const accountRate = isMms ? config.mmsAccountRate : config.accountRate;
      const senderStart = Math.max(now, this.#senderQueues.get(from) ?? 0);
      const senderEnd = senderStart + (segments * 1000) / rate;
      const accountStart = Math.max(now, isMms ? this.#mmsQueue : this.#smsQueue);
      const accountEnd = accountStart + (segments * 1000) / accountRate;
      if (senderEnd - now > config.queueMs) {
        return this.#refuse(429, telnyxError('40318', `The queue of sender ${from} is full (${rate} segments/s × ${config.queueMs / 1000} s).`));
      }
      if (accountEnd - now > config.queueMs) {
        return this.#refuse(429, telnyxError('40318', `The account ${isMms ? 'MMS' : 'SMS'} queue is full (${accountRate}/s × ${config.queueMs / 1000} s).`));
      }
      this.#senderQueues.set(from, senderEnd);
      if (isMms) this.#mmsQueue = accountEnd;
      else this.#smsQueue = accountEnd;
      departAt = Math.max(senderStart, accountStart);
    } else {
      departAt = send.sendAt;
    }

    const outcomes: readonly ResolvedOutcome[] =
      send.to.length === 1 ? this.#outcomeFor(send.to[0]!) : send.to.map((to) => this.#outcomeFor(to)[0]!);
    const useProfile = send.useProfileWebhooks && configuredProfile !== undefined;
    const webhookUrl = send.webhookUrl ?? (useProfile ? configuredProfile.webhookUrl : undefined) ?? config.webhooks.defaultUrl;
    const webhookFailoverUrl =
      send.webhookFailoverUrl ?? (useProfile ? configuredProfile.webhookFailoverUrl : undefined) ?? config.webhooks.defaultFailoverUrl;
    const sentAt = departAt + config.sendingMs;
    const record: SimRecord = {
      id: uuidFrom(this.#rng),
      type: send.type,
      from,
      senderType: senderKind,
      to: send.to,
      outcomes,
      profileId: send.profileId ?? this.defaultProfileId,
      text: send.text,
      subject: send.subject,
      media: send.media,
      parts: send.parts,
      encoding: send.encoding,
      receivedAt: now,
      departAt,
      sentAt,
      finalAt: sentAt + config.deliveryMs,
      validUntil: (send.sendAt ?? now) + config.queueMs,
      sendAt: send.sendAt,
      cancelledAt: undefined,
      cost: this.#costString(costUnits, config.priceScale),
      costUnits,
      currency: config.currency,
      costAtSend: config.costAtSend,
      webhookUrl,
      webhookFailoverUrl,
    };
    this.#spentUnits += costUnits;
    this.store.add(record, hrNow());
    // The record keeps what the request asked for (the API echoes it); a sealed simulator posts only to onlyUrl.
    const sealed = config.webhooks.onlyUrl;
    if (sealed === undefined) this.webhooks.schedule(record, webhookUrl, webhookFailoverUrl);
    else this.webhooks.schedule(record, sealed, undefined);
    return { ok: true, record };
  }

  get(id: string): SimRecord | undefined {
    return this.store.get(id);
  }

  /** Cancels a scheduled message that is more than a minute from its send_at. */
  cancel(id: string): CancelResult {
    const record = this.store.get(id);
    const now = Date.now();
    if (record === undefined) return { ok: false, status: 404, error: telnyxError('10005', `No message with id ${id}.`) };
    if (record.sendAt === undefined || record.cancelledAt !== undefined || record.sendAt - now <= 60_000) {
      const why =
        record.cancelledAt !== undefined
          ? 'it is already cancelled'
          : record.sendAt === undefined
            ? 'it is not scheduled'
            : 'it is due in less than a minute';
      return { ok: false, status: 403, error: telnyxError('10015', `Message ${id} cannot be cancelled: ${why}.`) };
    }
    record.cancelledAt = now;
    if (utcDay(record.receivedAt) === this.#spentDay) {
      this.#spentUnits = Math.max(0, this.#spentUnits - record.costUnits);
    }
    return { ok: true, record };
  }

  render(record: SimRecord, at: number = Date.now(), accepting = false): OutboundMessagePayload {
    return renderMessage(record, this.organizationId, at, accepting);
  }

  stats(query: StatsQuery = {}): SimulatorStats {
    const now = Date.now();
    const counts = this.store.counts();
    const queues: Record<string, number> = {};
    for (const [from, emptyAt] of this.#senderQueues) {
      if (emptyAt > now) queues[from] = (emptyAt - now) / 1000;
    }
    const stats: SimulatorStats = {
      requests: this.#requests,
      accepted: counts.accepted,
      recipients: counts.recipients,
      rejected: Object.fromEntries(this.#rejected),
      faults: Object.fromEntries(this.#faultsInjected),
      bySender: counts.bySender,
      spent: formatUnits(this.#spentUnits, this.#config.priceScale),
      currency: this.#config.currency,
      queues,
      webhooks: this.webhooks.counts(),
    };
    if (query.recipients !== false) stats.byRecipient = this.store.recipientCounts();
    if (query.timestamps !== false) stats.acceptedTimestamps = Array.from(this.store.acceptedTimestamps());
    return stats;
  }

  async close(): Promise<void> {
    await this.webhooks.close();
  }

  #refuse(status: number, error: TelnyxErrorObject): SendResult {
    this.countRejection(error.code);
    return { ok: false, status, error };
  }

  #intern(s: string): string {
    const held = this.#interned.get(s);
    if (held !== undefined) return held;
    if (this.#interned.size < 100_000) this.#interned.set(s, s);
    return s;
  }

  #costString(units: number, scale: number): string {
    const key = units * 16 + scale;
    let text = this.#costStrings.get(key);
    if (text === undefined) {
      text = formatUnits(units, scale);
      if (this.#costStrings.size < 10_000) this.#costStrings.set(key, text);
    }
    return text;
  }

  #defaultPool(profileId: string): ResolvedProfile {
    let pool = this.#defaultPools.get(profileId);
    if (pool === undefined) {
      pool = defaultPool(profileId);
      this.#defaultPools.set(profileId, pool);
    }
    return pool;
  }

  /** A one-element outcome list for `to`; the shared [DELIVERED] in the common case, so no allocation. */
  #outcomeFor(to: string): readonly ResolvedOutcome[] {
    const config = this.#config;
    const scripted = config.outcomeByRecipient.get(to);
    if (scripted !== undefined) return scripted === DELIVERED ? DELIVERED_LIST : [scripted];
    if (config.failureProbability > 0) {
      const n = this.store.byRecipientCount(to);
      const u = chance(this.seed, 'outcome', to, n);
      if (u < config.failureProbability) {
        const pick = Math.floor(chance(this.seed, 'outcome-code', to, n) * config.failureOutcomes.length);
        return [config.failureOutcomes[pick]!];
      }
    }
    return DELIVERED_LIST;
  }
}

const DELIVERED_LIST: readonly ResolvedOutcome[] = Object.freeze([DELIVERED]);
