/**
 * The wait for a sandbox run's receipts ends once only rows whose receipt cannot come are left: rows an
 * earlier process's sandbox accepted (a resumed run) are not waited for until the stall timeout.
 */
import { describe, expect, it } from 'vitest';
import { awaitingReceipts, awaitReceipts } from '../../../src/campaign/sandbox.js';
import { markSent, seedRun, useTempLedger } from '../../helpers/ledger.js';

const rows = [1, 2, 3].map((i) => ({ to: `+1202555010${i}`, sender: '+12025550199', text: 'hi' }));

describe('awaitReceipts', () => {
  const t = useTempLedger();

  it('returns at once when every awaiting row was accepted before this sandbox sent anything', async () => {
    const rid = seedRun(t.ledger, 'r1', rows);
    for (const row of [1, 2, 3]) markSent(t.ledger, rid, row, `m${row}`);
    const orphaned = awaitingReceipts(t.ledger, rid);
    expect(orphaned).toBe(3);
    const started = Date.now();
    // A stall timeout far beyond the test's own bound: only `orphaned` can end this wait in time.
    const left = await awaitReceipts(t.ledger, rid, { signal: new AbortController().signal, orphaned, stallMs: 600_000, pollMs: 10 });
    expect(left).toBe(3);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('still waits for rows sent since, and gives up on them only at the stall timeout', async () => {
    const rid = seedRun(t.ledger, 'r2', rows);
    markSent(t.ledger, rid, 1, 'm1');
    const orphaned = awaitingReceipts(t.ledger, rid);
    markSent(t.ledger, rid, 2, 'm2');
    const started = Date.now();
    const left = await awaitReceipts(t.ledger, rid, { signal: new AbortController().signal, orphaned, stallMs: 300, pollMs: 10 });
    expect(left).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});
