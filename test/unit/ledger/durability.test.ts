/** The WAL durability rule (src/ledger/durability.ts) through a real ledger file: FULL by default, deferred fsyncs on request. */
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/shared/errors.js';
import { seedRun, useTempLedger } from '../../helpers/ledger.js';
import { withLedgerSql } from '../../helpers/ledger-sql.js';
import { messageStoreOf } from '../../../src/ledger/message-store.js';

const t = useTempLedger();
const rows = [1, 2, 3].map((i) => ({ to: `+1415555010${i}`, sender: '+18445550001', text: `hi ${i}` }));

function deferredMark(rid: number, row: number): Promise<void> {
  let durable: Promise<void> | undefined;
  messageStoreOf(t.ledger).commit(rid, { sending: [{ row, at: row }], outcomes: [], attempts: [], deferDurability: (p) => (durable = p) });
  if (durable === undefined) throw new Error('the ledger did not defer the fsync');
  return durable;
}

describe('WAL durability', () => {
  it('hands every deferred commit a promise that resolves once an fsync after it is done; the commits are visible at once', async () => {
    const rid = seedRun(t.ledger, 'r1', rows);
    const waits = [deferredMark(rid, 1), deferredMark(rid, 2), deferredMark(rid, 3)];
    // Committed before the fsync: another connection already reads them.
    expect(withLedgerSql(t.file, (sql) => sql.value(`SELECT count(*) FROM messages WHERE status = 'sending'`))).toBe(3);
    await Promise.all(waits);
    expect(t.ledger.synchronous()).toBe('full');
  });

  it('returns to synchronous=FULL after a write without fsync, even one that throws', () => {
    // SQLite applies PRAGMA synchronous when a statement is prepared, and re-prepares it on the next run:
    // the connection's first switch to NORMAL is a no-op (it stays FULL, the safe side). From the second on:
    t.ledger.withoutFsync(() => undefined);
    expect(t.ledger.synchronous()).toBe('full');
    expect(() =>
      t.ledger.withoutFsync(() => {
        expect(t.ledger.synchronous()).toBe('normal');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(t.ledger.synchronous()).toBe('full');
  });

  it('rejects a deferred commit with ERR_LEDGER_IO when the WAL cannot be fsynced', async () => {
    const rid = seedRun(t.ledger, 'r1', rows);
    // The WAL is opened for its fsync on the first deferred commit: gone by then, the fsync cannot happen.
    rmSync(`${t.file}-wal`);
    const error = await deferredMark(rid, 1).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isAppError(error, 'ERR_LEDGER_IO')).toBe(true);
    expect((error as Error).message).toMatch(/^cannot make the ledger .* durable \(fsync of its WAL failed\): ENOENT/);
  });

  it('finishes an fsync already running when the ledger closes', async () => {
    const rid = seedRun(t.ledger, 'r1', rows);
    const wait = deferredMark(rid, 1);
    t.ledger.close();
    await expect(wait).resolves.toBeUndefined();
  });
});
