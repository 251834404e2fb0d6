import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createLedgerMetrics } from '../../../src/metrics/ledger-metrics.js';
import { createMetricsRegistry } from '../../../src/metrics/registry.js';
import { slotStoreOf, type SlotStore } from '../../../src/ledger/slot-store.js';
import { useTempLedger } from '../../helpers/ledger.js';
import { series } from './support.js';
import { runStoreOf } from '../../../src/ledger/run-store.js';

const t = useTempLedger();

function run(id: string, job: string, startedAt: number) {
  return runStoreOf(t.ledger).createRun({
    runId: id, jobName: job, jobFile: `${job}.yaml`, jobSpec: '{}', specHash: 'h', sourcePath: 's.csv', sourceSha256: id,
    sandbox: true, trigger: 'schedule', slot: new Date(startedAt).toISOString(), startedAt,
  });
}

describe('ledger metrics', () => {
  it('reports runs by state, the last completed run per job and slots by state, read at scrape time', async () => {
    const registry = createMetricsRegistry();
    createLedgerMetrics(registry, t.ledger);
    expect(await series(registry, 'bulktext_runs')).toEqual({ 'state=running': 0, 'state=interrupted': 0, 'state=completed': 0, 'state=aborted': 0, 'state=cancelled': 0 });

    const a1 = run('a1', 'a', 1_000_000);
    runStoreOf(t.ledger).setRunState(a1.rid, 'completed', { finishedAt: 1_060_000 });
    const a2 = run('a2', 'a', 2_000_000);
    runStoreOf(t.ledger).setRunState(a2.rid, 'completed', { finishedAt: 2_030_000 });
    const b1 = run('b1', 'b', 3_000_000);
    runStoreOf(t.ledger).setRunState(b1.rid, 'aborted', { finishedAt: 3_001_000, stopCode: '10009' });
    // Recorded as running by no process: that is an interrupted run.
    const b2 = run('b2', 'b', 4_000_000);
    runStoreOf(t.ledger).setRunState(b2.rid, 'running');
    // Running, owned by this (live) process.
    const c1 = run('c1', 'c', 5_000_000);
    runStoreOf(t.ledger).setRunState(c1.rid, 'running');
    runStoreOf(t.ledger).setOwner(c1.rid, { pid: process.pid, host: hostname() });

    const store = slotStoreOf(t.ledger);
    store.claim('a', '2026-01-01T00:00:00.000Z', 'd', 1, () => undefined);
    store.claim('a', '2026-01-01T00:01:00.000Z', 'd', 2, () => 'busy');
    store.recordChecked('a', 3, [{ slot: '2025-12-31T23:00:00.000Z', reason: 'down' }, { slot: '2025-12-31T23:30:00.000Z', reason: 'down' }], 'd', 3);

    expect(await series(registry, 'bulktext_runs')).toEqual({ 'state=running': 1, 'state=interrupted': 1, 'state=completed': 2, 'state=aborted': 1, 'state=cancelled': 0 });
    expect(await series(registry, 'bulktext_last_successful_run_timestamp_seconds')).toEqual({ 'job=a': 2030 });
    expect(await series(registry, 'bulktext_schedule_slots')).toEqual({ 'job=a,state=started': 1, 'job=a,state=skipped': 1, 'job=a,state=missed': 2 });
  });

  it('reports nothing, rather than failing the scrape, once the ledger is closed', async () => {
    const registry = createMetricsRegistry();
    createLedgerMetrics(registry, t.ledger);
    t.ledger.close();
    expect(await series(registry, 'bulktext_runs')).toEqual({});
    expect(await registry.metrics()).toContain('# TYPE bulktext_runs gauge');
  });
});
