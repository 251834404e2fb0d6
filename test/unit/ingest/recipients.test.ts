import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/shared/errors.js';
import { hashSource, ingestRecipients } from '../../../src/ingest/index.js';
import { tempDir } from '../../helpers/temp.js';
import { byReason, ingestAll, ingestError, jobFor } from './support.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('bulktext-ingest-'));
});
afterEach(() => cleanup());

const HEADER = 'phone,first_name,order_id\n';

describe('ingestRecipients: CSV', () => {
  it('normalises, renders and counts every row, with row and line numbers', async () => {
    const csv = HEADER + '+14155550123,Ava,A1\n(212) 555-0199,Ben,A2\n646.555.0142,Cy,A3\n';
    const { rows, stats } = await ingestAll(jobFor(dir, 'r.csv', csv));
    expect(rows.map((r) => [r.row, r.line, r.to, r.text, r.parts, r.encoding])).toEqual([
      [1, 2, '+14155550123', 'Hi Ava, your order A1 ships today.', 1, 'GSM-7'],
      [2, 3, '+12125550199', 'Hi Ben, your order A2 ships today.', 1, 'GSM-7'],
      [3, 4, '+16465550142', 'Hi Cy, your order A3 ships today.', 1, 'GSM-7'],
    ]);
    expect(rows[0]!.recipients).toEqual(['+14155550123']);
    expect(rows[0]!.subject).toBeNull();
    expect(rows.every((r) => r.skip === undefined)).toBe(true);
    expect(stats.total).toBe(3);
    expect(stats.sendable).toBe(3);
    expect(stats.bytes).toBe(Buffer.byteLength(csv));
    expect(stats.sourceSha256).toBe(createHash('sha256').update(csv).digest('hex'));
  });

  it('reports every skip reason with the right row and line', async () => {
    writeFileSync(path.join(dir, 'stop.csv'), 'phone\n+13125550199\n');
    const long = 'x'.repeat(1600);
    const csv =
      HEADER +
      '+14155550123,Ava,A1\n' + // row 1, line 2
      'not a number,Ben,A2\n' + // row 2, line 3: invalid_number
      '(415) 555-0123,Cy,A3\n' + // row 3, line 4: duplicate of row 1
      '+13125550199,Dee,A4\n' + // row 4, line 5: suppressed (file)
      '+13125550111,Eve,A5\n' + // row 5, line 6: suppressed (ledger callback)
      '+12125550199,,A6\n' + // row 6, line 7: missing_field
      `+12125550123,${long},A7\n` + // row 7, line 8: too_long
      '+16175550100,Gus\n' + // row 8, line 9: invalid_row (2 fields)
      '+16175550100,Gus,A9\n'; // row 9, line 10: sendable (the earlier row with this number was not)
    const spec = jobFor(dir, 'r.csv', csv, { suppression: { path: 'stop.csv' } });
    const { rows, stats } = await ingestAll(spec, { suppressed: (n) => n === '+13125550111' });
    expect(rows.map((r) => [r.row, r.line, r.skip?.reason ?? 'ok'])).toEqual([
      [1, 2, 'ok'],
      [2, 3, 'invalid_number'],
      [3, 4, 'duplicate'],
      [4, 5, 'suppressed'],
      [5, 6, 'suppressed'],
      [6, 7, 'missing_field'],
      [7, 8, 'too_long'],
      [8, 9, 'invalid_row'],
      [9, 10, 'ok'],
    ]);
    expect(rows[1]!.to).toBe('not a number');
    expect(rows[1]!.skip!.detail).toContain('not a number');
    expect(rows[2]!.skip!.detail).toBe('same number as row 1');
    expect(rows[3]!.skip!.detail).toContain('stop.csv');
    expect(rows[4]!.skip!.detail).toContain('+13125550111');
    expect(rows[5]!.skip!.detail).toBe('first_name is missing or empty');
    expect(rows[6]!.parts).toBe(11);
    expect(rows[6]!.skip!.detail).toContain('11 parts');
    expect(rows[7]!.skip!.detail).toContain('expected 3 fields');
    expect(stats).toMatchObject({
      total: 9,
      sendable: 2,
      skipped: { invalid_number: 1, duplicate: 1, suppressed: 2, missing_field: 1, too_long: 1, invalid_row: 1 },
    });
  });

  it('counts physical lines through quoted multi-line fields, CRLF and blank lines', async () => {
    const csv =
      'phone,first_name,order_id\r\n' + // line 1
      '+14155550123,"Ava\r\nMarie",A1\r\n' + // lines 2-3
      '\r\n' + // line 4 blank
      '+12125550199,"B\nen","A\n2\n"\r\n' + // lines 5-8
      '+16465550142,Cy,A3\n' + // line 9 (a LF among CRLFs)
      'bad,Dee,A4\r\n' + // line 10
      '+16175550100,"E, ""Q""",A5'; // line 11, no final newline
    const { rows } = await ingestAll(jobFor(dir, 'r.csv', csv));
    expect(rows.map((r) => [r.row, r.line])).toEqual([
      [1, 2],
      [2, 5],
      [3, 9],
      [4, 10],
      [5, 11],
    ]);
    expect(rows[0]!.text).toBe('Hi Ava\r\nMarie, your order A1 ships today.');
    expect(rows[4]!.text).toBe('Hi E, "Q", your order A5 ships today.');
    expect(rows[3]!.skip?.reason).toBe('invalid_number');
  });

  it('tolerates a byte order mark before the header', async () => {
    const csv = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(HEADER + '+14155550123,Ava,A1\n')]);
    const { rows, stats } = await ingestAll(jobFor(dir, 'r.csv', csv));
    expect(rows.map((r) => r.to)).toEqual(['+14155550123']);
    expect(stats.sourceSha256).toBe(createHash('sha256').update(csv).digest('hex'));
  });

  it('uses the configured delimiter and phone field', async () => {
    const csv = 'mobile;first_name;order_id\n+14155550123;Ava;A1\n';
    const { rows } = await ingestAll(jobFor(dir, 'r.csv', csv, { source: { phone_field: 'mobile', delimiter: ';' } }));
    expect(rows.map((r) => r.to)).toEqual(['+14155550123']);
  });

  it('names the UCS-2 trigger and counts UCS-2 parts', async () => {
    const csv = HEADER + '+14155550123,D’Angelo,ORD-1024 and a longer order description\n';
    const { rows } = await ingestAll(jobFor(dir, 'r.csv', csv));
    expect(rows[0]).toMatchObject({ encoding: 'UCS-2', ucs2Trigger: '’', parts: 2 });
  });

  it('skips a row whose text GSM-7 cannot carry when message.encoding is gsm7', async () => {
    const csv = HEADER + '+14155550123,D’Angelo,A1\n+12125550199,Dan,A2\n';
    const { rows } = await ingestAll(jobFor(dir, 'r.csv', csv, { message: { encoding: 'gsm7' } }));
    expect(rows[0]!.skip?.reason).toBe('invalid_row');
    expect(rows[0]!.skip?.detail).toContain('’');
    expect(rows[1]!.skip).toBeUndefined();
  });

  it('counts short-code texts with 7-bit ASCII rules', async () => {
    const csv = HEADER + '+14155550123,Zoé,A1\n';
    const [gsm, sc] = await Promise.all([
      ingestAll(jobFor(dir, 'r.csv', csv)),
      ingestAll(jobFor(dir, 'r.csv', undefined, { sender: { mode: 'short_code', from: ['+18445550001'] } })),
    ]);
    expect(gsm.rows[0]!.encoding).toBe('GSM-7');
    expect(sc.rows[0]).toMatchObject({ encoding: 'UCS-2', ucs2Trigger: 'é' });
  });

  it('MMS rows have one part, no encoding, and may have no text', async () => {
    const csv = HEADER + '+14155550123,Ava,A1\n';
    const media = { media_urls: ['https://example.com/a.png'] };
    const { rows } = await ingestAll(jobFor(dir, 'r.csv', csv, { message: { text: undefined, subject: 'Order {{order_id}}', ...media } }));
    expect(rows[0]).toMatchObject({ text: null, subject: 'Order A1', parts: 1, encoding: null });
    const long = await ingestAll(jobFor(dir, 'r.csv', undefined, { message: { text: 'x'.repeat(2000), ...media } }));
    expect(long.rows[0]).toMatchObject({ parts: 1, encoding: null });
    expect(long.rows[0]!.skip).toBeUndefined();
  });

  it('yields bounded batches', async () => {
    const lines = Array.from({ length: 25 }, (_, i) => `+1415555${String(1000 + i)},N${i},A${i}`);
    const { batches } = await ingestAll(jobFor(dir, 'r.csv', HEADER + lines.join('\n') + '\n'), { batchSize: 10 });
    expect(batches).toEqual([10, 10, 5]);
  });
});

describe('ingestRecipients: the duplicate check in bounded memory', () => {
  it('skips the same rows, naming the same first rows, when its numbers wait in the temporary database', async () => {
    // 3,000 rows: new numbers, repeats of numbers from far back (moved out of the table long before),
    // a repeat whose first row was not sendable (so it is sendable itself), invalid numbers.
    let csv = HEADER;
    let seed = 5;
    for (let i = 1; i <= 3_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const n = i % 7 === 0 ? 1_000 + (seed % Math.max(1, i - 1)) : 1_000 + i;
      const name = i % 11 === 0 ? '' : `P${i}`; // every 11th row lacks its first_name: missing_field
      csv += i % 13 === 0 ? `not a number,${name},A${i}
` : `+1415555${String(n).padStart(4, '0')},${name},A${i}
`;
    }
    const spec = jobFor(dir, 'r.csv', csv);
    const whole = await ingestAll(spec);
    // 64 slots (moved out every 47 numbers) and a one-block filter that says "maybe" to nearly every number:
    // each distinct number it takes for a repeat is one the database must clear.
    const bounded = await ingestAll(spec, { seen: { slots: 64, filterBytes: 64 } });
    const outcome = (rows: typeof whole.rows) => rows.map((r) => [r.row, r.to, r.skip?.reason ?? 'ok', r.skip?.detail ?? '']);
    expect(outcome(bounded.rows)).toEqual(outcome(whole.rows));
    expect(bounded.stats).toEqual(whole.stats);
    expect(whole.stats.skipped.duplicate).toBeGreaterThan(200);
    expect(whole.stats.sendable).toBeGreaterThan(2_000);
    // A repeat of a number whose first row lacked a field is sent: only a sendable row counts as the first.
    const firstMissing = whole.rows.find((r) => r.skip?.reason === 'missing_field' && whole.rows.some((o) => o.row > r.row && o.to === r.to));
    expect(firstMissing).toBeDefined();
    const later = whole.rows.filter((o) => o.row > firstMissing!.row && o.to === firstMissing!.to);
    expect(later.some((o) => o.skip === undefined || !o.skip.detail.includes(`row ${firstMissing!.row}`))).toBe(true);
  });
});

describe('ingestRecipients: group_mms', () => {
  const groupJob = (csv: string) =>
    jobFor(dir, 'g.csv', csv, { sender: { mode: 'group_mms', from: ['+18445550001'] }, message: { text: 'Hi {{first_name}}', media_urls: ['https://example.com/a.png'] } });

  it("splits the phone field on ';', normalises and sorts the members", async () => {
    const { rows } = await ingestAll(groupJob('phone,first_name\n"(212) 555-0199; +14155550123",Team\n'));
    expect(rows[0]).toMatchObject({ to: '+12125550199,+14155550123', recipients: ['+12125550199', '+14155550123'], parts: 1, encoding: null });
  });

  it('allows 8 numbers and reports more than 8 as invalid_row', async () => {
    const nums = (n: number) => Array.from({ length: n }, (_, i) => `+1415555${1000 + i}`).join(';');
    const { rows } = await ingestAll(groupJob(`phone,first_name\n${nums(8)},A\n${nums(9).replace('+14155551000', '+12125550100')},B\n`));
    expect(rows[0]!.recipients).toHaveLength(8);
    expect(rows[0]!.skip).toBeUndefined();
    expect(rows[1]!.skip).toMatchObject({ reason: 'invalid_row', detail: 'group_mms allows at most 8 numbers, found 9' });
  });

  it('names the invalid member, and dedupes groups as sets', async () => {
    const csv = 'phone,first_name\n+14155550123;123,A\n+14155550123;+12125550199,B\n+12125550199;+14155550123,C\n';
    const { rows } = await ingestAll(groupJob(csv));
    expect(rows[0]!.skip).toMatchObject({ reason: 'invalid_number' });
    expect(rows[0]!.skip!.detail).toContain('"123"');
    expect(rows[1]!.skip).toBeUndefined();
    expect(rows[2]!.skip).toEqual({ reason: 'duplicate', detail: 'same recipients as row 2' });
  });

  it('dedupes groups the same when they wait in the temporary database', async () => {
    let csv = 'phone,first_name\n';
    for (let i = 1; i <= 600; i++) {
      const g = i % 4 === 0 ? Math.floor(i / 3) : i; // every 4th row repeats an earlier group, in the other order
      csv += i % 4 === 0 ? `+1212555${String(g).padStart(4, '0')};+1415555${String(g).padStart(4, '0')},P${i}\n` : `+1415555${String(g).padStart(4, '0')};+1212555${String(g).padStart(4, '0')},P${i}\n`;
    }
    const spec = groupJob(csv);
    const whole = await ingestAll(spec);
    const bounded = await ingestAll(spec, { seen: { groups: 16, filterBytes: 64 } });
    const outcome = (rows: typeof whole.rows) => rows.map((r) => [r.row, r.to, r.skip?.reason ?? 'ok', r.skip?.detail ?? '']);
    expect(outcome(bounded.rows)).toEqual(outcome(whole.rows));
    expect(whole.stats.skipped.duplicate).toBeGreaterThan(90);
  });

  it('skips a group with a suppressed member', async () => {
    const { rows } = await ingestAll(groupJob('phone,first_name\n+14155550123;+12125550199,A\n'), { suppressed: (n) => n === '+12125550199' });
    expect(rows[0]!.skip?.reason).toBe('suppressed');
  });
});

describe('ingestRecipients: JSON and NDJSON', () => {
  it('streams a JSON array of objects with the line each object starts on', async () => {
    const json = `[
  {"phone": "+14155550123", "first_name": "Ava", "order_id": 17},
  {"phone": "(212) 555-0199",
   "first_name": "Ben", "order_id": "A2"},
  "just a string",
  {"phone": 16465550142, "first_name": "Cy", "order_id": "A3", "extra": {"nested": [1, "]"]}},
  {"phone": "+16175550100", "first_name": "Dee"}
]
`;
    const { rows, stats } = await ingestAll(jobFor(dir, 'r.json', json));
    expect(rows.map((r) => [r.row, r.line, r.skip?.reason ?? r.to])).toEqual([
      [1, 2, '+14155550123'],
      [2, 3, '+12125550199'],
      [3, 5, 'invalid_row'],
      [4, 6, '+16465550142'],
      [5, 7, 'missing_field'],
    ]);
    expect(rows[0]!.text).toBe('Hi Ava, your order 17 ships today.');
    expect(rows[2]!.skip!.detail).toContain('expected a JSON object, found a string');
    expect(rows[4]!.skip!.detail).toBe('order_id is missing or empty');
    expect(stats.sourceSha256).toBe(await hashSource(path.join(dir, 'r.json')));
  });

  it('reads NDJSON line by line, skipping blank lines and reporting bad lines', async () => {
    const nd = '{"phone":"+14155550123","first_name":"Ava","order_id":"A1"}\n\n{not json}\r\n[1,2]\n{"phone":"+12125550199","first_name":"Ben","order_id":"A2"}';
    const { rows } = await ingestAll(jobFor(dir, 'r.ndjson', nd));
    expect(rows.map((r) => [r.row, r.line, r.skip?.reason ?? r.to])).toEqual([
      [1, 1, '+14155550123'],
      [2, 3, 'invalid_row'],
      [3, 4, 'invalid_row'],
      [4, 5, '+12125550199'],
    ]);
    expect(rows[1]!.skip!.detail).toContain('malformed JSON');
    expect(rows[2]!.skip!.detail).toContain('found an array');
  });

  it('tolerates a BOM in JSON and NDJSON', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const row = '{"phone":"+14155550123","first_name":"Ava","order_id":"A1"}';
    expect((await ingestAll(jobFor(dir, 'b.json', Buffer.concat([bom, Buffer.from(`[${row}]`)])))).rows[0]!.to).toBe('+14155550123');
    expect((await ingestAll(jobFor(dir, 'b.ndjson', Buffer.concat([bom, Buffer.from(row)])))).rows[0]!.to).toBe('+14155550123');
  });

  it('an empty JSON array has no rows', async () => {
    const { rows, stats } = await ingestAll(jobFor(dir, 'e.json', ' [ ] '));
    expect(rows).toEqual([]);
    expect(stats.total).toBe(0);
  });
});

describe('ingestRecipients: structural errors are fatal before any row', () => {
  const expectStructure = async (spec: Parameters<typeof ingestRecipients>[0], code: string, ...parts: string[]) => {
    const err = await ingestError(spec);
    expect(isAppError(err)).toBe(true);
    expect((err as { code: string }).code).toBe(code);
    for (const p of parts) expect((err as Error).message).toContain(p);
  };

  it('a missing source', async () => {
    await expectStructure(jobFor(dir, 'nope.csv'), 'ERR_SOURCE_UNREADABLE', 'nope.csv', 'no such file');
  });

  it('a directory as source', async () => {
    await expectStructure(jobFor(dir, '.', undefined, { source: { format: 'csv' } }), 'ERR_SOURCE_UNREADABLE');
  });

  it('an empty file, and a file of blank lines', async () => {
    await expectStructure(jobFor(dir, 'e.csv', ''), 'ERR_SOURCE_STRUCTURE', 'e.csv is empty', 'header');
    await expectStructure(jobFor(dir, 'b.csv', '\n\r\n\n'), 'ERR_SOURCE_STRUCTURE', 'is empty');
    await expectStructure(jobFor(dir, 'e.ndjson', '\n\n'), 'ERR_SOURCE_STRUCTURE', 'is empty');
    await expectStructure(jobFor(dir, 'e.json', '  '), 'ERR_SOURCE_STRUCTURE', 'is empty');
  });

  it('the phone column missing, naming the columns found', async () => {
    await expectStructure(jobFor(dir, 'p.csv', 'mobile,first_name,order_id\n+14155550123,A,B\n'), 'ERR_SOURCE_STRUCTURE', 'no column "phone"', '"mobile", "first_name", "order_id"');
  });

  it('a template field the header lacks', async () => {
    await expectStructure(
      jobFor(dir, 't.csv', 'phone,first_name\n+14155550123,A\n'),
      'ERR_SOURCE_STRUCTURE',
      'template uses {{order_id}} but',
      'has no column order_id',
    );
  });

  it('JSON that is not an array', async () => {
    await expectStructure(jobFor(dir, 'o.json', '{"phone": "+14155550123"}'), 'ERR_SOURCE_STRUCTURE', 'o.json is not a JSON array');
  });

  it('a truncated JSON array fails at the end', async () => {
    await expectStructure(jobFor(dir, 'tr.json', '[{"phone":"+14155550123","first_name":"A","order_id":"1"},'), 'ERR_SOURCE_STRUCTURE', 'not closed');
  });

  it('an unreadable suppression list', async () => {
    const spec = jobFor(dir, 'r.csv', HEADER + '+14155550123,Ava,A1\n', { suppression: { path: 'missing.csv' } });
    await expectStructure(spec, 'ERR_SUPPRESSION_UNREADABLE', 'missing.csv');
  });

  it('no row is yielded before a structural error', async () => {
    const result = ingestRecipients(jobFor(dir, 't.csv', 'phone,first_name\n+14155550123,A\n'));
    const iterator = result.batches[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toMatchObject({ code: 'ERR_SOURCE_STRUCTURE' });
    await expect(result.stats).rejects.toMatchObject({ code: 'ERR_SOURCE_STRUCTURE' });
  });
});

describe('ingestRecipients: stopping', () => {
  it('honours an abort signal', async () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => `+1415${String(2000000 + i)},N,A`).join('\n');
    const spec = jobFor(dir, 'big.csv', HEADER + lines);
    const controller = new AbortController();
    const result = ingestRecipients(spec, { signal: controller.signal, batchSize: 100 });
    let seen = 0;
    let error: unknown;
    try {
      for await (const batch of result.batches) {
        seen += batch.length;
        controller.abort();
      }
    } catch (err) {
      error = err;
    }
    expect(isAppError(error, 'ERR_RUN_ABORTED')).toBe(true);
    expect(seen).toBeLessThan(30_000);
    await expect(result.stats).rejects.toMatchObject({ code: 'ERR_RUN_ABORTED' });
  });

  it('a consumer that stops early closes the file and rejects stats', async () => {
    const spec = jobFor(dir, 'r.csv', HEADER + '+14155550123,Ava,A1\n+12125550199,Ben,A2\n');
    const result = ingestRecipients(spec, { batchSize: 1 });
    for await (const batch of result.batches) {
      expect(batch).toHaveLength(1);
      break;
    }
    await expect(result.stats).rejects.toMatchObject({ code: 'ERR_RUN_ABORTED' });
  });
});

describe('hashSource', () => {
  it('is the sha256 of the file bytes', async () => {
    const file = path.join(dir, 'h.csv');
    writeFileSync(file, 'phone\n+14155550123\n');
    expect(await hashSource(file)).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    await expect(hashSource(path.join(dir, 'none'))).rejects.toMatchObject({ code: 'ERR_SOURCE_UNREADABLE' });
  });
});
