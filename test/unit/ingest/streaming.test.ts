import { createWriteStream, statSync } from 'node:fs';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestRecipients } from '../../../src/ingest/index.js';
import { tempDir } from '../../helpers/temp.js';
import { jobFor } from './support.js';

// A full collection before each reading, so the figures are live memory, not garbage.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ROWS = 200_000;
let dir: string;
let cleanup: () => void;
let file: string;

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('bulktext-stream-'));
  file = path.join(dir, 'big.csv');
  const out = createWriteStream(file);
  out.write('phone,first_name,order_id,note\n');
  const note = 'Leave at the side door; ring twice. Fragile: glassware inside, keep upright please.';
  let chunk = '';
  for (let i = 0; i < ROWS; i++) {
    // Distinct valid US numbers in two formats, a few repeats.
    const n = 2_000_000 + ((i * 7919) % 7_000_000);
    const phone = i % 1000 === 999 ? `+1415${2_000_000 + (((i - 1) * 7919) % 7_000_000)}` : i % 2 === 0 ? `+1415${n}` : `(415) ${String(n).slice(0, 3)}-${String(n).slice(3)}`;
    chunk += `${phone},Name${i},ORD-${100_000 + i},"${note}"\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = '';
    }
  }
  out.end(chunk);
  await new Promise<void>((r) => out.once('finish', () => r()));
});
afterAll(() => cleanup());

describe('streaming a 200,000-row file', () => {
  it('keeps memory flat: live memory grows far less than the file', async () => {
    const bytes = statSync(file).size;
    const spec = jobFor(dir, 'big.csv');
    const result = ingestRecipients(spec, { batchSize: 1000 });
    let rows = 0;
    let batches = 0;
    // The baseline is taken once the pipeline is warm (code compiled, buffers allocated), so the
    // growth measured is what the remaining 175,000 rows add.
    let before: NodeJS.MemoryUsage | undefined;
    let peakHeap = 0;
    let peakTotal = 0;
    for await (const batch of result.batches) {
      rows += batch.length;
      if (++batches % 25 !== 0) continue;
      gc();
      const now = process.memoryUsage();
      if (before === undefined) {
        before = now;
        continue;
      }
      peakHeap = Math.max(peakHeap, now.heapUsed - before.heapUsed);
      peakTotal = Math.max(peakTotal, now.heapUsed + now.arrayBuffers - before.heapUsed - before.arrayBuffers);
    }
    const stats = await result.stats;
    expect(rows).toBe(ROWS);
    expect(stats.total).toBe(ROWS);
    expect(stats.skipped.duplicate).toBe(ROWS / 1000);
    expect(stats.bytes).toBe(bytes);
    // The file is ~24 MB; holding its rows would take several times that. Streaming holds one
    // chunk and one batch; what grows is the dedupe index (12 bytes a slot, off the JS heap).
    expect(bytes).toBeGreaterThan(20_000_000);
    expect(peakHeap).toBeLessThan(bytes * 0.05);
    expect(peakTotal).toBeLessThan(bytes * 0.4);
  }, 120_000);
});
