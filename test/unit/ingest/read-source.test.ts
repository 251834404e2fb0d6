import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSource } from '../../../src/ingest/read-source.js';
import type { SourceRecord } from '../../../src/ingest/read-source.js';
import { JsonArraySplitter } from '../../../src/ingest/json-array-splitter.js';
import type { SourceFormat } from '../../../src/config/job-spec.js';
import { tempDir } from '../../helpers/temp.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('bulktext-source-'));
});
afterEach(() => cleanup());

async function readAll(file: string, format: SourceFormat, fields: string[], chunkSize?: number): Promise<SourceRecord[]> {
  const source = await openSource({ path: file, format, fields, ...(chunkSize === undefined ? {} : { chunkSize }) });
  const out: SourceRecord[] = [];
  for await (const batch of source.records) out.push(...batch);
  return out;
}

describe('openSource: chunk boundaries do not change records or lines', () => {
  const csv =
    '\ufeffphone,name,note\r\n' +
    '+14155550123,"Zoë, ""the"" first","line one\r\nline two"\r\n' +
    '\r\n' +
    '+12125550199,José,😀 emoji\r' + // a lone CR ends this record
    '+16465550142,Ann,"a\nb\rc"\n' +
    '+16175550100,Bo\n' +
    '+13125550111,Cy,last';
  const json =
    '\ufeff[\n {"phone":"+14155550123","name":"Zoë \\"q\\" ]}","note":"a,b"},\n' +
    ' {"phone":"+12125550199","name":"😀",\n  "note":{"deep":[1,{"x":"]"}]}},\n' +
    ' 42,\n' +
    ' {"phone":"+16465550142","name":"Ann"}\n]\n';
  const ndjson = '\ufeff{"phone":"+14155550123","name":"Zoë"}\r\n\n{"phone":"+12125550199","name":"😀"}\nnope\n{"phone":"+16465550142"}';

  it.each([
    ['csv', csv],
    ['json', json],
    ['ndjson', ndjson],
  ] as const)('%s', async (format, content) => {
    const file = path.join(dir, `s.${format}`);
    writeFileSync(file, content);
    const whole = await readAll(file, format, ['phone', 'name', 'note']);
    for (const size of [1, 2, 3, 5, 7, 64]) {
      expect(await readAll(file, format, ['phone', 'name', 'note'], size)).toEqual(whole);
    }
    expect(whole.length).toBeGreaterThan(2);
  });

  it('csv records, values and lines', async () => {
    const file = path.join(dir, 's.csv');
    writeFileSync(file, csv);
    const records = await readAll(file, 'csv', ['phone', 'name', 'note', 'absent'], 3);
    expect(records.map((r) => [r.row, r.line])).toEqual([
      [1, 2],
      [2, 5],
      [3, 6],
      [4, 9],
      [5, 10],
    ]);
    expect(records[0]!.values).toEqual(['+14155550123', 'Zoë, "the" first', 'line one\r\nline two', undefined]);
    expect(records[1]!.values).toEqual(['+12125550199', 'José', '😀 emoji', undefined]);
    expect(records[3]!.problem).toBe('expected 3 fields as in the header, found 2');
  });

  it('json records and lines', async () => {
    const file = path.join(dir, 's.json');
    writeFileSync(file, json);
    const records = await readAll(file, 'json', ['phone', 'name', 'note'], 4);
    expect(records.map((r) => [r.row, r.line, r.problem ?? r.values[1]])).toEqual([
      [1, 2, 'Zoë "q" ]}'],
      [2, 3, '😀'],
      [3, 5, 'expected a JSON object, found a number'],
      [4, 6, 'Ann'],
    ]);
    // A nested object is not a usable value; a string is.
    expect(records[1]!.values[2]).toBeUndefined();
    expect(records[0]!.values[2]).toBe('a,b');
  });
});

describe('JsonArraySplitter', () => {
  it('reports empty elements and stray content after the array', () => {
    const s = new JsonArraySplitter('x.json');
    expect(s.push(Buffer.from('[1,,2]')).map((e) => e.text)).toEqual(['1', '', '2']);
    expect(() => s.push(Buffer.from(' x'))).toThrow(/unexpected "x" after the closing "]"/);
  });
});
