/** Input hygiene: bad bytes, repeated headers, extensions, UTF-16, non-ASCII digits and junk of any size. */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capStored, MAX_STORED_CHARS } from '../../../src/ingest/recipients.js';
import { computePlan } from '../../../src/plan/index.js';
import { isAppError } from '../../../src/shared/errors.js';
import { tempDir } from '../../helpers/temp.js';
import { byReason, ingestAll, ingestError, jobFor } from './support.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('bulktext-hygiene-'));
});
afterEach(() => cleanup());

const HEADER = 'phone,first_name,order_id\n';

describe('template values that must not reach a phone', () => {
  it('skips NUL, other control characters and invalid UTF-8 as invalid_text, naming the field and line', async () => {
    const csv = Buffer.concat([
      Buffer.from(HEADER),
      Buffer.from('+14155550101,Ava,A1\n'), // line 2: fine
      Buffer.from('+14155550102,Be\u0000n,A2\n'), // line 3: NUL
      Buffer.from('+14155550103,Cy,A\u00073\n'), // line 4: BEL in order_id
      Buffer.from('+14155550104,'),
      Buffer.from([0x44, 0xc3, 0x28, 0x65]), // line 5: "D", an invalid UTF-8 pair, "e"
      Buffer.from(',A4\n'),
      Buffer.from('+14155550105,"Eve\nSmith",A5\n'), // lines 6-7: a line break inside quotes is text, not a control
      Buffer.from('+14155550106,Fa\ty,A6\n'), // line 8: a tab is allowed
    ]);
    const { rows, stats } = await ingestAll(jobFor(dir, 'r.csv', csv));
    expect(byReason(rows)).toEqual({ sendable: [1, 5, 6], invalid_text: [2, 3, 4] });
    expect(rows.filter((r) => r.skip !== undefined).map((r) => r.skip!.detail)).toEqual([
      'line 3: first_name holds the control character U+0000 (NUL)',
      'line 4: order_id holds the control character U+0007',
      'line 5: first_name holds bytes that are not valid UTF-8',
    ]);
    expect(stats.skipped.invalid_text).toBe(3);
  });
});

describe('template values: each character class at its edges', () => {
  it('refuses C0 controls but tab and line breaks, DEL, the C1 block and U+FFFD; takes what lies just outside them', async () => {
    const values = ['Ab\u0008', 'Ab\u000b', 'Ab\u001f', 'Ab\u007f', 'Ab\u0080', 'Ab\u009f', 'Ab\ufffd', 'Ab\u0020', 'Ab\u007e', 'Ab\u00a0', 'Ab\ufffc', 'Ab\ufffe'];
    const csv = HEADER + values.map((v, i) => `+1415555${String(201 + i).padStart(4, '0')},"${v}",A${i}\n`).join('');
    const { rows } = await ingestAll(jobFor(dir, 'r.csv', Buffer.from(csv)));
    expect(byReason(rows)).toEqual({ invalid_text: [1, 2, 3, 4, 5, 6, 7], sendable: [8, 9, 10, 11, 12] });
    expect(rows.slice(0, 7).map((r) => r.skip!.detail.replace(/^line \d+: first_name /, ''))).toEqual([
      'holds the control character U+0008', 'holds the control character U+000B', 'holds the control character U+001F',
      'holds the control character U+007F', 'holds the control character U+0080', 'holds the control character U+009F',
      'holds bytes that are not valid UTF-8',
    ]);
  });
});

describe('the header', () => {
  it('naming a column twice is a structural error naming it', async () => {
    const err = await ingestError(jobFor(dir, 'r.csv', 'phone,first_name,order_id,first_name\n+14155550101,A,1,B\n'));
    expect(isAppError(err, 'ERR_SOURCE_STRUCTURE')).toBe(true);
    expect((err as Error).message).toBe(`${path.join(dir, 'r.csv')}: the header names "first_name" more than once; rename or remove the repeated column`);
  });
});

describe('numbers', () => {
  it('skips a number with an extension as invalid_number, whatever way the extension is written', async () => {
    const csv = HEADER + ['+1 415 555 0101 ext. 23,A,1', '415-555-0102 x45,B,2', 'tel:+1-415-555-0103;ext=9,C,3', '+14155550104#12,D,4', '(415) 555-0105,E,5'].join('\n');
    const { rows } = await ingestAll(jobFor(dir, 'r.csv', csv));
    expect(byReason(rows)).toEqual({ invalid_number: [1, 2, 3, 4], sendable: [5] });
    expect(rows[0]!.skip!.detail).toBe('"+1 415 555 0101 ext. 23" has an extension; a text cannot reach an extension');
  });

  it('normalises non-ASCII digits, and plan says how many numbers were written so', async () => {
    const csv = HEADER + ['+١٤١٥٥٥٥٠١٠١,A,1', '+1４１５５５５０１０２,B,2', '+14155550103,C,3'].join('\n');
    const spec = jobFor(dir, 'r.csv', csv);
    const { rows } = await ingestAll(spec);
    expect(rows.map((r) => [r.to, r.nonAsciiDigits ?? false])).toEqual([
      ['+14155550101', true],
      ['+14155550102', true],
      ['+14155550103', false],
    ]);
    const plan = await computePlan(spec);
    expect(plan.rows.non_ascii_digits).toBe(2);
    expect(plan.warnings.find((w) => w.code === 'non_ascii_digits')?.message).toBe(
      '2 numbers were written with non-ASCII digits (lines 2, 3): normalised to E.164 and sent',
    );
  });
});

describe('UTF-16 sources', () => {
  const text = `${HEADER}+14155550101,Zoë,A1\n+14155550102,Ана,A2\n`;
  const be = (s: string) => {
    const le = Buffer.from(s, 'utf16le');
    for (let i = 0; i < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1]!, le[i]!];
    return le;
  };
  for (const [name, bytes] of [
    ['UTF-16 LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])],
    ['UTF-16 BE with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), be(text)])],
  ] as const) {
    it(`reads ${name} with its column names and values intact`, async () => {
      const { rows } = await ingestAll(jobFor(dir, 'r.csv', bytes));
      expect(rows.map((r) => r.text)).toEqual(['Hi Zoë, your order A1 ships today.', 'Hi Ана, your order A2 ships today.']);
    });
  }
});

describe('junk in skipped rows', () => {
  it('stores at most 256 characters of any value of a skipped row, marked as cut', async () => {
    const huge = '9'.repeat(1_000_000);
    const { rows } = await ingestAll(jobFor(dir, 'r.csv', `${HEADER}${huge},A,1\n+14155550101,${'x'.repeat(500_000)}\u0000,2\n`));
    expect(rows.map((r) => r.skip?.reason)).toEqual(['invalid_number', 'invalid_text']);
    for (const r of rows) {
      expect(r.to.length).toBeLessThan(MAX_STORED_CHARS + 40);
      expect(r.skip!.detail.length).toBeLessThan(MAX_STORED_CHARS + 40);
    }
    expect(rows[0]!.to).toBe(`${'9'.repeat(256)}… [cut: 1000000 characters]`);
    expect(capStored('short')).toBe('short');
    // A surrogate pair is never split.
    expect(capStored(`${'a'.repeat(255)}😀${'b'.repeat(10)}`)).toBe(`${'a'.repeat(255)}… [cut: 267 characters]`);
  });
});
