/**
 * The limit model as `plan` shows it: every Telnyx limit the campaign passes (account, sender, 10DLC
 * campaign minute, brand day), how long each would take on its own at the dispatcher's pacing, which
 * one sets the pace, and how many UTC days a brand's daily cap stretches the campaign over (rows past
 * the first day's cap are deferred, not failed). Pacing only, like the duration estimate.
 */
import type { LimitModel } from '../config/limit-model.js';
import { RATE_SAFETY } from '../dispatch/rate-gate.js';
import type { SenderLoad } from './throughput.js';
import { formatMicros, toMicros } from '../shared/micros.js';

export type PaceSetter = 'account' | 'sender' | 'campaign_minute' | 'brand_day' | 'spend_day';

export interface LimitLine {
  limit: PaceSetter;
  /** `account:sms`, `sender:+1…`, `campaign:C1`, `brand:acme`. */
  key: string;
  /** Units per second (per minute for a campaign, per day for a brand). */
  figure: number;
  per: 'second' | 'minute' | 'day';
  source: string;
  units: number;
  seconds: number;
}

export interface BrandDays {
  brand: string;
  cap: number;
  units: number;
  /** UTC days the campaign needs under the cap (from a day with none of it used yet). */
  days: number;
  /** Rows left for later days on the first one (estimated from the average parts a row). */
  deferred_rows: number;
}

/** The account's daily spend cap against the campaign's estimated cost (the job's pricing, USD). */
export interface SpendDays {
  /** USD per UTC day, as the account file says it. */
  cap: string;
  source: string;
  /** The plan's cost estimate (USD). */
  estimate: string;
  days: number;
  /** Rows left for later days on the first one (in proportion to the estimate). */
  deferred_rows: number;
}

export interface LimitPlan {
  account_file: string | null;
  pace: PaceSetter;
  lines: LimitLine[];
  brands: BrandDays[];
  spend: SpendDays | null;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** `cost`: the plan's estimate of the campaign (USD, the job's pricing) and the rows it covers, for the spend cap. */
export function limitPlan(
  model: LimitModel,
  loads: ReadonlyMap<string, SenderLoad>,
  totalUnits: number,
  accountFile: string | null,
  cost?: { amount: string | null; rows: number },
): LimitPlan {
  const lines: LimitLine[] = [];
  const runRate = model.runCeiling;
  lines.push({
    limit: 'account',
    key: model.account.key,
    figure: runRate,
    per: 'second',
    source: runRate < (model.account.capacity * 1000) / model.account.windowMs ? 'job rate.messages_per_second (below the account)' : model.account.source,
    units: totalUnits,
    seconds: round(totalUnits / (runRate * RATE_SAFETY)),
  });
  let busiest: LimitLine | undefined;
  const campaigns = new Map<string, { line: LimitLine; perMinute: number }>();
  const brands = new Map<string, { cap: number; units: number; messages: number }>();
  for (const [sender, load] of loads) {
    const s = model.sender(sender);
    const rate = Math.min((s.perSecond.capacity * 1000) / s.perSecond.windowMs, model.jobPerSender ?? Infinity);
    const line: LimitLine = {
      limit: 'sender',
      key: s.perSecond.key,
      figure: round(rate),
      per: 'second',
      source: model.jobPerSender !== undefined && model.jobPerSender < rate * 1.000001 && model.jobPerSender === rate ? 'job rate.per_sender_per_second' : s.perSecond.source,
      units: load.units,
      seconds: round(load.units / (rate * RATE_SAFETY)),
    };
    if (busiest === undefined || line.seconds > busiest.seconds) busiest = line;
    if (s.campaign !== undefined) {
      const c = campaigns.get(s.campaign.key) ?? {
        line: { limit: 'campaign_minute' as const, key: s.campaign.key, figure: s.campaign.capacity, per: 'minute' as const, source: s.campaign.source, units: 0, seconds: 0 },
        perMinute: s.campaign.capacity,
      };
      c.line.units += load.units;
      c.line.seconds = round((c.line.units * 60) / (c.perMinute * RATE_SAFETY));
      campaigns.set(s.campaign.key, c);
    }
    if (s.brandDay !== undefined) {
      const b = brands.get(s.brandDay.key) ?? { cap: s.brandDay.cap, units: 0, messages: 0 };
      b.units += load.units;
      b.messages += load.messages;
      brands.set(s.brandDay.key, b);
    }
  }
  if (busiest !== undefined) lines.push(busiest);
  lines.push(...[...campaigns.values()].map((c) => c.line));
  const brandDays: BrandDays[] = [...brands].map(([key, b]) => {
    const over = Math.max(0, b.units - b.cap);
    return {
      brand: key.slice('brand:'.length),
      cap: b.cap,
      units: b.units,
      days: Math.max(1, Math.ceil(b.units / b.cap)),
      deferred_rows: over === 0 ? 0 : Math.ceil((b.messages * over) / b.units),
    };
  });
  let pace: PaceSetter = 'account';
  let longest = -1;
  for (const l of lines) if (l.seconds > longest) [pace, longest] = [l.limit, l.seconds];
  if (brandDays.some((b) => b.days > 1)) pace = 'brand_day';
  const spend = spendDays(model, cost);
  if (spend !== null && spend.days > 1 && !brandDays.some((b) => b.days >= spend.days)) pace = 'spend_day';
  return { account_file: accountFile, pace, lines, brands: brandDays, spend };
}

function spendDays(model: LimitModel, cost: { amount: string | null; rows: number } | undefined): SpendDays | null {
  const cap = model.spendDay;
  if (cap === undefined || cost?.amount === undefined || cost.amount === null) return null;
  const estimate = toMicros(cost.amount);
  const over = Math.max(0, estimate - cap.cap);
  return {
    cap: formatMicros(cap.cap),
    source: cap.source,
    estimate: cost.amount,
    days: Math.max(1, Math.ceil(estimate / cap.cap)),
    deferred_rows: over === 0 ? 0 : Math.ceil((cost.rows * over) / estimate),
  };
}
