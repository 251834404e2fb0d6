/**
 * The question `run` asks on a terminal before it sends ("Send 100,000 messages (~400.00 USD, ~35 min)
 * via 10 senders? [y/N]"), from the plan figures the run tallied while reading its source. Only a
 * person at a terminal is asked: a script (stdin not a TTY) never blocks on it, and `--yes` or a
 * reviewed `--plan` skip it.
 */
import type { PlanTally } from '../plan/index.js';
import type { Io } from './io.js';

export interface SendSummary {
  messages: number;
  cost: { amount: string; currency: string } | null;
  seconds: number;
  senders: number;
  /** `--test-to`: the numbers the messages go to instead. */
  testTo?: readonly string[];
  /** `--canary N`: the sendable rows of which `messages` are the first. */
  canaryOf?: number;
}

/** "35 min", "2 h 05 min", "12 s": rounded for a question, not a report. */
function roughDuration(seconds: number): string {
  const s = Math.max(1, Math.round(seconds));
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m} min` : `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export function summaryOf(tally: PlanTally): SendSummary {
  const cost = tally.cost.amount === null || tally.cost.currency === null ? null : { amount: tally.cost.amount, currency: tally.cost.currency };
  return { messages: tally.rows.sendable, cost, seconds: tally.estimated_seconds, senders: tally.duration.per_sender.senders };
}

export function confirmQuestion(s: SendSummary): string {
  const n = s.messages.toLocaleString('en-US');
  const what = s.messages === 1 ? 'message' : 'messages';
  const figures = [...(s.cost === null ? [] : [`~${Number(s.cost.amount).toFixed(2)} ${s.cost.currency}`]), `~${roughDuration(s.seconds)}`].join(', ');
  if (s.testTo !== undefined) return `Send ${n} test ${what} to ${s.testTo.join(', ')} (not to the recipients)? [y/N] `;
  const canary = s.canaryOf === undefined ? '' : ` (a canary: the first of ${s.canaryOf.toLocaleString('en-US')} sendable rows)`;
  return `Send ${n} ${what}${canary} (${figures}) via ${s.senders} sender${s.senders === 1 ? '' : 's'}? [y/N] `;
}

/** Whether this invocation should ask before sending. */
export function shouldAsk(io: Io, o: { yes: boolean; plan?: string | undefined }): boolean {
  return !o.yes && o.plan === undefined && io.stdinIsTTY === true && io.isTTY && io.ask !== undefined;
}

/** Asks, and says yes only to "y" or "yes" (any case). */
export async function confirmSend(io: Io, summary: SendSummary): Promise<boolean> {
  const answer = await io.ask!(confirmQuestion(summary)).catch(() => '');
  return /^\s*y(es)?\s*$/i.test(answer);
}
