/**
 * The ledger builds the CSV report's lines in SQL; report.ts's `csvLine` (csvField + spreadsheetSafe in
 * JS) is the reference. Every cell a spreadsheet or a CSV reader could misread, in every column that can
 * hold text, must come out the same both ways, guarded and raw, filtered and not.
 */
import { describe, expect, it } from 'vitest';
import { csvLine, reportChunks, reportColumns } from '../../../src/campaign/report.js';
import { deliveryStoreFor } from '../../../src/ledger/delivery-store.js';
import type { RowStatus } from '../../../src/ledger/states.js';
import { acceptedAttempt, markSending, seedRun, useTempLedger } from '../../helpers/ledger.js';
import { messageStoreOf } from '../../../src/ledger/message-store.js';

/** Values that need a guard, quoting, both, or neither — and look-alikes of each. */
const nasty = [
  'plain', '=SUM(A1:A9)', '+cmd|calc', '-2+3', '@import', '\tlead-tab', '\rlead-cr', 'a,b', 'say "hi"', 'two\nlines', 'cr\rinside',
  '=with,comma', '"quoted"', '', ' ', "'already", 'ünïcödé 😀', '+14155550101', '+14155550101,+14155550102', '+0123456',
  '+1234567890123456', '+1', '+12', '+1415555010a', '+14155550101,', '+14155550101,,+14155550102', '+1,+2', '-0.0040',
];

/** A sender or destination that is not a plain number exercises the phone columns' E.164 exception. */
const phones = ['+14155550101', '+14155550101,+14155550102,+14155550103', '=HYPERLINK("x")', '+0000000', '-14155550101', '+123456789012345', '+1234567890123456'];

function seedNasty(ledger: import('../../../src/ledger/ledger.js').Ledger): number {
  const rows = nasty.map((_, i) => ({ to: phones[i % phones.length]!, sender: phones[(i + 3) % phones.length]!, text: 'hello' }));
  const rid = seedRun(ledger, 'run-nasty', rows);
  const store = deliveryStoreFor(ledger);
  // Epoch ms with every kind of millisecond part (0, 1 digit, 3 digits) and an old date.
  const times = [1_796_670_215_000, 1_796_670_215_007, 1_796_670_215_999, 1_796_670_215_120, 86_400_001];
  nasty.forEach((value, i) => {
    const row = i + 1;
    const at = times[i % times.length]!;
    markSending(ledger, rid, row, at);
    if (i % 3 === 2) {
      messageStoreOf(ledger).commit(rid, { sending: [], outcomes: [{ row, status: 'failed', errorCode: value, errorDetail: value, at }], attempts: [] });
      return;
    }
    const messageId = `${value}#${row}`;
    messageStoreOf(ledger).commit(rid, {
      sending: [],
      outcomes: [{ row, status: 'sent', messageId, fromNumber: i % 2 === 0 ? value : null, parts: 1, cost: value, currency: value, at }],
      attempts: [acceptedAttempt(row, messageId, at)],
    });
    if (i % 3 === 0) {
      store.updateDelivery(rid, row, {
        deliveryStatus: value, errorCode: value, errorDetail: value, deliveredAt: at + 1234, sentEventAt: at, finalizedAt: at + 1234,
        finalCost: null, finalCurrency: null, source: 'webhook', at,
      });
    }
  });
  return rid;
}

describe('the CSV report built by the ledger', () => {
  const t = useTempLedger();

  for (const raw of [false, true]) {
    it(`writes every row as csvLine does (${raw ? 'raw' : 'spreadsheet-safe'})`, () => {
      const rid = seedNasty(t.ledger);
      const expected = `${reportColumns.join(',')}\n${[...messageStoreOf(t.ledger).messages(rid)].map((m) => csvLine(m, raw)).join('')}`;
      const got = [...reportChunks(t.ledger, rid, 'csv', { raw, rowsPerChunk: 4 })].join('');
      expect(got.split('\n')).toEqual(expected.split('\n'));
      // Not vacuous: the guard, the quoting and the E.164 exception were each needed somewhere.
      if (!raw) expect(got).toContain(`'=SUM(A1:A9)`);
      expect(got).toContain('"say ""hi"""');
      expect(got).toContain(',"+14155550101,+14155550102,+14155550103",');
      if (!raw) expect(got).toContain(`,'-14155550101,`);
    });
  }

  it('filters by status exactly as the rows it reads', () => {
    const rid = seedNasty(t.ledger);
    const statuses: RowStatus[] = ['failed'];
    const expected = [...messageStoreOf(t.ledger).messages(rid, statuses)].map((m) => csvLine(m)).join('');
    const got = [...reportChunks(t.ledger, rid, 'csv', { statuses })].join('');
    expect(got).toBe(`${reportColumns.join(',')}\n${expected}`);
    expect(expected.split('\n').length - 1).toBe(Math.floor(nasty.length / 3));
  });
});
