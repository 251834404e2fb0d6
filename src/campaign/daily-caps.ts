/**
 * Daily caps (a 10DLC brand's, and the account's spend cap; counted per UTC day in the ledger) as part
 * of the dispatcher's admission: a row goes only when its caps have room today; otherwise it is
 * deferred to the next UTC midnight, when the caps reset — never failed.
 *
 * A row counts once per UTC day however often it is admitted (the dispatcher asks again after the
 * gates, and for every retry); a row counted on one day and sent on a later one counts again.
 *
 * Spend is counted from the row's estimated price (the job's pricing) when it is admitted, because
 * Telnyx's answer — after the request — is too late to hold a row back; once a commit holds the rows'
 * outcomes, the day's spend is corrected to the cost Telnyx's answer reported, or to nothing for a row
 * Telnyx refused or that was not sent after all. A row in doubt keeps its estimate.
 */
import type { Admission, AdmissionDecision, Outcome, PendingMessage } from '../dispatch/ports.js';
import type { DayDecision } from '../dispatch/shared-limits.js';
import { utcDay } from '../dispatch/shared-limits.js';
import { toMicros } from '../shared/micros.js';

export interface DayTaker {
  takeDay(sender: string, units: number, at: number, micros?: number): DayDecision;
  correctSpend(at: number, micros: number): void;
}

export interface DailyAdmission extends Admission {
  /** A commit's outcomes: rows that are done forget that they were counted; spend is corrected on the day that counted them (one write a day). */
  settled(outcomes: readonly Outcome[]): void;
}

export function withDailyCaps(
  base: Admission | undefined,
  caps: DayTaker,
  units: (msg: PendingMessage) => number,
  wait: boolean,
  price?: (msg: PendingMessage) => number,
): DailyAdmission {
  // `at`: when the row was counted, so a correction lands on the day that counted it, even after midnight.
  const counted = new Map<number, { day: string; at: number; micros: number }>();
  return {
    wait: base?.wait ?? wait,
    ...(base?.deadline === undefined ? {} : { deadline: base.deadline }),
    decide(msg: PendingMessage, now: number): AdmissionDecision {
      const first = base?.decide(msg, now) ?? { action: 'send' };
      if (first.action !== 'send') return first;
      const day = utcDay(now);
      if (counted.get(msg.row)?.day === day) return first;
      const micros = price?.(msg) ?? 0;
      const taken = caps.takeDay(msg.sender ?? '', units(msg), now, micros);
      if (!taken.ok) return { action: 'defer', until: taken.until, reason: taken.reason };
      counted.set(msg.row, { day, at: now, micros });
      return first;
    },
    settled(outcomes: readonly Outcome[]): void {
      // One correction per UTC day that counted these rows (almost always one).
      const byDay = new Map<string, { at: number; micros: number }>();
      for (const o of outcomes) {
        if (o.status === 'pending') continue;
        const c = counted.get(o.row);
        if (c === undefined) continue;
        counted.delete(o.row);
        let correction = 0;
        if (o.status === 'sent') {
          if (o.cost !== null && (o.currency === null || o.currency === 'USD')) correction = toMicros(o.cost) - c.micros;
        } else if (o.status !== 'unknown') {
          // Refused by Telnyx, or not sent after all (deferred, expired, skipped): nothing was spent.
          correction = -c.micros;
        }
        const day = byDay.get(c.day) ?? { at: c.at, micros: 0 };
        day.micros += correction;
        byDay.set(c.day, day);
      }
      if (price === undefined) return;
      for (const { at, micros } of byDay.values()) if (micros !== 0) caps.correctSpend(at, micros);
    },
  };
}
