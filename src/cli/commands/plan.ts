import { existsSync } from 'node:fs';
import path from 'node:path';
import { resolveDbPath } from '../../config/env.js';
import { loadJobSpec } from '../../config/load-job-spec.js';
import { loadAccountSpec } from '../../config/load-account-spec.js';
import { resolveSenders } from '../../config/limit-model.js';
import { Ledger } from '../../ledger/ledger.js';
import { computePlan, describePlan, planJson, readLedgerSuppressions } from '../../plan/index.js';
import { AppError, isAppError } from '../../shared/errors.js';
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
}

/** `bulktext plan <job-file> [--json] [--sample N] [--db PATH]`: reads everything, sends nothing. */
export async function planCommand(o: PlanOptions, io: Io): Promise<number> {
  const sample = o.sample ?? 0;
  if (!Number.isInteger(sample) || sample < 0) throw new AppError('ERR_USAGE', `--sample must be a whole number of messages, got ${o.sample}`);
  const account = await loadAccountSpec(o.account, io.env, io.cwd);
  const spec = resolveSenders(await loadJobSpec(path.resolve(io.cwd, o.jobFile)), account);
  const dbPath = resolveDbPath(o.db, io.env, io.cwd);
  let suppressed = new Set<string>();
  // A missing ledger has no opt-outs yet; plan does not create one.
  if (existsSync(dbPath)) {
    const ledger = new Ledger(dbPath);
    try {
      suppressed = readLedgerSuppressions(ledger);
    } finally {
      ledger.close();
    }
  } else if (!o.json) {
    io.stderr(`no ledger at ${dbPath}: no opt-outs from earlier runs to count (set --db or BULKTEXT_DB)\n`);
  }
  const plan = await computePlan(spec, { suppressedNumbers: suppressed, sample, signal: io.signal, account }).catch((err: unknown) => {
    if (io.signal.aborted && isAppError(err, 'ERR_RUN_ABORTED')) throw new AppError('ERR_INTERRUPTED', 'interrupted while reading the source; nothing was sent');
    throw err;
  });
  io.stdout(o.json ? `${JSON.stringify(planJson(plan))}\n` : describePlan(plan, { jobFile: o.jobFile, cwd: io.cwd }));
  return 0;
}
