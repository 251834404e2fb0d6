/**
 * Fuzzing ingest with fast-check: random bytes, encodings (UTF-8, UTF-16 LE/BE with BOM, Latin-1), delimiters,
 * quotes, line breaks and field lengths, into plan's and run's ingest (in-process for speed) and a few
 * spawned `plan` commands. Properties: never a crash (only a structural AppError, exit 2), every row
 * either sendable or skipped with a known reason and a detail, stored values capped, memory bounded.
 * Run counts are fixed and small so the file takes seconds.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJobSpec } from '../../src/config/job-spec.js';
import { ingestRecipients, SKIP_REASONS } from '../../src/ingest/index.js';
import { MAX_STORED_CHARS } from '../../src/ingest/recipients.js';
import { startRun } from '../../src/campaign/start-run.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { computePlan } from '../../src/plan/index.js';
import { isAppError } from '../../src/shared/errors.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';
import { runStoreOf } from '../../src/ledger/run-store.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir('bulktext-fuzz-');
});
afterAll(() => tmp.cleanup());

const cell = fc.oneof(
  fc.constantFrom('+14155550101', '(212) 555-0199', '415 555 0102 ext. 9', '+١٤١٥٥٥٥٠١٠٣', '=HYPERLINK("x")', '', '"', '""', ',', '\r\n', '\u0000'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: 0, max: 3000 }).map((n) => 'x'.repeat(n)),
);
const encoding = fc.constantFrom('utf8', 'utf16le', 'utf16be', 'latin1', 'raw');
const source = fc.record({
  delimiter: fc.constantFrom(',', ';', '\t', '|'),
  header: fc.constantFrom('phone,first_name', 'first_name,phone', 'phone', 'first_name', '', 'phone,first_name,phone'),
  rows: fc.array(fc.array(cell, { maxLength: 4 }), { maxLength: 30 }),
  quote: fc.boolean(),
  eol: fc.constantFrom('\n', '\r\n', '\r'),
  encoding,
  junk: fc.uint8Array({ maxLength: 200 }),
});

type Source = typeof source extends fc.Arbitrary<infer T> ? T : never;

function bytesOf(s: Source): Buffer {
  const q = (v: string) => (s.quote ? `"${v.replaceAll('"', '""')}"` : v);
  const text = [s.header.replaceAll(',', s.delimiter), ...s.rows.map((r) => r.map(q).join(s.delimiter))].join(s.eol);
  switch (s.encoding) {
    case 'utf16le':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    case 'utf16be': {
      const le = Buffer.from(text, 'utf16le');
      for (let i = 0; i + 1 < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1]!, le[i]!];
      return Buffer.concat([Buffer.from([0xfe, 0xff]), le]);
    }
    case 'latin1':
      return Buffer.from(text, 'latin1');
    case 'raw':
      return Buffer.concat([Buffer.from(text), Buffer.from(s.junk)]);
    default:
      return Buffer.from(text);
  }
}

let n = 0;
function jobFor(file: string, format: 'csv' | 'json' | 'ndjson', delimiter: string) {
  return parseJobSpec(
    {
      name: 'fuzz',
      source: { path: file, format, ...(format === 'csv' ? { delimiter } : {}) },
      sender: { mode: 'long_code', from: ['+18445550001'] },
      message: { text: 'Hi {{first_name}}' },
    },
    path.join(tmp.dir, 'job.yaml'),
  );
}

/** Ingests the bytes; checks every row's outcome. Returns the number of rows, or 'structural'. */
async function check(bytes: Buffer, format: 'csv' | 'json' | 'ndjson', delimiter: string): Promise<number | 'structural'> {
  const file = path.join(tmp.dir, `in-${n++}.${format}`);
  writeFileSync(file, bytes);
  const result = ingestRecipients(jobFor(file, format, delimiter), { batchSize: 7 });
  let rows = 0;
  try {
    for await (const batch of result.batches) {
      for (const row of batch) {
        rows++;
        if (row.skip === undefined) {
          expect(row.to).toMatch(/^\+[1-9]\d{1,14}$/);
          expect(row.text).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffd]/);
        } else {
          expect(SKIP_REASONS).toContain(row.skip.reason);
          expect(row.skip.detail.length).toBeGreaterThan(0);
          expect(row.skip.detail.length).toBeLessThanOrEqual(MAX_STORED_CHARS + 40);
          expect(row.to.length).toBeLessThanOrEqual(MAX_STORED_CHARS + 40);
        }
      }
    }
  } catch (err) {
    // The only acceptable failure: the file's structure (no header, a repeated column, not JSON…), exit 2.
    if (isAppError(err, 'ERR_SOURCE_STRUCTURE')) return 'structural';
    throw err;
  }
  const stats = await result.stats;
  expect(stats.total).toBe(rows);
  expect(stats.sendable + Object.values(stats.skipped).reduce((a, b) => a + b, 0)).toBe(rows);
  return rows;
}

describe('ingest under random input', () => {
  it('CSV of any bytes, encoding, delimiter and quoting: every row pending or skipped with a reason, or a structural error', async () => {
    const before = process.memoryUsage().rss;
    await fc.assert(
      fc.asyncProperty(source, async (s) => {
        await check(bytesOf(s), 'csv', s.delimiter);
      }),
      { numRuns: 150, seed: 1307 },
    );
    // Bounded memory: a few hundred small files must not grow the process by hundreds of MB.
    expect(process.memoryUsage().rss - before).toBeLessThan(300 * 1024 * 1024);
  });

  it('JSON and NDJSON of any structure', async () => {
    const value = fc.jsonValue({ maxDepth: 3 });
    const objects = fc.array(fc.oneof(fc.record({ phone: cell, first_name: cell }), value), { maxLength: 20 });
    await fc.assert(
      fc.asyncProperty(objects, fc.boolean(), fc.uint8Array({ maxLength: 50 }), async (list, ndjson, junk) => {
        const text = ndjson ? list.map((o) => JSON.stringify(o)).join('\n') : JSON.stringify(list);
        await check(Buffer.concat([Buffer.from(text), Buffer.from(junk)]), ndjson ? 'ndjson' : 'json', ',');
      }),
      { numRuns: 100, seed: 1308 },
    );
  });

  it('plan over random CSV counts every row once, in-process', async () => {
    await fc.assert(
      fc.asyncProperty(source, async (s) => {
        const file = path.join(tmp.dir, `plan-${n++}.csv`);
        writeFileSync(file, bytesOf(s));
        try {
          const plan = await computePlan(jobFor(file, 'csv', s.delimiter));
          const r = plan.rows;
          expect(r.sendable + r.invalid + r.duplicate + r.suppressed + r.missing_field + r.too_long + r.invalid_row + r.invalid_text).toBe(r.total);
        } catch (err) {
          if (!isAppError(err, 'ERR_SOURCE_STRUCTURE')) throw err;
        }
      }),
      { numRuns: 60, seed: 1309 },
    );
  });

  it('run’s ingest into a real ledger: every row stored pending or skipped with its reason', async () => {
    await fc.assert(
      fc.asyncProperty(source, async (s) => {
        const file = path.join(tmp.dir, `run-${n++}.csv`);
        writeFileSync(file, bytesOf(s));
        const ledger = new Ledger(path.join(tmp.dir, `run-${n}.db`));
        try {
          const { run, ingest } = await startRun(ledger, jobFor(file, 'csv', s.delimiter), { sandbox: true });
          const rows = [...messageStoreOf(ledger).messages(run.rid)];
          expect(rows).toHaveLength(ingest.total);
          for (const m of rows) {
            if (m.status === 'skipped') expect(SKIP_REASONS).toContain(m.errorCode);
            else expect(m.status).toBe('pending');
          }
        } catch (err) {
          if (!isAppError(err, 'ERR_SOURCE_STRUCTURE')) throw err;
          expect(runStoreOf(ledger).listRuns()).toEqual([]);
        } finally {
          ledger.close();
        }
      }),
      // Each case starts an ingest thread and fsyncs a new ledger: few cases, a longer bound.
      { numRuns: 6, seed: 1311 },
    );
  }, 90_000);

  it('the spawned `plan` exits 0 or 2 on random sources, never with a stack trace', async () => {
    const samples = fc.sample(source, { numRuns: 4, seed: 1310 });
    for (const s of samples) {
      const file = path.join(tmp.dir, `spawned-${n++}.csv`);
      writeFileSync(file, bytesOf(s));
      const job = path.join(tmp.dir, `job-${n}.json`);
      writeFileSync(
        job,
        JSON.stringify({
          name: 'fuzz',
          source: { path: file, delimiter: s.delimiter },
          sender: { mode: 'long_code', from: ['+18445550001'] },
          message: { text: 'Hi {{first_name}}' },
        }),
      );
      const r = await runCli(['plan', job, '--db', path.join(tmp.dir, 'none.db'), '--json']);
      expect(r.stderr).not.toContain('internal error');
      expect([0, 2]).toContain(r.code);
    }
  }, 90_000);
});
