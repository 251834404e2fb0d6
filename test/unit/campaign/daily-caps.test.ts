/**
 * The spend correction of the daily caps' admission: the estimate counted when a row is admitted is
 * corrected, once its outcome is committed, on the UTC day that counted it — also when the commit comes
 * after midnight (the day that counted the estimate is the day that holds it).
 */
import { describe, expect, it } from 'vitest';
import { withDailyCaps, type DayTaker } from '../../../src/campaign/daily-caps.js';
import { utcDay } from '../../../src/dispatch/shared-limits.js';
import type { Outcome, PendingMessage } from '../../../src/dispatch/ports.js';

const msg = (row: number): PendingMessage => ({ row, tz: null, to: `+1415555${String(row).padStart(4, '0')}`, sender: '+18445550001', text: 'hi', subject: null, parts: 1, attempts: 0 });
const sent = (row: number, cost: string, at: number): Outcome => ({ row, status: 'sent', messageId: `m${row}`, fromNumber: null, parts: 1, cost, currency: 'USD', at });

/** A DayTaker that keeps the day's spend in memory, as the shared limits keep it in the ledger. */
function spendBook() {
  const spent = new Map<string, number>();
  const taker: DayTaker = {
    takeDay: (_sender, _units, at, micros = 0) => {
      spent.set(utcDay(at), (spent.get(utcDay(at)) ?? 0) + micros);
      return { ok: true };
    },
    correctSpend: (at, micros) => {
      spent.set(utcDay(at), (spent.get(utcDay(at)) ?? 0) + micros);
    },
  };
  return { spent, taker };
}

describe('the daily spend correction', () => {
  const beforeMidnight = Date.parse('2026-12-07T23:59:59.900Z');
  const afterMidnight = Date.parse('2026-12-08T00:00:00.200Z');

  it('lands on the day that counted the estimate, even when the outcome is committed after midnight', () => {
    const { spent, taker } = spendBook();
    const admission = withDailyCaps(undefined, taker, () => 1, true, () => 4_000);
    expect(admission.decide(msg(1), beforeMidnight)).toEqual({ action: 'send' });
    expect(admission.decide(msg(2), afterMidnight)).toEqual({ action: 'send' });
    expect(Object.fromEntries(spent)).toEqual({ '2026-12-07': 4_000, '2026-12-08': 4_000 });

    // Telnyx charged 0.0025 and 0.0035; both outcomes reach the ledger in one commit after midnight.
    admission.settled([sent(1, '0.0025', afterMidnight), sent(2, '0.0035', afterMidnight)]);
    expect(Object.fromEntries(spent)).toEqual({ '2026-12-07': 2_500, '2026-12-08': 3_500 });
  });

  it('gives back the whole estimate of a refused row, and keeps the estimate of a row in doubt', () => {
    const { spent, taker } = spendBook();
    const admission = withDailyCaps(undefined, taker, () => 1, true, () => 4_000);
    admission.decide(msg(1), beforeMidnight);
    admission.decide(msg(2), beforeMidnight);
    admission.settled([
      { row: 1, status: 'failed', errorCode: '40310', errorDetail: 'refused', at: afterMidnight },
      { row: 2, status: 'unknown', errorCode: null, errorDetail: 'timeout', at: afterMidnight },
    ]);
    expect(Object.fromEntries(spent)).toEqual({ '2026-12-07': 4_000 });
  });
});
