/**
 * What the Prometheus gauges read from the ledger at scrape time that no other store answers: when each
 * job last completed a run. (Runs by state come from the run store, slots from the slot store.)
 */
import type Database from 'better-sqlite3';
import { connectionOf, type Ledger } from './ledger.js';
import { perLedger } from './per-ledger.js';

/**
 * The seam a second backend implements. On PostgreSQL it is a round trip and would return a Promise
 * (prom-client's `collect` may be async); a scrape is never on the send path.
 */
export interface MetricsStore {
  /** Per job, when its latest completed run finished (ms since the epoch). */
  lastCompletedByJob(): { job: string; finishedAt: number }[];
}

export class SqliteMetricsStore implements MetricsStore {
  readonly #lastCompleted: Database.Statement;

  constructor(ledger: Ledger) {
    this.#lastCompleted = connectionOf(ledger).prepare(
      `SELECT job_name AS job, max(finished_at) AS finishedAt FROM runs WHERE state = 'completed' AND finished_at IS NOT NULL GROUP BY job_name`,
    );
  }

  lastCompletedByJob(): { job: string; finishedAt: number }[] {
    return this.#lastCompleted.all() as { job: string; finishedAt: number }[];
  }
}

/** The metrics store of an open ledger: one per ledger, so its statement is prepared once. */
export const metricsStoreOf: (ledger: Ledger) => MetricsStore = perLedger((ledger) => new SqliteMetricsStore(ledger));
