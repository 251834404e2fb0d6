/**
 * The library's `plan`: what a run of a job would send and cost, without sending or writing anything.
 * `bulktext plan` prints what this returns.
 */
import { existsSync } from 'node:fs';
import { alreadySentHook, plannedMemoryScope } from '../campaign/campaign-memory.js';
import type { AccountSpec } from '../config/account-spec.js';
import { resolveSenders } from '../config/limit-model.js';
import { loadJobSpec } from '../config/load-job-spec.js';
import { Ledger } from '../ledger/ledger.js';
import { computePlan, readLedgerSuppressions, type Plan } from '../plan/index.js';
import { resolveIn } from './campaign.js';
import { memoryStoreOf } from '../ledger/memory-store.js';

export interface PlanJobOptions {
  /** A ledger whose opt-outs count as suppressed and whose earlier runs are the campaign's memory; a missing file has none (and is not created). */
  db?: string;
  /** Example messages to render as they will be sent. @default 0 */
  sample?: number;
  /** The account file's limits and senders (loadAccountSpec); without one the job's own figures stand for the account. */
  account?: AccountSpec | undefined;
  /** Plan a run with campaign memory off (`run --allow-repeat`); part of the plan hash. @default false */
  allowRepeat?: boolean;
  signal?: AbortSignal;
  /** Base for relative paths. @default process.cwd() */
  cwd?: string;
}

export interface JobPlan {
  plan: Plan;
  /** The ledger file consulted for opt-outs and earlier runs, or null when there was none. */
  ledger: string | null;
}

export async function planJob(jobFile: string, o: PlanJobOptions = {}): Promise<JobPlan> {
  const spec = resolveSenders(await loadJobSpec(resolveIn(o.cwd, jobFile)), o.account);
  const dbPath = o.db === undefined ? undefined : resolveIn(o.cwd, o.db);
  // Read-only: plan writes nothing, and works on a ledger it may not write.
  const ledger = dbPath !== undefined && existsSync(dbPath) ? new Ledger(dbPath, { readonly: true }) : undefined;
  try {
    const allowRepeat = o.allowRepeat === true;
    const memory = ledger === undefined || allowRepeat ? undefined : plannedMemoryScope(ledger, spec, Date.now());
    const plan = await computePlan(spec, {
      suppressedNumbers: readLedgerSuppressions(ledger),
      sample: o.sample ?? 0,
      allowRepeat,
      ...(o.account === undefined ? {} : { account: o.account }),
      ...(memory === undefined || ledger === undefined ? {} : { alreadySent: alreadySentHook(memory, (c, w, n) => memoryStoreOf(ledger).alreadySent(c, w, n)) }),
      ...(o.signal === undefined ? {} : { signal: o.signal }),
    });
    return { plan, ledger: ledger === undefined ? null : dbPath! };
  } finally {
    ledger?.close();
  }
}
