/**
 * The library's `plan`: what a run of a job would send and cost, without sending or writing anything.
 * `bulktext plan` prints what this returns.
 */
import { existsSync } from 'node:fs';
import { loadJobSpec } from '../config/load-job-spec.js';
import { Ledger } from '../ledger/ledger.js';
import { computePlan, readLedgerSuppressions, type Plan } from '../plan/index.js';
import { resolveIn } from './campaign.js';

export interface PlanJobOptions {
  /** A ledger whose opt-outs count as suppressed; a missing file has none (and is not created). */
  db?: string;
  /** Example messages to render as they will be sent. @default 0 */
  sample?: number;
  signal?: AbortSignal;
  /** Base for relative paths. @default process.cwd() */
  cwd?: string;
}

export interface JobPlan {
  plan: Plan;
  /** The ledger file consulted for opt-outs, or null when there was none. */
  ledger: string | null;
}

export async function planJob(jobFile: string, o: PlanJobOptions = {}): Promise<JobPlan> {
  const spec = await loadJobSpec(resolveIn(o.cwd, jobFile));
  const dbPath = o.db === undefined ? undefined : resolveIn(o.cwd, o.db);
  let suppressed = new Set<string>();
  const found = dbPath !== undefined && existsSync(dbPath);
  if (found) {
    // Read-only: plan writes nothing, and works on a ledger it may not write.
    const ledger = new Ledger(dbPath, { readonly: true });
    try {
      suppressed = readLedgerSuppressions(ledger);
    } finally {
      ledger.close();
    }
  }
  const plan = await computePlan(spec, {
    suppressedNumbers: suppressed,
    sample: o.sample ?? 0,
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  });
  return { plan, ledger: found ? dbPath : null };
}
