/** The scheduler's ledger tables over a real SQLite file, with two connections as two daemons would have. */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../../src/ledger/ledger.js';
import { slotStoreOf, type SqliteSlotStore } from '../../../src/ledger/slot-store.js';
import { tempDir } from '../../helpers/temp.js';
import { runStoreOf } from '../../../src/ledger/run-store.js';

let tmp: ReturnType<typeof tempDir>;
let a: Ledger;
let b: Ledger;
let storeA: SqliteSlotStore;
let storeB: SqliteSlotStore;

beforeEach(() => {
  tmp = tempDir();
  const file = path.join(tmp.dir, 'ledger.db');
  a = new Ledger(file);
  b = new Ledger(file);
  storeA = slotStoreOf(a);
  storeB = slotStoreOf(b);
});
afterEach(() => {
  a.close();
  b.close();
  tmp.cleanup();
});

const S = '2026-03-01T21:00:00.000Z';

describe('SlotStore', () => {
  it('lets exactly one of two connections claim a slot', () => {
    expect(storeA.claim('nightly', S, 'A', 1, () => undefined)).toEqual({ kind: 'claimed' });
    const second = storeB.claim('nightly', S, 'B', 2, () => undefined);
    expect(second.kind).toBe('taken');
    expect(second.kind === 'taken' && second.existing).toMatchObject({ jobName: 'nightly', slot: S, state: 'started', daemonId: 'A', finishedAt: null });
    // Another job's slot at the same instant is its own.
    expect(storeB.claim('other', S, 'B', 2, () => undefined)).toEqual({ kind: 'claimed' });
  });

  it('records a busy slot as skipped with the reason, finished at once, and it stays taken', () => {
    expect(storeA.claim('nightly', S, 'A', 5, () => 'the previous run r1 is still going')).toEqual({
      kind: 'skipped',
      reason: 'the previous run r1 is still going',
    });
    expect(storeB.slot('nightly', S)).toMatchObject({ state: 'skipped', reason: 'the previous run r1 is still going', finishedAt: 5, runId: null });
    expect(storeB.claim('nightly', S, 'B', 6, () => undefined).kind).toBe('taken');
  });

  it('asks why the job is busy only for a slot nobody has recorded', () => {
    let asked = 0;
    storeA.claim('nightly', S, 'A', 1, () => {
      asked++;
      return undefined;
    });
    storeB.claim('nightly', S, 'B', 1, () => {
      asked++;
      return 'busy';
    });
    expect(asked).toBe(1);
  });

  it('links the run, lists open claims with their daemon, and finishes them', () => {
    storeA.registerDaemon({ daemonId: 'A', pid: 123, host: 'h' }, 10);
    storeA.claim('nightly', S, 'A', 11, () => undefined);
    storeA.setRun('nightly', S, 'run-1');
    expect(storeB.openClaims('nightly')).toEqual([
      {
        slot: expect.objectContaining({ slot: S, runId: 'run-1', daemonId: 'A' }),
        daemon: { daemonId: 'A', pid: 123, host: 'h', heartbeatAt: 10, stoppedAt: null },
      },
    ]);
    storeA.finish('nightly', S, 20);
    expect(storeB.openClaims('nightly')).toEqual([]);
    expect(storeB.slot('nightly', S)).toMatchObject({ state: 'started', runId: 'run-1', finishedAt: 20 });
  });

  it('turns a claimed slot that never got a run into skipped, but never one whose run exists', () => {
    storeA.claim('nightly', S, 'A', 1, () => undefined);
    storeA.finish('nightly', S, 2, 'the run could not start: no such file');
    expect(storeA.slot('nightly', S)).toMatchObject({ state: 'skipped', reason: 'the run could not start: no such file', runId: null });

    const T = '2026-03-02T21:00:00.000Z';
    storeA.claim('nightly', T, 'A', 3, () => undefined);
    const run = runStoreOf(a).createRun({
      runId: 'r-exists', jobName: 'nightly', jobFile: 'j', jobSpec: '{}', specHash: 'h', sourcePath: 's', sourceSha256: 'x',
      sandbox: true, trigger: 'schedule', slot: T, startedAt: 3,
    });
    storeA.setRun('nightly', T, run.runId);
    storeA.finish('nightly', T, 4, 'should not apply');
    expect(storeA.slot('nightly', T)).toMatchObject({ state: 'started', runId: 'r-exists', reason: null });

    // A run created and then deleted (its ingest failed) leaves the slot free to be marked skipped.
    const U = '2026-03-03T21:00:00.000Z';
    storeA.claim('nightly', U, 'A', 5, () => undefined);
    storeA.setRun('nightly', U, 'r-deleted');
    storeA.finish('nightly', U, 6, 'the run could not start: bad header');
    expect(storeA.slot('nightly', U)).toMatchObject({ state: 'skipped', runId: null });
  });

  it('keeps last-checked per job, never moving it back, and records missed slots with it', () => {
    expect(storeA.lastChecked('nightly')).toBeUndefined();
    expect(storeA.recordChecked('nightly', 1000, [], 'A', 1000)).toBe(0);
    expect(storeB.lastChecked('nightly')).toBe(1000);
    storeB.recordChecked('nightly', 500, [], 'B', 500);
    expect(storeA.lastChecked('nightly')).toBe(1000);

    storeA.claim('nightly', '2026-03-01T20:00:00.000Z', 'A', 1, () => undefined);
    const recorded = storeB.recordChecked(
      'nightly',
      2000,
      [
        { slot: '2026-03-01T19:00:00.000Z', reason: 'down' },
        { slot: '2026-03-01T20:00:00.000Z', reason: 'down' },
      ],
      'B',
      2000,
    );
    // The slot A already holds is left alone.
    expect(recorded).toBe(1);
    expect(storeA.slots('nightly').map((s) => [s.slot, s.state])).toEqual([
      ['2026-03-01T19:00:00.000Z', 'missed'],
      ['2026-03-01T20:00:00.000Z', 'started'],
    ]);
    expect(storeA.lastChecked('nightly')).toBe(2000);
    expect(storeA.slotCounts()).toEqual(expect.arrayContaining([
      { job: 'nightly', state: 'missed', count: 1 },
      { job: 'nightly', state: 'started', count: 1 },
    ]));
  });

  it('tracks daemons: heartbeat and stop', () => {
    storeA.registerDaemon({ daemonId: 'A', pid: 1, host: 'h' }, 100);
    storeA.heartbeat('A', 200);
    expect(storeB.daemon('A')).toEqual({ daemonId: 'A', pid: 1, host: 'h', heartbeatAt: 200, stoppedAt: null });
    storeA.markDaemonStopped('A', 300);
    expect(storeB.daemon('A')).toMatchObject({ stoppedAt: 300 });
  });

  it('finds the newest scheduled run of a job and its unsettled runs', () => {
    const mk = (runId: string, trigger: 'manual' | 'schedule', startedAt: number) =>
      runStoreOf(a).createRun({ runId, jobName: 'nightly', jobFile: 'j', jobSpec: '{}', specHash: 'h', sourcePath: 's', sourceSha256: runId, sandbox: true, trigger, startedAt });
    const r1 = mk('s1', 'schedule', 1);
    mk('s2', 'schedule', 2);
    const m1 = mk('m1', 'manual', 3);
    expect(storeB.latestScheduledRunId('nightly')).toBe('s2');
    expect(storeB.latestScheduledRunId('other')).toBeUndefined();
    runStoreOf(a).setRunState(r1.rid, 'completed', { finishedAt: 5 });
    runStoreOf(a).setRunState(m1.rid, 'running');
    // s2 is still ingesting (createRun's state), m1 running, s1 settled.
    expect(storeB.unsettledRunIds('nightly')).toEqual(['m1', 's2']);
  });

  it('moves a slot only as the slot table allows: started becomes skipped or missed, which stay as they are', () => {
    const T = '2026-03-01T22:00:00.000Z';
    storeA.claim('nightly', S, 'A', 1, () => undefined);
    storeA.finish('nightly', S, 2, 'the daemon stopped first');
    expect(storeA.slot('nightly', S)).toMatchObject({ state: 'skipped', reason: 'the daemon stopped first', finishedAt: 2 });
    expect(storeB.markMissed('nightly', S, 'A', 'B', 3, 'late')).toBe(false);
    expect(storeA.slot('nightly', S)).toMatchObject({ state: 'skipped', reason: 'the daemon stopped first' });

    storeA.recordChecked('nightly', 4, [{ slot: T, reason: 'the scheduler was down' }], 'A', 4);
    storeA.finish('nightly', T, 5, 'could not start');
    expect(storeA.slot('nightly', T)).toMatchObject({ state: 'missed', reason: 'the scheduler was down', finishedAt: 4 });
  });
});
