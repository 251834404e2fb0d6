/**
 * What the plan reads from and writes to the ledger about a run (migration 3's columns on `runs`): the
 * estimate a run records when it starts, and its accepted rows grouped by price, which plan/ sets
 * against that estimate. Statements prepared once per ledger, like every store here.
 */
import type Database from 'better-sqlite3';
import { connectionOf, type Ledger } from './ledger.js';
import { perLedger } from './per-ledger.js';

/** The estimate a run started from: the plan's parts and cost, and the plan hash `run --plan` verified. */
export interface RunPlanRecord {
  parts: number | null;
  cost: string | null;
  currency: string | null;
  planHash: string | null;
}

/** Rows Telnyx accepted at one price (the billed price when a receipt brought one). */
export interface SentPriceGroup {
  price: string | null;
  currency: string | null;
  count: number;
  parts: number;
}

/**
 * The seam a second backend implements. On PostgreSQL all three are one round trip each and would return
 * Promises; none is on the send path (a run records its plan once, status reads it on demand).
 */
export interface RunPlanStore {
  /** Records the estimate; false when there is no run `rid`. */
  recordPlan(rid: number, plan: RunPlanRecord): boolean;
  /** The recorded estimate (all null for a run started without one); undefined when there is no run `rid`. */
  plannedFor(rid: number): RunPlanRecord | undefined;
  sentByPrice(rid: number): SentPriceGroup[];
}

export class SqliteRunPlanStore implements RunPlanStore {
  readonly #record: Database.Statement;
  readonly #planned: Database.Statement;
  readonly #sentByPrice: Database.Statement;

  constructor(ledger: Ledger) {
    const db = connectionOf(ledger);
    this.#record = db.prepare(`UPDATE runs SET planned_parts = ?, planned_cost = ?, planned_currency = ?, plan_hash = ? WHERE rid = ?`);
    this.#planned = db.prepare(
      `SELECT planned_parts AS parts, planned_cost AS cost, planned_currency AS currency, plan_hash AS planHash FROM runs WHERE rid = ?`,
    );
    // The accepted rows' totals the ledger's triggers keep (migration 10), not a count of the rows; the
    // final (billed) cost a delivery receipt brings wins over the send-time figure there too.
    this.#sentByPrice = db.prepare(
      `SELECT nullif(price, '') AS price, nullif(currency, '') AS currency, sum(n) AS count, sum(parts) AS parts
       FROM run_sent_totals WHERE rid = ? GROUP BY price, currency HAVING sum(n) > 0`,
    );
  }

  recordPlan(rid: number, plan: RunPlanRecord): boolean {
    return this.#record.run(plan.parts, plan.cost, plan.currency, plan.planHash, rid).changes === 1;
  }

  plannedFor(rid: number): RunPlanRecord | undefined {
    return this.#planned.get(rid) as RunPlanRecord | undefined;
  }

  sentByPrice(rid: number): SentPriceGroup[] {
    return this.#sentByPrice.all(rid) as SentPriceGroup[];
  }
}

/** The run-plan store of an open ledger: one per ledger, so its statements are prepared once. */
export const runPlanStoreOf: (ledger: Ledger) => RunPlanStore = perLedger((ledger) => new SqliteRunPlanStore(ledger));
