import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestInWorker } from '../../src/campaign/ingest-thread.js';
import { runTextsOf } from '../../src/campaign/ingested-columns.js';
import { renderVars } from '../../src/ledger/message-text.js';
import { loadJobSpec } from '../../src/config/load-job-spec.js';
import type { MessageColumns } from '../../src/ledger/message-columns.js';
import { computePlan } from '../../src/plan/index.js';
import { isAppError } from '../../src/shared/errors.js';
import { writeCampaign } from '../helpers/campaign-files.js';
import { tempDir } from '../helpers/temp.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

/** A campaign of `rows` valid rows with a bad number and a duplicate appended. */
async function campaign(rows: number) {
  const { job, numbers, csv } = writeCampaign(dir, { rows });
  writeFileSync(csv, `phone,first_name\n${numbers.map((n, i) => `${n},P${i + 1}`).join('\n')}\nnot-a-number,X\n${numbers[0]},Again\n`);
  return { spec: await loadJobSpec(job), numbers };
}

describe('ingestInWorker', () => {
  it('hands every row to the caller in source order, with ingest’s counts and the same plan tally as `plan`', { timeout: 30_000 }, async () => {
    const { spec, numbers } = await campaign(2_500);
    const batches: MessageColumns[] = [];
    const { stats, estimate } = await ingestInWorker(spec, { estimate: true, suppressedNumbers: new Set([numbers[5]!]) }, (c) => batches.push(c));
    const rows = batches.flatMap((c) => Array.from(c.row));
    expect(rows).toEqual(Array.from({ length: 2_502 }, (_, i) => i + 1));
    const status = batches.flatMap((c) => c.status);
    const codes = batches.flatMap((c) => c.errorCode);
    expect(status.filter((s) => s === 'pending')).toHaveLength(2_499);
    expect(codes[5]).toBe('suppressed');
    expect(codes.at(-2)).toBe('invalid_number');
    expect(codes.at(-1)).toBe('duplicate');
    // Stored short (ledger/message-text.ts): the template's value, rendered back when read.
    expect(batches[0]!.text[0]).toBeNull();
    expect(renderVars(runTextsOf(spec).literals!, batches[0]!.vars[0]!)).toBe('Hi P1, this is a test.');
    expect(batches[0]!.sender[0]).toMatch(/^\+1844555000[1-4]$/);
    expect(stats).toMatchObject({ total: 2_502, sendable: 2_499 });
    const plan = await computePlan(spec, { suppressedNumbers: new Set([numbers[5]!]) });
    const { source: _source, plan_hash: _hash, hash_components: _parts, ...tally } = plan;
    expect(estimate).toEqual(tally);
  });

  it('stops the worker on abort and rejects with ERR_RUN_ABORTED', { timeout: 30_000 }, async () => {
    const { spec } = await campaign(20_000);
    const controller = new AbortController();
    let calls = 0;
    const outcome = await ingestInWorker(spec, { signal: controller.signal }, () => {
      calls++;
      controller.abort();
    }).catch((err: unknown) => err);
    expect(isAppError(outcome, 'ERR_RUN_ABORTED')).toBe(true);
    expect(calls).toBe(1);
  });

  it('rejects with the error the caller’s write threw, and reads no further', { timeout: 30_000 }, async () => {
    const { spec } = await campaign(5_000);
    let calls = 0;
    const outcome = await ingestInWorker(spec, {}, () => {
      if (++calls === 2) throw new Error('disk full');
    }).catch((err: unknown) => err);
    expect((outcome as Error).message).toBe('disk full');
    expect(calls).toBe(2);
  });

  it('brings a structural error back from the worker with its code and message', { timeout: 30_000 }, async () => {
    const { spec } = await campaign(10);
    writeFileSync(spec.source.path, 'mobile,first_name\n+14155550123,A\n');
    const outcome = await ingestInWorker(spec, {}, () => {}).catch((err: unknown) => err);
    expect(isAppError(outcome, 'ERR_SOURCE_STRUCTURE')).toBe(true);
    expect((outcome as Error).message).toContain(`${path.basename(spec.source.path)} has no column "phone"`);
  });
});
