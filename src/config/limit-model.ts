/**
 * Which limits a job's messages pass, how big each is and where the figure comes from: the account file
 * when there is one, else the job file and Telnyx's documented defaults (API-NOTES "Throughput").
 * Pure: `run` paces by it and `plan` explains it.
 *
 * A limit with a `key` is Telnyx's, not the process's: every process sending on the same ledger shares
 * it (dispatch/shared-limits.ts). Its capacity is counted per window of `windowMs`; a rate below one a
 * second gets a window long enough to hold one message (0.1/s: one per 10 s), so shares stay whole
 * messages. A job's own `rate` only ever lowers what this process takes (`local`).
 */
import type { AccountSpec, SenderType } from './account-spec.js';
import { inferSenderType, senderCountry } from './account-spec.js';
import type { JobSpec } from './job-spec.js';
import { AppError } from '../shared/errors.js';
import { toMicros } from '../shared/micros.js';

export interface SharedLimit {
  /** Shared across processes under this key (the ledger's limits store). */
  key: string;
  windowMs: number;
  /** Units (messages, or segments with count_parts) per window, for the whole account. */
  capacity: number;
  /** Where the figure comes from, for `plan` and the README. */
  source: string;
}

export interface DailyCap {
  key: string;
  /** Units per UTC day. */
  cap: number;
  source: string;
}

export interface SenderLimits {
  sender: string;
  type: SenderType | 'profile';
  /** Per second, shared by every process sending from this sender. */
  perSecond: SharedLimit;
  /** 10DLC: the campaign's per-minute limit, shared by all its numbers. */
  campaign?: SharedLimit;
  /** 10DLC: the brand's daily cap. */
  brandDay?: DailyCap;
}

export interface LimitModel {
  /** The account-wide per-second limit (SMS or MMS). */
  account: SharedLimit;
  /** What this run may take at most (the job's own rate.messages_per_second, never above the account). */
  runCeiling: number;
  /** The job's own per-sender ceiling, when it set one: lowers every sender's limit for this run. */
  jobPerSender: number | undefined;
  /** Counts segments (true) or messages against every limit. */
  countParts: boolean;
  /** The account's daily spend cap, in micro-dollars per UTC day (account file `limits.daily_spend_usd`). */
  spendDay: DailyCap | undefined;
  sender(id: string): SenderLimits;
}

/** Per-sender messages/s by type when nothing declares one: what Telnyx drains such a sender at. */
export function defaultSenderRate(type: SenderType, country: string | undefined): number {
  switch (type) {
    case 'toll_free':
      return 20;
    case 'short_code':
      return 1000;
    case 'alphanumeric':
      return 0.1;
    case 'long_code':
      // Outside the US Telnyx documents 0.1/s; US 10DLC is limited per campaign (per minute), 1/s per number is safe without one.
      return country === undefined || country === 'US' || country === 'CA' ? 1 : 0.1;
  }
}

/** A per-second limit as a shared window: whole seconds, longer for rates below one a second. */
export function perSecondLimit(key: string, rate: number, source: string): SharedLimit {
  const windowMs = rate >= 1 ? 1000 : Math.ceil(1000 / rate);
  return { key, windowMs, capacity: (rate * windowMs) / 1000, source };
}

const profileModes: ReadonlySet<JobSpec['sender']['mode']> = new Set(['number_pool']);

export function limitModel(spec: JobSpec, account: AccountSpec | undefined, mms: boolean): LimitModel {
  const given = new Set(spec.rate_given ?? ['messages_per_second', 'per_sender_per_second']);
  const jobRun = spec.rate.messages_per_second;
  const jobPerSender = given.has('per_sender_per_second') ? spec.rate.per_sender_per_second : undefined;
  const accountRate = account === undefined ? undefined : mms ? account.limits.mms_per_second : account.limits.sms_per_second;
  const kind = mms ? 'mms' : 'sms';
  const accountLimit =
    accountRate === undefined
      ? perSecondLimit(`account:${kind}`, jobRun, 'job rate.messages_per_second')
      : perSecondLimit(`account:${kind}`, accountRate, `account file limits.${kind}_per_second`);
  const runCeiling = accountRate === undefined || !given.has('messages_per_second') ? (accountRate ?? jobRun) : Math.min(jobRun, accountRate);
  const cache = new Map<string, SenderLimits>();
  const sender = (id: string): SenderLimits => {
    let s = cache.get(id);
    if (s !== undefined) return s;
    s = senderLimits(id, spec, account, jobPerSender);
    cache.set(id, s);
    return s;
  };
  return { account: accountLimit, runCeiling, jobPerSender, countParts: spec.rate.count_parts, spendDay: spendCap(spec, account), sender };
}

/** Refuses (exit 2) a job a daily spend cap could not count, before anything is created or sent. */
export function checkSpendCap(spec: JobSpec, account: AccountSpec | undefined): void {
  spendCap(spec, account);
}

/** The spend cap, if the account file sets one; a job under it must say what a message costs (in USD). */
function spendCap(spec: JobSpec, account: AccountSpec | undefined): DailyCap | undefined {
  const cap = account?.limits.daily_spend_usd;
  if (cap === undefined || account === undefined) return undefined;
  // Telnyx's answer often has no cost yet when the row must be counted (before its request is written).
  if (spec.pricing === undefined || spec.pricing.currency !== 'USD') {
    throw new AppError(
      'ERR_JOB_SPEC_INVALID',
      `${account.file} caps the daily spend at ${cap} USD: job ${spec.name} needs a pricing block in USD (pricing.per_part, and countries or mms_per_message as needed) to count what each message costs before Telnyx says`,
    );
  }
  return { key: 'spend:USD', cap: toMicros(cap), source: 'account file limits.daily_spend_usd' };
}

function senderLimits(id: string, spec: JobSpec, account: AccountSpec | undefined, jobPerSender: number | undefined): SenderLimits {
  const key = `sender:${id}`;
  const declared = account?.senders.get(id);
  if (declared === undefined && (profileModes.has(spec.sender.mode) || !spec.sender.from.includes(id))) {
    // A messaging profile (number pool): Telnyx picks the numbers, the job's figure is all we know.
    return { sender: id, type: 'profile', perSecond: perSecondLimit(key, spec.rate.per_sender_per_second, 'job rate.per_sender_per_second (messaging profile)') };
  }
  const type = declared?.type ?? inferSenderType(id);
  const country = declared?.country ?? senderCountry(id, type);
  const campaignName = declared?.campaign;
  const campaign = campaignName === undefined ? undefined : account!.campaigns[campaignName];
  let rate: number;
  let source: string;
  if (declared?.perSecond !== undefined) {
    rate = declared.perSecond;
    source = `account file senders[${id}].per_second`;
  } else if (campaign !== undefined) {
    // A 10DLC number can take its whole campaign's throughput; the campaign's minute limit is what binds.
    rate = campaign.per_minute / 60;
    source = `campaign ${campaignName}: ${campaign.per_minute}/min`;
  } else if (account === undefined && jobPerSender !== undefined) {
    rate = jobPerSender;
    source = 'job rate.per_sender_per_second';
  } else {
    rate = defaultSenderRate(type, country);
    source = `Telnyx's rate for a ${type.replace('_', ' ')}${type === 'long_code' && country !== undefined ? ` in ${country}` : ''}`;
  }
  const limits: SenderLimits = { sender: id, type, perSecond: perSecondLimit(key, rate, source) };
  if (campaign !== undefined && campaignName !== undefined) {
    limits.campaign = { key: `campaign:${campaignName}`, windowMs: 60_000, capacity: campaign.per_minute, source: `account file campaigns.${campaignName}.per_minute` };
    const brand = campaign.brand === undefined ? undefined : account!.brands[campaign.brand];
    if (brand !== undefined) limits.brandDay = { key: `brand:${campaign.brand}`, cap: brand.daily_cap, source: `account file brands.${campaign.brand}.daily_cap` };
  }
  return limits;
}

/** The job's `sender.from` with a named group of the account file resolved (the group's members, in order). */
export function resolveSenders(spec: JobSpec, account: AccountSpec | undefined): JobSpec {
  const group = spec.sender.group;
  if (group === undefined) return spec;
  const members = account?.groups[group];
  if (members === undefined) {
    throw new AppError(
      'ERR_JOB_SPEC_INVALID',
      account === undefined
        ? `job ${spec.name} names sender group ${group}, but there is no account file (jobs/account.yaml, --account or BULKTEXT_ACCOUNT)`
        : `job ${spec.name} names sender group ${group}, which ${account.file} does not define (groups: ${Object.keys(account.groups).join(', ') || 'none'})`,
    );
  }
  return { ...spec, sender: { ...spec.sender, from: [...members] } };
}
