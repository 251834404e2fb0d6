import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSuppressionList } from '../../../src/ingest/index.js';
import { tempDir } from '../../helpers/temp.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('bulktext-suppression-'));
});
afterEach(() => cleanup());

function write(name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

const load = (file: string, field = 'phone') => loadSuppressionList(file, field, 'US');

describe('loadSuppressionList', () => {
  it('reads a CSV with a header, normalising every format', async () => {
    const file = write('s.csv', '\ufeffname,phone\nA,(415) 555-0123\nB,"+1 212 555 0199"\nC,not a number\nD,\n');
    expect([...(await load(file))].sort()).toEqual(['+12125550199', '+14155550123']);
  });

  it('finds the phone column case-insensitively and honours another field name', async () => {
    expect([...(await load(write('a.csv', 'Phone\n4155550123\n')))]).toEqual(['+14155550123']);
    expect([...(await load(write('b.csv', 'msisdn;name\n+14155550123;A\n'), 'msisdn'))]).toEqual(['+14155550123']);
  });

  it('reads a plain list, one number per line, with comments and blank lines', async () => {
    const file = write('s.txt', '# opt-outs\n+14155550123\r\n\n212.555.0199\n');
    expect([...(await load(file))].sort()).toEqual(['+12125550199', '+14155550123']);
  });

  it('refuses a first line that is neither a header with the field nor a number', async () => {
    const file = write('s.csv', 'number,name\n+14155550123,A\n');
    await expect(load(file)).rejects.toMatchObject({ code: 'ERR_SUPPRESSION_UNREADABLE', message: expect.stringContaining('neither a header naming the column phone') });
  });

  it('reads JSON arrays of numbers or objects', async () => {
    const file = write('s.json', '["+14155550123", {"phone": "(212) 555-0199"}, {"other": 1}, 16465550142]');
    expect([...(await load(file))].sort()).toEqual(['+12125550199', '+14155550123', '+16465550142']);
  });

  it('reads NDJSON of numbers or objects', async () => {
    const file = write('s.ndjson', '"+14155550123"\n\n{"phone":"(212) 555-0199"}\n');
    expect([...(await load(file))].sort()).toEqual(['+12125550199', '+14155550123']);
  });

  it('an empty list is empty', async () => {
    expect((await load(write('e.csv', '\n\n'))).size).toBe(0);
  });

  it('unreadable or malformed files are ERR_SUPPRESSION_UNREADABLE', async () => {
    await expect(load(path.join(dir, 'none.csv'))).rejects.toMatchObject({ code: 'ERR_SUPPRESSION_UNREADABLE' });
    await expect(load(write('o.json', '{"phone":"+14155550123"}'))).rejects.toMatchObject({ code: 'ERR_SUPPRESSION_UNREADABLE' });
    await expect(load(write('b.ndjson', '{oops\n'))).rejects.toMatchObject({ code: 'ERR_SUPPRESSION_UNREADABLE' });
  });
});
