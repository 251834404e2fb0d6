import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseJobSpec } from '../../../src/config/job-spec.js';
import { loadJobSpec } from '../../../src/config/load-job-spec.js';
import { hashSource } from '../../../src/ingest/index.js';
import { byReason, ingestAll } from './support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const sample = (name: string) => path.join(root, 'sample-data', name);

describe('jobs/spring-promo.yaml with sample-data/recipients.csv', () => {
  it('validates with parseJobSpec', async () => {
    const spec = await loadJobSpec(path.join(root, 'jobs/spring-promo.yaml'));
    expect(spec).toMatchObject({
      name: 'spring-promo',
      source: { path: sample('recipients.csv'), format: 'csv', phone_field: 'phone', default_country: 'US' },
      sender: { mode: 'long_code', from: ['+18445550001', '+18445550002'] },
      message: { text: 'Hi {{first_name}}, your order {{order_id}} ships today. Reply STOP to opt out.' },
      rate: { messages_per_second: 20, per_sender_per_second: 10, max_concurrent: 8 },
      suppression: { path: sample('opt-outs.csv') },
    });
  });

  it('ingests to the expected sendable and skipped rows', async () => {
    const spec = await loadJobSpec(path.join(root, 'jobs/spring-promo.yaml'));
    const { rows, stats } = await ingestAll(spec);
    expect(stats).toMatchObject({
      total: 40,
      sendable: 33,
      skipped: { invalid_number: 2, duplicate: 2, suppressed: 1, missing_field: 1, too_long: 0, invalid_row: 1 },
    });
    const reasons = byReason(rows);
    expect(reasons.invalid_number).toEqual([18, 19]);
    expect(reasons.duplicate).toEqual([20, 21]);
    expect(reasons.missing_field).toEqual([22]);
    expect(reasons.suppressed).toEqual([23]);
    expect(reasons.invalid_row).toEqual([25]);
    // Row N of a file with a one-line header and no multi-line fields starts on line N + 1.
    expect(rows.every((r) => r.line === r.row + 1)).toBe(true);
    const find = (row: number) => rows.find((r) => r.row === row)!;
    expect(find(20).skip!.detail).toBe('same number as row 1');
    expect(find(21).skip!.detail).toBe('same number as row 4');
    expect(find(22).skip!.detail).toBe('first_name is missing or empty');
    expect(find(24)).toMatchObject({ encoding: 'UCS-2', ucs2Trigger: '’' });
    expect(find(11).to).toBe('+16045550123');
    expect(find(13).to).toBe('+442071838750');
    expect(find(1).text).toBe('Hi Ava, your order ORD-1001 ships today. Reply STOP to opt out.');
    expect(stats.sourceSha256).toBe(await hashSource(sample('recipients.csv')));
  });

  it('the JSON and NDJSON samples read the same columns', async () => {
    const doc = (file: string) => ({
      name: 'sample',
      source: { path: `../sample-data/${file}` },
      sender: { mode: 'long_code', from: ['+18445550001'] },
      message: { text: 'Hi {{first_name}}, your order {{order_id}} ships today.' },
      suppression: { path: '../sample-data/opt-outs.csv' },
    });
    const json = await ingestAll(parseJobSpec(doc('recipients.json'), path.join(root, 'jobs/x.yaml')));
    expect(byReason(json.rows)).toEqual({ sendable: [1, 2, 3, 5], duplicate: [4] });
    const nd = await ingestAll(parseJobSpec(doc('recipients.ndjson'), path.join(root, 'jobs/x.yaml')));
    expect(byReason(nd.rows)).toEqual({ sendable: [1, 2, 3], invalid_number: [4], suppressed: [5], missing_field: [6] });
  });
});
