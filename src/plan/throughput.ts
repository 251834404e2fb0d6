/**
 * How long a plan takes at the job's limits, and whether it fits what Telnyx documents
 * (API-NOTES "Throughput").
 *
 * Duration follows the dispatcher exactly: every row takes `units` permits (1, or its parts with
 * rate.count_parts) from the run gate and from its sender's gate, and each gate paces at
 * RATE_SAFETY (99.5 %) of its ceiling. The run cannot finish before the run gate has passed every
 * unit, nor before the busiest sender's gate has passed its share, so the estimate is the larger of
 * the two. It is pacing only: request latency, retries and Telnyx slowing us down come on top.
 *
 * Queue overflow: Telnyx meters each sender in segments and queues what arrives faster than the
 * sender's throughput, for at most 4 hours (throughput × 14,400 segments). A sender's backlog grows
 * while we hand it segments faster than it drains them — a per-sender rate above the sender type's
 * throughput, or messages of several parts paced per message (count_parts off). The backlog when
 * the sender's last message is handed over is its segments minus what drained meanwhile; above the
 * 4-hour capacity, the rest would expire in Telnyx's queue (40014) or be refused (40318).
 */
import type { JobSpec } from '../config/job-spec.js';
import { RATE_SAFETY } from '../dispatch/rate-gate.js';
import type { PlanDuration, PlanWarning, SenderEstimate } from './types.js';

/** Seconds Telnyx holds a sender's queue. */
export const QUEUE_SECONDS = 4 * 60 * 60;

export type SenderKind = 'short_code' | 'toll_free' | 'us_long_code' | 'intl_long_code' | 'alphanumeric' | 'profile';

/** Documented per-sender throughput in segments/s (API-NOTES); US 10DLC varies by class, 75/s at the top. */
export const DOCUMENTED_SENDER_RATE: Readonly<Record<Exclude<SenderKind, 'profile'>, number>> = {
  short_code: 1000,
  toll_free: 20,
  us_long_code: 75,
  intl_long_code: 0.1,
  alphanumeric: 0.1,
};

/** Telnyx's default account throughput (messages/s). */
export const ACCOUNT_RATE = { sms: 50, mms: 15 } as const;

const senderKindLabel: Readonly<Record<SenderKind, string>> = {
  short_code: 'short code',
  toll_free: 'toll-free number',
  us_long_code: 'US long code (10DLC: the campaign class sets the rate, about 75/s at best)',
  intl_long_code: 'long code outside the US',
  alphanumeric: 'alphanumeric sender ID',
  profile: 'messaging profile',
};

const TOLL_FREE_NPA = new Set(['800', '833', '844', '855', '866', '877', '888']);

/** What kind of sender a `pickSender` key is, for its documented throughput. */
export function classifySender(mode: JobSpec['sender']['mode'], sender: string, spec: Pick<JobSpec['sender'], 'from'>): SenderKind {
  if (mode === 'short_code') return 'short_code';
  if (mode === 'alphanumeric') return 'alphanumeric';
  if (mode === 'number_pool' || !spec.from.includes(sender)) return 'profile';
  if (/[A-Za-z]/.test(sender)) return 'alphanumeric';
  const digits = sender.replace(/^\+/, '');
  if (digits.length <= 8) return 'short_code';
  if (digits.startsWith('1')) return TOLL_FREE_NPA.has(digits.slice(1, 4)) ? 'toll_free' : 'us_long_code';
  return 'intl_long_code';
}

export interface SenderLoad {
  messages: number;
  units: number;
  segments: number;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

export function estimateDuration(rate: JobSpec['rate'], totalUnits: number, loads: ReadonlyMap<string, SenderLoad>): PlanDuration {
  const runEffective = rate.messages_per_second * RATE_SAFETY;
  const senderEffective = rate.per_sender_per_second * RATE_SAFETY;
  const runSeconds = totalUnits / runEffective;
  let busiest: SenderEstimate | null = null;
  for (const [sender, load] of loads) {
    if (busiest === null || load.units > busiest.units) {
      busiest = { sender, messages: load.messages, units: load.units, segments: load.segments, seconds: round(load.units / senderEffective) };
    }
  }
  const senderSeconds = busiest?.seconds ?? 0;
  const bound = senderSeconds > runSeconds ? 'sender' : 'run';
  return {
    estimated_seconds: round(Math.max(runSeconds, senderSeconds)),
    units: rate.count_parts ? 'parts' : 'messages',
    total_units: totalUnits,
    pacing: RATE_SAFETY,
    run: { ceiling: rate.messages_per_second, effective: round(runEffective), seconds: round(runSeconds) },
    per_sender: { ceiling: rate.per_sender_per_second, effective: round(senderEffective), senders: loads.size, busiest },
    bound,
    note: 'pacing only: request latency, retries and Telnyx throttling add to it',
  };
}

/** The rate, in segments/s, at which the dispatcher hands one sender's segments to Telnyx. */
function segmentRate(rate: JobSpec['rate'], load: SenderLoad): number {
  const perUnit = load.units === 0 ? 0 : load.segments / load.units;
  return rate.per_sender_per_second * RATE_SAFETY * perUnit;
}

/** Warnings about the sender types' documented throughput and Telnyx's per-sender queues. */
export function throughputWarnings(spec: JobSpec, loads: ReadonlyMap<string, SenderLoad>, mms: boolean): PlanWarning[] {
  const warnings: PlanWarning[] = [];
  const { rate } = spec;
  const account = mms ? ACCOUNT_RATE.mms : ACCOUNT_RATE.sms;
  if (rate.messages_per_second > account) {
    warnings.push({
      code: 'account_throughput',
      message:
        `rate.messages_per_second ${rate.messages_per_second}/s is above Telnyx's default account limit of ${account} ${mms ? 'MMS' : 'SMS'}/s: ` +
        'Telnyx queues the excess and answers 40318 when the queue is full (fine if your account limit was raised)',
      rate: rate.messages_per_second,
      documented: account,
    });
  }
  const overRate = new Map<SenderKind, { senders: number; segmentRate: number; documented: number }>();
  for (const [sender, load] of loads) {
    const kind = classifySender(spec.sender.mode, sender, spec.sender);
    const submitted = segmentRate(rate, load);
    const documented = kind === 'profile' ? undefined : DOCUMENTED_SENDER_RATE[kind];
    if (documented !== undefined && submitted > documented * 1.0001) {
      const seen = overRate.get(kind);
      if (seen === undefined) overRate.set(kind, { senders: 1, segmentRate: submitted, documented });
      else {
        seen.senders++;
        seen.segmentRate = Math.max(seen.segmentRate, submitted);
      }
    }
    // What Telnyx drains this sender at: its documented throughput; for 10DLC (set by the campaign
    // class, 75/s at best), pools and profiles, where the account decides, the rate the job keeps.
    const drain =
      documented === undefined
        ? rate.per_sender_per_second
        : kind === 'us_long_code'
          ? Math.min(rate.per_sender_per_second, documented)
          : documented;
    if (submitted <= drain) continue;
    const handOverSeconds = load.units / (rate.per_sender_per_second * RATE_SAFETY);
    const backlog = load.segments - drain * handOverSeconds;
    const capacity = drain * QUEUE_SECONDS;
    if (backlog > capacity) {
      warnings.push({
        code: 'queue_overflow',
        message:
          `sender ${sender}: ${load.segments} segments handed over at ~${round(submitted)} segments/s, but Telnyx drains it at ${drain}/s; ` +
          `~${Math.ceil(backlog)} would wait in Telnyx's queue, which holds ${Math.floor(capacity)} (4 h): the rest would expire or be refused. ` +
          `${rate.count_parts ? 'Lower rate.per_sender_per_second' : 'Set rate.count_parts: true'} or spread the list over more senders`,
        sender,
        segments: load.segments,
        backlog: Math.ceil(backlog),
        capacity: Math.floor(capacity),
      });
    }
  }
  for (const [kind, o] of overRate) {
    warnings.push({
      code: 'sender_throughput',
      message:
        `${o.senders} ${senderKindLabel[kind]} sender${o.senders > 1 ? 's' : ''} would be handed up to ${round(o.segmentRate)} segments/s, ` +
        `above the documented ${o.documented}/s for this sender type: Telnyx queues the excess` +
        `${rate.count_parts ? '' : ' (rate.count_parts is off, so a multi-part message counts once against per_sender_per_second)'}`,
      sender_kind: kind,
      senders: o.senders,
      segments_per_second: round(o.segmentRate),
      documented: o.documented,
    });
  }
  return warnings;
}
