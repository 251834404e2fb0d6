/**
 * Options → the resolved configuration the request path reads: defaults filled in, lists turned
 * into Sets/Maps, prices into integers, so nothing on the hot path parses or scans.
 */
import type { TelnyxErrorObject } from '../wire.js';
import { hashString } from './random.js';
import type { FailureStatus, FaultKind, OutcomeSpec, SimulatorConfigPatch } from './options.js';
import { defaultFailureStatus, telnyxError } from './telnyx-errors.js';

export type SenderType = 'long_code' | 'toll_free' | 'short_code' | 'alphanumeric';

export interface ResolvedOutcome {
  status: 'delivered' | FailureStatus;
  /** The error that goes into `errors[]` of the finalized message. */
  error: TelnyxErrorObject | undefined;
}

export interface ResolvedProfile {
  numbers: readonly string[];
  webhookUrl: string | undefined;
  webhookFailoverUrl: string | undefined;
}

export interface ResolvedWebhooks {
  enabled: boolean;
  defaultUrl: string | undefined;
  defaultFailoverUrl: string | undefined;
  onlyUrl: string | undefined;
  delayMs: number;
  duplicateProbability: number;
  outOfOrderProbability: number;
  triesPerUrl: number;
  retryDelayMs: number;
  timeoutMs: number;
  concurrency: number;
}

export interface SimConfig {
  /** The options this was resolved from, kept so a config patch can be applied on top. */
  readonly source: SimulatorConfigPatch;
  accountRate: number;
  mmsAccountRate: number;
  senderRates: Readonly<Record<SenderType, number>>;
  rateByNumber: ReadonlyMap<string, number>;
  queueMs: number;
  apiLimit: { requests: number; windowMs: number } | undefined;
  /** Prices are integers of 10^-priceScale currency units, so sums never drift. */
  priceScale: number;
  pricePerPartUnits: number;
  spendLimitUnits: number | undefined;
  currency: string;
  costAtSend: boolean;
  stop: ReadonlySet<string>;
  profiles: ReadonlyMap<string, ResolvedProfile>;
  webhooks: ResolvedWebhooks;
  outcomeByRecipient: ReadonlyMap<string, ResolvedOutcome>;
  failureProbability: number;
  failureOutcomes: readonly ResolvedOutcome[];
  faultScripts: ReadonlyMap<string, ReadonlyArray<FaultKind | 'none'>>;
  /** Cumulative probability table; empty when no random faults are configured. */
  faultTable: ReadonlyArray<{ kind: FaultKind; upTo: number }>;
  latencyMs: number;
  sendingMs: number;
  deliveryMs: number;
}

export const DELIVERED: ResolvedOutcome = Object.freeze({ status: 'delivered', error: undefined });

export function resolveOutcome(spec: OutcomeSpec): ResolvedOutcome {
  if (spec === 'delivered') return DELIVERED;
  const code = typeof spec === 'string' ? spec : spec.code;
  const status = typeof spec === 'string' ? defaultFailureStatus(code) : (spec.status ?? defaultFailureStatus(code));
  const detail =
    typeof spec === 'object' && spec.detail !== undefined ? spec.detail : `The message could not be delivered (${code}).`;
  return { status, error: telnyxError(code, detail) };
}

/** "0.0040" → { units: 40, scale: 4 }. */
export function parseDecimal(s: string): { units: number; scale: number } {
  const [whole = '0', frac = ''] = s.split('.');
  return { units: Number(whole + frac), scale: frac.length };
}

export function formatUnits(units: number, scale: number): string {
  if (scale === 0) return String(units);
  const digits = String(units).padStart(scale + 1, '0');
  return `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** Five toll-free numbers derived from the profile id, so every profile id has a stable pool. */
export function defaultPool(profileId: string): ResolvedProfile {
  const base = hashString(profileId) % 10_000;
  const numbers = Array.from({ length: 5 }, (_, i) => `+1833555${String((base + i) % 10_000).padStart(4, '0')}`);
  return { numbers, webhookUrl: undefined, webhookFailoverUrl: undefined };
}

export function resolveConfig(options: SimulatorConfigPatch): SimConfig {
  const price = parseDecimal(options.pricePerPart ?? '0.0040');
  const profiles = new Map<string, ResolvedProfile>();
  for (const [id, p] of Object.entries(options.profiles ?? {})) {
    profiles.set(
      id,
      Array.isArray(p)
        ? { numbers: p, webhookUrl: undefined, webhookFailoverUrl: undefined }
        : { numbers: p.numbers, webhookUrl: p.webhookUrl, webhookFailoverUrl: p.webhookFailoverUrl },
    );
  }
  const faultTable: Array<{ kind: FaultKind; upTo: number }> = [];
  let cumulative = 0;
  for (const [kind, p] of Object.entries(options.faults?.probabilities ?? {}) as Array<[FaultKind, number]>) {
    if (p > 0) {
      cumulative += p;
      faultTable.push({ kind, upTo: cumulative });
    }
  }
  const limit = options.apiRequestLimit;
  const w = options.webhooks ?? {};
  return {
    source: options,
    accountRate: options.accountRate ?? 50,
    mmsAccountRate: options.mmsAccountRate ?? 15,
    senderRates: {
      long_code: options.senderRates?.longCode ?? 1,
      toll_free: options.senderRates?.tollFree ?? 20,
      short_code: options.senderRates?.shortCode ?? 1000,
      alphanumeric: options.senderRates?.alphanumeric ?? 0.1,
    },
    rateByNumber: new Map(Object.entries(options.senderRates?.byNumber ?? {})),
    queueMs: (options.queueSeconds ?? 14_400) * 1000,
    apiLimit: limit === undefined || limit === false ? undefined : { requests: limit.requests, windowMs: limit.windowMs ?? 1000 },
    priceScale: price.scale,
    pricePerPartUnits: price.units,
    spendLimitUnits: options.spendLimit === undefined ? undefined : Math.round(options.spendLimit * 10 ** price.scale),
    currency: options.currency ?? 'USD',
    costAtSend: options.costAtSend ?? true,
    stop: new Set(options.stopList ?? []),
    profiles,
    webhooks: {
      enabled: w.enabled ?? true,
      defaultUrl: w.defaultWebhookUrl,
      defaultFailoverUrl: w.defaultFailoverUrl,
      onlyUrl: w.onlyUrl,
      delayMs: w.delayMs ?? 0,
      duplicateProbability: w.duplicateProbability ?? 0,
      outOfOrderProbability: w.outOfOrderProbability ?? 0,
      triesPerUrl: w.triesPerUrl ?? 3,
      retryDelayMs: w.retryDelayMs ?? 1000,
      timeoutMs: w.timeoutMs ?? 2000,
      concurrency: w.concurrency ?? 8,
    },
    outcomeByRecipient: new Map(
      Object.entries(options.outcomes?.recipients ?? {}).map(([to, spec]) => [to, resolveOutcome(spec)] as const),
    ),
    failureProbability: options.outcomes?.failureProbability ?? 0,
    failureOutcomes: (options.outcomes?.failureCodes ?? ['40008']).map((c) => resolveOutcome(c)),
    faultScripts: new Map(Object.entries(options.faults?.recipients ?? {})),
    faultTable,
    latencyMs: options.faults?.latencyMs ?? 1000,
    sendingMs: options.lifecycle?.sendingMs ?? 200,
    deliveryMs: options.lifecycle?.deliveryMs ?? 800,
  };
}

const TOLL_FREE = /^\+18(00|33|44|55|66|77|88)\d{7}$/;
const SHORT_CODE = /^\+?\d{5,6}$/;
const HAS_LETTER = /[A-Za-z]/;

/**
 * What kind of sender a `from` is. Toll-free is the real NANP toll-free set (800, 833, 844, 855,
 * 866, 877, 888), not every +1 8xx: +1 801 is Utah.
 */
export function senderType(from: string): SenderType {
  if (HAS_LETTER.test(from)) return 'alphanumeric';
  if (SHORT_CODE.test(from)) return 'short_code';
  if (TOLL_FREE.test(from)) return 'toll_free';
  return 'long_code';
}

export function senderRate(config: SimConfig, from: string, type: SenderType): number {
  return config.rateByNumber.get(from) ?? config.senderRates[type];
}
