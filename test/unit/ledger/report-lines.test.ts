/**
 * The CSV report's lines come from the ledger as one comma-joined string a row, used as it is when no
 * cell needs quoting or guarding (src/campaign/report-csv.ts); report.ts's `csvLine` (csvField +
 * spreadsheetSafe over a MessageRecord) is the reference. Every cell a spreadsheet or a CSV reader could
 * misread, in every column that can hold text, must come out the same both ways, guarded and raw,
 * filtered and not, across page boundaries.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { csvLine, reportChunks, reportColumns } from '../../../src/campaign/report.js';
import { startRun } from '../../../src/campaign/start-run.js';
import { loadJobSpec } from '../../../src/config/load-job-spec.js';
import { deliveryStoreFor } from '../../../src/ledger/delivery-store.js';
import type { Ledger } from '../../../src/ledger/ledger.js';
import type { RowStatus } from '../../../src/ledger/states.js';
import { validNumbers } from '../../helpers/campaign-files.js';
import { acceptedAttempt, markSending, seedRun, useTempLedger } from '../../helpers/ledger.js';
import { messageStoreOf } from '../../../src/ledger/message-store.js';
import { maintenanceOf } from '../../../src/ledger/maintenance.js';
import { runStoreOf } from '../../../src/ledger/run-store.js';

/** Values that need a guard, quoting, both, or neither — and look-alikes of each. */
const nasty = [
  'plain', '=SUM(A1:A9)', '+cmd|calc', '-2+3', '@import', '\tlead-tab', '\rlead-cr', 'a,b', 'say "hi"', 'two\nlines', 'cr\rinside',
  '=with,comma', '"quoted"', '', ' ', "'already", 'ünïcödé 😀', '+14155550101', '+14155550101,+14155550102', '+0123456',
  '+1234567890123456', '+1', '+12', '+1415555010a', '+14155550101,', '+14155550101,,+14155550102', '+1,+2', '-0.0040',
  // The ledger's string marks the times with U+001F: a cell holding one must not shift them.
  '\u001f', '1\u001f2', '\u001f1796670215000\u001f', 'ok\u001f', '123456789', '中文,逗号', 'zero\u0000byte',
];

/** A sender or destination that is not a plain number exercises the phone columns' E.164 exception. */
const phones = ['+14155550101', '+14155550101,+14155550102,+14155550103', '=HYPERLINK("x")', '+0000000', '-14155550101', '+123456789012345', '+1234567890123456'];

function seedNasty(ledger: Ledger): number {
  const rows = nasty.map((_, i) => ({ to: phones[i % phones.length]!, sender: phones[(i + 3) % phones.length]!, text: 'hello' }));
  const rid = seedRun(ledger, 'run-nasty', rows);
  const store = deliveryStoreFor(ledger);
  // Epoch ms with every kind of millisecond part (0, 1 digit, 3 digits), an old date, one before 1970 and
  // one past the year 9999 (toISOString writes a six-digit year).
  const times = [1_796_670_215_000, 1_796_670_215_007, 1_796_670_215_999, 1_796_670_215_120, 86_400_001, -1_500, 253_402_300_800_123];
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

/** The CSV report as one string, decoded from its UTF-8 chunks. */
function reportText(ledger: Ledger, rid: number, options: Parameters<typeof reportChunks>[3]): string {
  return Buffer.concat([...reportChunks(ledger, rid, 'csv', options)].map((c) => (typeof c === 'string' ? Buffer.from(c) : c))).toString('utf8');
}

/** What the reference writes for the same rows: the header, then csvLine of each MessageRecord. */
function referenceText(ledger: Ledger, rid: number, statuses?: readonly RowStatus[], raw = false): string {
  return `${reportColumns.join(',')}\n${[...messageStoreOf(ledger).messages(rid, statuses)].map((m) => csvLine(m, raw)).join('')}`;
}

describe('the CSV report built by the ledger', () => {
  const t = useTempLedger();

  for (const raw of [false, true]) {
    it(`writes every row as csvLine does (${raw ? 'raw' : 'spreadsheet-safe'})`, () => {
      const rid = seedNasty(t.ledger);
      const expected = `${reportColumns.join(',')}\n${[...messageStoreOf(t.ledger).messages(rid)].map((m) => csvLine(m, raw)).join('')}`;
      const got = reportText(t.ledger, rid, { raw, rowsPerChunk: 4 });
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
    const got = reportText(t.ledger, rid, { statuses });
    expect(got).toBe(`${reportColumns.join(',')}\n${expected}`);
    expect(expected.split('\n').length - 1).toBe(Math.floor(nasty.length / 3));
  });
});

describe('the CSV report of a run as ingest stores it', () => {
  const t = useTempLedger();
  const NAMES = ['Ann', 'Zoë 🎉', 'Ünïcödé 中文', "O'Neil, Jr.", '=cmd', 'Lee', 'Bo', 'Cy', 'Di'];
  const numbers = validNumbers(NAMES.length);

  /** A templated job from one sender (rows store their values and '' for the sender), SMS or MMS. */
  async function job(name: string, mms: boolean) {
    const dir = path.dirname(t.file);
    const csv = path.join(dir, `${name}.csv`);
    const lines = NAMES.map((n, i) => `${numbers[i]},"${n.replaceAll('"', '""')}"`);
    writeFileSync(csv, `phone,name\n${lines.slice(0, 3).join('\n')}\nnot-a-number,X\n=HYPERLINK("x"),Y\n${lines.slice(3).join('\n')}\n`);
    const file = path.join(dir, `${name}.yaml`);
    const message = mms
      ? ['message:', '  text: "Hi {{name}}, your photo"', '  subject: "Hi {{name}}"', '  media_urls: ["https://example.com/a.jpg"]']
      : ['message:', '  text: "Hi {{name}} — 20 % off"'];
    writeFileSync(file, [`name: ${name}`, 'source:', `  path: ${name}.csv`, 'sender:', '  mode: long_code', '  from: ["+18445550001"]', ...message].join('\n'));
    return loadJobSpec(file);
  }

  /** Every kind of outcome: sent and delivered, sent with no receipt, failed, unknown, still pending. */
  function settle(ledger: Ledger, rid: number): void {
    const rows = [...messageStoreOf(ledger).messages(rid, ['pending'])].map((m) => m.row);
    const store = deliveryStoreFor(ledger);
    rows.forEach((row, i) => {
      const at = 1_796_670_215_000 + i * 337;
      if (i % 5 === 4) return;
      markSending(ledger, rid, row, at);
      if (i % 5 === 2) {
        messageStoreOf(ledger).commit(rid, { sending: [], outcomes: [{ row, status: 'failed', errorCode: '40310', errorDetail: 'Invalid "to", not mobile', at }], attempts: [] });
        return;
      }
      if (i % 5 === 3) {
        messageStoreOf(ledger).commit(rid, { sending: [], outcomes: [{ row, status: 'unknown', errorCode: 'ECONNRESET', errorDetail: 'reset', at }], attempts: [] });
        return;
      }
      const messageId = `40318f6c-0000-4b1e-9c2a-${String(row).padStart(12, '0')}`;
      messageStoreOf(ledger).commit(rid, {
        sending: [],
        outcomes: [{ row, status: 'sent', messageId, fromNumber: null, parts: i + 1, cost: '0.0040', currency: 'USD', at }],
        attempts: [acceptedAttempt(row, messageId, at)],
      });
      if (i % 5 === 0) {
        store.updateDelivery(rid, row, {
          deliveryStatus: 'delivered', errorCode: null, errorDetail: null, deliveredAt: at + 2_001, sentEventAt: at, finalizedAt: at + 2_001,
          finalCost: null, finalCurrency: null, source: 'webhook', at,
        });
      }
    });
  }

  const filters: (RowStatus[] | undefined)[] = [undefined, ['sent', 'unknown'], ['pending'], ['skipped', 'failed']];

  for (const mms of [false, true]) {
    it(`writes a templated ${mms ? 'MMS' : 'SMS'} run as csvLine does, before and after prune, across pages`, async () => {
      const { run } = await startRun(t.ledger, await job(mms ? 'mms' : 'sms', mms), { sandbox: false });
      const rid = run.rid;
      settle(t.ledger, rid);
      const check = () => {
        for (const statuses of filters) {
          for (const rowsPerChunk of [1, 3, 4096]) {
            for (const raw of [false, true]) expect(reportText(t.ledger, rid, { statuses, rowsPerChunk, raw })).toBe(referenceText(t.ledger, rid, statuses, raw));
          }
        }
      };
      check();
      const before = reportText(t.ledger, rid, {});
      // Not vacuous: the run's own sender stands in for '', and the invalid rows kept their raw values, guarded.
      expect(before).toContain(',+18445550001,sent,');
      expect(before).toContain(`,"'=HYPERLINK(""x"")",,skipped,`);
      expect(before).toContain(',"Invalid ""to"", not mobile",');

      // prune keeps the rows that became messages (without their details) and deletes the rest: row numbers get gaps.
      runStoreOf(t.ledger).setRunState(rid, 'completed', { finishedAt: 1 });
      expect(maintenanceOf(t.ledger).prune(2, { keepCounts: false, now: 2 }).deletedRows).toBeGreaterThan(0);
      check();
      expect(reportText(t.ledger, rid, {})).not.toContain('skipped');
    });
  }
});

describe('the CSV report across page boundaries', () => {
  const t = useTempLedger();

  /** The `row` cell of each line after the header (the first cell, always a bare number). */
  const rowsOf = (csv: string) => csv.split('\n').slice(1, -1).map((line) => Number(line.slice(0, line.indexOf(','))));

  it('writes each row exactly once and in order, whatever the page size, filtered or not', () => {
    // Row numbers that start past 1, with gaps of every width, and a neighbour run whose rows share the numbers.
    const numbers = [3, 4, 5, 8, 9, 10, 11, 17, 18, 19, 20, 21, 22, 23, 24, 31, 32, 33, 47, 48, 64, 65, 66, 129];
    seedRun(t.ledger, 'run-neighbour', Array.from({ length: 140 }, () => ({ to: '+14155550100', sender: '+18445550001', text: 'x' })));
    const rid = seedRun(t.ledger, 'run-gaps', []);
    // Every third row's `to` needs the guard, so rows written by the reference rules (read again apart) sit at page edges too.
    const to = (row: number) => (row % 3 === 0 ? `=HYPERLINK("${row}")` : `+1415555${String(row).padStart(4, '0')}`);
    t.ledger.insertRows(
      rid,
      numbers.map((row) => ({ row, line: row + 1, to: to(row), sender: '+18445550001', text: 'hi', subject: null, parts: 1, encoding: 'GSM-7', status: 'pending' as const })),
    );
    const failed = numbers.filter((_, i) => i % 4 === 1);
    for (const row of failed) {
      markSending(t.ledger, rid, row, 1);
      messageStoreOf(t.ledger).commit(rid, { sending: [], outcomes: [{ row, status: 'failed', errorCode: '40310', errorDetail: 'bad', at: 1 }], attempts: [] });
    }
    const span = numbers.at(-1)! - numbers[0]!;
    for (const rowsPerChunk of [...Array.from({ length: span + 2 }, (_, i) => i + 1), 4096]) {
      for (const raw of [false, true]) {
        expect(rowsOf(reportText(t.ledger, rid, { rowsPerChunk, raw })), `${rowsPerChunk} row numbers a page`).toEqual(numbers);
        expect(rowsOf(reportText(t.ledger, rid, { rowsPerChunk, raw, statuses: ['failed'] })), `failed, ${rowsPerChunk} a page`).toEqual(failed);
      }
    }
    // Not vacuous: the guarded rows went through the reference rules.
    expect(reportText(t.ledger, rid, {})).toContain(`,"'=HYPERLINK(""3"")",`);
  });
});
