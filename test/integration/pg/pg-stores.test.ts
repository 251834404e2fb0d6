/**
 * The PostgreSQL stores of the run path on a real cluster: runs' state table, ingest's COPY with the
 * totals the triggers keep, claims that two workers never share, a commit that refuses a row its worker
 * does not hold, a dead worker settled (in flight → unknown, claims back to the pool), campaign memory's
 * per-batch lookup, and suppressions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columnsOf } from '../../../src/ledger/message-columns.js';
import { memoryStoreOf } from '../../../src/ledger/memory-store.js';
import { messageStoreOf } from '../../../src/ledger/message-store.js';
import { PgLedger } from '../../../src/ledger/pg/pg-ledger.js';
import { pgWorkerStoreOf } from '../../../src/ledger/pg/worker-store.js';
import { runStoreOf, type RunRecord } from '../../../src/ledger/run-store.js';
import { suppressionStoreOf } from '../../../src/ledger/suppression-store.js';
import type { NewMessageRow } from '../../../src/ledger/types.js';
import { createDatabase } from '../../helpers/pg-cluster.js';

let pg: PgLedger;
beforeAll(async () => {
  pg = await PgLedger.open(await createDatabase());
}, 60_000);
afterAll(async () => {
  await pg.close();
});

const number = (i: number) => `+1415555${String(i).padStart(4, '0')}`;
const rowOf = (i: number): NewMessageRow => ({ row: i, line: i + 1, to: number(i), sender: '+18445550001', text: `hi ${i}`, subject: null, parts: 1, encoding: 'GSM-7', status: 'pending' });

let serial = 0;
async function runWith(rows: number, state: 'running' | 'ingesting' = 'running'): Promise<RunRecord> {
  serial++;
  const run = await runStoreOf(pg).createRun({
    runId: `20261208-010000-${String(serial).padStart(4, '0')}`,
    jobName: 'job',
    jobFile: 'job.yaml',
    jobSpec: JSON.stringify({ name: 'job', message: { text: 'hi' } }),
    specHash: 'h',
    sourcePath: 'in.csv',
    sourceSha256: 's',
    sandbox: false,
    startedAt: Date.now(),
  });
  await messageStoreOf(pg).insertColumns(run.rid, columnsOf(Array.from({ length: rows }, (_, i) => rowOf(i + 1))));
  if (state === 'running') await runStoreOf(pg).setRunState(run.rid, 'running');
  return run;
}

const probe = { host: 'this-host', alive: () => true };

describe('the PostgreSQL stores of the run path', { timeout: 60_000 }, () => {
  it('runs move only as the state table allows; a conditional move says whether it won', async () => {
    const run = await runWith(0, 'ingesting');
    await expect(runStoreOf(pg).setRunState(run.rid, 'cancelled')).resolves.toBeUndefined();
    await expect(runStoreOf(pg).setRunState(run.rid, 'running')).rejects.toMatchObject({ code: 'ERR_LEDGER_TRANSITION' });
    const other = await runWith(3);
    expect(await runStoreOf(pg).moveRun(other.rid, 'completed', { finishedAt: 1 }, ['running'])).toBe(true);
    expect(await runStoreOf(pg).moveRun(other.rid, 'completed', { finishedAt: 2 }, ['running'])).toBe(false);
    expect((await runStoreOf(pg).getRun(other.runId)).finishedAt).toBe(1);
  });

  it('ingested rows are counted by the triggers; two workers claiming at once never share a row', async () => {
    const run = await runWith(500);
    expect(await messageStoreOf(pg).counts(run.rid)).toMatchObject({ pending: 500, total: 500 });
    const claims = await Promise.all(['w1', 'w2', 'w3'].map((w) => messageStoreOf(pg).claimPending(run.rid, w, 200)));
    const rows = claims.flatMap((c) => c.map((m) => m.row));
    expect(new Set(rows).size).toBe(rows.length);
    expect(rows.length).toBe(500);
    expect(claims[0]![0]).toMatchObject({ to: expect.stringMatching(/^\+1415555/), text: expect.stringMatching(/^hi /), attempts: 0 });
    // Nothing left to claim; a run that is not running gives nothing either.
    expect(await messageStoreOf(pg).claimPending(run.rid, 'w4', 10)).toEqual([]);
  });

  it('a commit marks only rows its worker holds: anything else rolls the whole batch back', async () => {
    const run = await runWith(4);
    const mine = await messageStoreOf(pg).claimPending(run.rid, 'me', 2);
    const theirs = await messageStoreOf(pg).claimPending(run.rid, 'them', 2);
    const at = Date.now();
    await expect(
      messageStoreOf(pg).commit(run.rid, 'me', { sending: [...mine, theirs[0]!].map((m) => ({ row: m.row, at })), outcomes: [], attempts: [] }),
    ).rejects.toMatchObject({ code: 'ERR_LEDGER_TRANSITION' });
    expect(await messageStoreOf(pg).counts(run.rid)).toMatchObject({ pending: 4, sending: 0 });
    await messageStoreOf(pg).commit(run.rid, 'me', { sending: mine.map((m) => ({ row: m.row, at })), outcomes: [], attempts: [] });
    await messageStoreOf(pg).commit(run.rid, 'me', {
      sending: [],
      outcomes: [{ row: mine[0]!.row, status: 'sent', messageId: 'msg-1', fromNumber: null, parts: 1, cost: '0.0040', currency: 'USD', at }],
      attempts: [{ row: mine[0]!.row, attempt: 1, startedAt: at, latencyMs: 5, httpStatus: 200, outcome: 'accepted', telnyxCode: null, detail: null }],
    });
    expect(await messageStoreOf(pg).counts(run.rid)).toMatchObject({ pending: 2, sending: 1, sent: 1, total: 4 });
    expect(await messageStoreOf(pg).sentTotals(run.rid)).toEqual([{ deliveryStatus: '', price: '0.0040', currency: 'USD', n: 1, parts: 1 }]);
  });

  it('a dead worker is settled once: its row in flight becomes unknown and remembered, its other claims go back to the pool', async () => {
    const run = await runWith(3);
    const workers = pgWorkerStoreOf(pg);
    await workers.register({ id: 'dead', host: 'elsewhere', pid: 1 }, 1000, Date.now() - 60_000);
    await workers.register({ id: 'live', host: 'elsewhere', pid: 2 }, 10_000);
    const claimed = await messageStoreOf(pg).claimPending(run.rid, 'dead', 2);
    await messageStoreOf(pg).commit(run.rid, 'dead', { sending: [{ row: claimed[0]!.row, at: Date.now() }], outcomes: [], attempts: [] });
    expect(await workers.alive(probe)).toEqual(['live']);
    expect(await workers.busyOn(run.rid, null, probe)).toBe(false);

    const [first, second] = await Promise.all([workers.reapDead(probe), workers.reapDead(probe)]);
    expect([first.workers + second.workers, first.inDoubt + second.inDoubt, first.released + second.released]).toEqual([1, 1, 1]);
    expect(await messageStoreOf(pg).counts(run.rid)).toMatchObject({ unknown: 1, pending: 2, sending: 0 });
    expect(await workers.claimedRows(run.rid)).toBe(0);
    expect(await workers.alive(probe)).toEqual(['live']);
    // The number in doubt counts as texted for the campaign.
    const sent = await memoryStoreOf(pg).alreadySent(run.cid, { since: 0, fromSlot: null }, [number(claimed[0]!.row), number(claimed[1]!.row)]);
    expect([...sent.keys()]).toEqual([number(claimed[0]!.row)]);
    expect(sent.get(number(claimed[0]!.row))?.runId).toBe(run.runId);
    await workers.leave('live');
  });

  it('a worker on this host whose process is gone is dead at once, whatever its lease', async () => {
    const workers = pgWorkerStoreOf(pg);
    await workers.register({ id: 'gone', host: 'this-host', pid: 4242 }, 60_000);
    expect(await workers.alive({ host: 'this-host', alive: (pid) => pid !== 4242 })).not.toContain('gone');
    expect((await workers.reapDead({ host: 'this-host', alive: (pid) => pid !== 4242 })).workers).toBe(1);
  });

  it('suppressions: added once (the first reason stands), listed, removed by source', async () => {
    const s = suppressionStoreOf(pg);
    expect(await s.addSuppression('+14155550999', 'stop_reply', 'STOP', 1)).toBe(true);
    expect(await s.addSuppression('+14155550999', 'manual', null, 2)).toBe(false);
    expect(await s.suppressions()).toEqual([{ number: '+14155550999', source: 'stop_reply', detail: 'STOP', addedAt: 1 }]);
    expect(await s.isSuppressed('+14155550999')).toBe(true);
    expect(await s.removeSuppression('+14155550999', ['manual'])).toBe(false);
    expect(await s.removeSuppression('+14155550999', ['stop_reply'])).toBe(true);
    expect(await s.suppressedNumbers()).toEqual([]);
  });
});
