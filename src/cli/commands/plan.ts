import { existsSync } from 'node:fs';
import path from 'node:path';
import { alreadySentHook, plannedMemoryScope } from '../../campaign/campaign-memory.js';
import { resolveDbPath } from '../../config/env.js';
import { loadJobSpec } from '../../config/load-job-spec.js';
import { Ledger } from '../../ledger/ledger.js';
import { computePlan, describePlan, planJson, readLedgerSuppressions } from '../../plan/index.js';
import { AppError, isAppError } from '../../shared/errors.js';
import type { Io } from '../io.js';

export interface PlanOptions {
  jobFile: string;
  /** Ledger whose opt-out table counts as suppressed (default: $BULKTEXT_DB or ./bulktext.db). */
  db?: string | undefined;
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
  const spec = await loadJobSpec(path.resolve(io.cwd, o.jobFile));
  const dbPath = resolveDbPath(o.db, io.env, io.cwd);
  // A missing ledger has no opt-outs and no earlier runs yet; plan does not create one.
  const ledger = existsSync(dbPath) ? new Ledger(dbPath) : undefined;
  if (ledger === undefined && !o.json) {
    io.stderr(`no ledger at ${dbPath}: no opt-outs or earlier runs to count (set --db or BULKTEXT_DB)\n`);
  }
  try {
    const suppressed = readLedgerSuppressions(ledger);
    const memory = ledger === undefined || o.allowRepeat === true ? undefined : plannedMemoryScope(ledger, spec, Date.now());
    const plan = await computePlan(spec, {
      suppressedNumbers: suppressed,
      sample,
      signal: io.signal,
      allowRepeat: o.allowRepeat === true,
      ...(memory === undefined || ledger === undefined ? {} : { alreadySent: alreadySentHook(memory, (c, w, n) => ledger.alreadySent(c, w, n)) }),
    }).catch((err: unknown) => {
      if (io.signal.aborted && isAppError(err, 'ERR_RUN_ABORTED')) throw new AppError('ERR_INTERRUPTED', 'interrupted while reading the source; nothing was sent');
      throw err;
    });
    io.stdout(o.json ? `${JSON.stringify(planJson(plan))}\n` : describePlan(plan, { jobFile: o.jobFile, cwd: io.cwd, allowRepeat: o.allowRepeat === true }));
    return 0;
  } finally {
    ledger?.close();
  }
}
