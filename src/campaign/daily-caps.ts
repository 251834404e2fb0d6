/**
 * Daily caps (a 10DLC brand's, counted per UTC day in the ledger) as part of the dispatcher's admission:
 * a row goes only when its sender's caps have room today; otherwise it is deferred to the next UTC
 * midnight, when the caps reset — never failed.
 *
 * A row counts once per UTC day however often it is admitted (the dispatcher asks again after the
 * gates, and for every retry); a row counted on one day and sent on a later one counts again.
 */
import type { Admission, AdmissionDecision, PendingMessage } from '../dispatch/ports.js';
import type { DayDecision } from '../dispatch/shared-limits.js';
import { utcDay } from '../dispatch/shared-limits.js';

export interface DayTaker {
  takeDay(sender: string, units: number, at: number): DayDecision;
}

export interface DailyAdmission extends Admission {
  /** The row is done (sent, failed, unknown): forget that it was counted. */
  settled(row: number): void;
}

export function withDailyCaps(base: Admission | undefined, caps: DayTaker, units: (msg: PendingMessage) => number, wait: boolean): DailyAdmission {
  const counted = new Map<number, string>();
  return {
    wait: base?.wait ?? wait,
    ...(base?.deadline === undefined ? {} : { deadline: base.deadline }),
    decide(msg: PendingMessage, now: number): AdmissionDecision {
      const first = base?.decide(msg, now) ?? { action: 'send' };
      if (first.action !== 'send') return first;
      const day = utcDay(now);
      if (counted.get(msg.row) === day) return first;
      const taken = caps.takeDay(msg.sender ?? '', units(msg), now);
      if (!taken.ok) return { action: 'defer', until: taken.until, reason: taken.reason };
      counted.set(msg.row, day);
      return first;
    },
    settled(row: number): void {
      counted.delete(row);
    },
  };
}
