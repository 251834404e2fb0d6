import { resolveDbPath } from '../../config/env.js';
import { planJob } from '../../api/plan.js';
import { loadAccountSpec } from '../../config/load-account-spec.js';
import { describePlan, planJson } from '../../plan/index.js';
import { AppError, isAppError } from '../../shared/errors.js';
import { hintFor } from '../hints.js';
import type { Io } from '../io.js';

export interface PlanOptions {
  jobFile: string;
  /** Ledger whose opt-out table counts as suppressed (default: $BULKTEXT_DB or ./bulktext.db). */
  db?: string | undefined;
  /** The account file (default: $BULKTEXT_ACCOUNT, else jobs/account.yaml if it exists). */
  account?: string | undefined;
  json: boolean;
  /** Example messages to render. @default 0 */
  sample?: number | undefined;
  /** Plan a run with --allow-repeat: campaign memory off (part of the plan hash). @default false */
  allowRepeat?: boolean | undefined;
}

/** `bulktext plan <job-file> [--json] [--sample N] [--db PATH] [--allow-repeat]`: reads everything, sends nothing. */
export async function planCommand(o: PlanOptions, io: Io): Promise<number> {
  const sample = o.sample ?? 0;
  if (!Number.isInteger(sample) || sample < 0) throw new AppError('ERR_USAGE', `--sample must be a whole number of messages, got ${o.sample}`);
  const account = await loadAccountSpec(o.account, io.env, io.cwd);
  const dbPath = resolveDbPath(o.db, io.env, io.cwd);
  const { plan, ledger } = await planJob(o.jobFile, { db: dbPath, account, sample, allowRepeat: o.allowRepeat === true, signal: io.signal, cwd: io.cwd }).catch(
    (err: unknown) => {
      if (io.signal.aborted && isAppError(err, 'ERR_RUN_ABORTED')) throw new AppError('ERR_INTERRUPTED', 'interrupted while reading the source; nothing was sent');
      throw err;
    },
  );
  // A missing ledger has no opt-outs and no earlier runs yet; plan does not create one.
  if (ledger === null && !o.json) io.stderr(`no ledger at ${dbPath}: no opt-outs or earlier runs to count (set --db or BULKTEXT_DB)\n`);
  io.stdout(
    o.json
      ? `${JSON.stringify(planJson(plan))}\n`
      : describePlan(plan, { jobFile: o.jobFile, cwd: io.cwd, hint: hintFor(o.db, io), allowRepeat: o.allowRepeat === true }),
  );
  return 0;
}
