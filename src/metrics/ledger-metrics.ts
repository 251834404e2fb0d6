/**
 * Gauges read from the ledger at scrape time, so they are true across restarts and across every
 * process writing the same ledger: runs by state, each job's last successful run, and the
 * scheduler's slots by state (a `missed` or `skipped` count that grows is worth an alert).
 */
import { Gauge, type Registry } from 'prom-client';
import { publicState, type PublicRunState } from '../campaign/status.js';
import type { Ledger } from '../ledger/ledger.js';
import { metricsStoreOf } from '../ledger/metrics-store.js';
import { slotStoreOf } from '../ledger/slot-store.js';
import { runStoreOf } from '../ledger/run-store.js';

const runStates: readonly PublicRunState[] = ['running', 'interrupted', 'completed', 'aborted', 'cancelled'];

export function createLedgerMetrics(registry: Registry, ledger: Ledger): void {
  const slots = slotStoreOf(ledger);
  const store = metricsStoreOf(ledger);
  // A scrape after the ledger closed (shutdown) reports nothing rather than failing the scrape.
  const open = () => ledger.isOpen;

  new Gauge({
    name: 'bulktext_runs',
    help: 'Runs in the ledger by state (a run whose process died counts as interrupted)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      if (!open()) return;
      const counts = new Map<PublicRunState, number>(runStates.map((s) => [s, 0]));
      for (const run of runStoreOf(ledger).listRuns()) {
        const state = publicState(run);
        counts.set(state, (counts.get(state) ?? 0) + 1);
      }
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'bulktext_last_successful_run_timestamp_seconds',
    help: 'When the last run of each job completed (unix seconds)',
    labelNames: ['job'] as const,
    registers: [registry],
    collect() {
      this.reset();
      if (!open()) return;
      for (const r of store.lastCompletedByJob()) this.set({ job: r.job }, r.finishedAt / 1000);
    },
  });
  new Gauge({
    name: 'bulktext_schedule_slots',
    help: 'Scheduler slots recorded in the ledger by job and state (started, skipped: the previous run was still going or the run could not start, missed: the scheduler was down longer than catch_up)',
    labelNames: ['job', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      if (!open()) return;
      for (const c of slots.slotCounts()) this.set({ job: c.job, state: c.state }, c.count);
    },
  });
}
