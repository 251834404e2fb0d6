/**
 * What the plan reads from and writes to the ledger: the opt-out table it counts as suppressed, the
 * estimate a run records when it starts (migration 3's columns on `runs`), and the estimate set
 * against what Telnyx actually charged.
 */
import type { Ledger } from '../ledger/ledger.js';
import { runPlanStoreOf } from '../ledger/run-plan-store.js';
import { AppError } from '../shared/errors.js';
import { subtractDecimals, sumCost } from '../shared/money.js';
import type { PlanTally } from './types.js';
import { suppressionStoreOf } from '../ledger/suppression-store.js';

/** The ledger's opt-out numbers (table `suppressions`, E.164); empty without a ledger. */
export function readLedgerSuppressions(ledger: Ledger | undefined): Set<string> {
  return ledger === undefined ? new Set() : new Set(suppressionStoreOf(ledger).suppressedNumbers());
}

/** What a run records of its plan: the plan's segments and cost, and the hash it was checked against. */
export type PlanRecord = Pick<PlanTally, 'segments' | 'cost'> & { plan_hash?: string | null };

/** Records the estimate a run starts from (and the plan hash `run --plan` verified, if any). */
export function recordPlanOnRun(ledger: Ledger, rid: number, plan: PlanRecord): void {
  const recorded = runPlanStoreOf(ledger).recordPlan(rid, {
    parts: plan.segments.total,
    cost: plan.cost.amount,
    currency: plan.cost.currency,
    planHash: plan.plan_hash ?? null,
  });
  if (!recorded) throw new AppError('ERR_RUN_NOT_FOUND', `no run with rid ${rid} in ledger ${ledger.path}`);
}

export interface PlanVsActual {
  /** The recorded estimate; null for a run started without one. */
  planned: { parts: number; cost: { amount: string; currency: string } | null; plan_hash: string | null } | null;
  /** Rows Telnyx accepted so far: their parts and their cost, per currency. */
  actual: {
    sent_rows: number;
    parts: number;
    cost: Array<{ amount: string; currency: string }>;
    /** Accepted rows whose cost Telnyx has not reported yet (it may be null at send time). */
    rows_without_cost: number;
  };
  /** Actual minus planned parts. */
  parts_difference: number | null;
  /** Actual minus planned cost, when both are in one currency. */
  cost_difference: string | null;
}

const DECIMAL = /^\d+(\.\d+)?$/;

/**
 * The run's estimate against its actual parts and cost. The final (billed) cost a delivery receipt
 * brings wins over the send-time figure. Sums are exact decimals: distinct prices are few, so the
 * rows are grouped by price and multiplied out.
 */
export function planVsActual(ledger: Ledger, rid: number): PlanVsActual {
  const store = runPlanStoreOf(ledger);
  const run = store.plannedFor(rid);
  if (run === undefined) throw new AppError('ERR_RUN_NOT_FOUND', `no run with rid ${rid} in ledger ${ledger.path}`);
  let sentRows = 0;
  let parts = 0;
  let withoutCost = 0;
  const byCurrency = new Map<string, Array<{ count: number; price: string }>>();
  for (const g of store.sentByPrice(rid)) {
    sentRows += g.count;
    parts += g.parts;
    if (g.price === null || !DECIMAL.test(g.price)) {
      withoutCost += g.count;
      continue;
    }
    const currency = g.currency ?? '';
    const lines = byCurrency.get(currency) ?? [];
    lines.push({ count: g.count, price: g.price });
    byCurrency.set(currency, lines);
  }
  const cost = [...byCurrency].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([currency, lines]) => ({ amount: sumCost(lines), currency }));
  const planned =
    run.parts === null
      ? null
      : {
          parts: run.parts,
          cost: run.cost === null || run.currency === null ? null : { amount: run.cost, currency: run.currency },
          plan_hash: run.planHash,
        };
  const only = cost.length === 1 ? cost[0]! : undefined;
  return {
    planned,
    actual: { sent_rows: sentRows, parts, cost, rows_without_cost: withoutCost },
    parts_difference: planned === null ? null : parts - planned.parts,
    cost_difference:
      planned?.cost != null && only !== undefined && only.currency === planned.cost.currency ? subtractDecimals(only.amount, planned.cost.amount) : null,
  };
}
