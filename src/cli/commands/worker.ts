/**
 * `bulktext worker --db postgres://…`: one more sender for every run in progress on the PostgreSQL ledger,
 * on this host or any other (see campaign/pg-worker-loop.ts). SIGTERM/SIGINT: requests in flight settle,
 * claims are given back, exit 0.
 */
import { requireApiKey, resolveBaseUrl } from '../../config/env.js';
import { loadAccountSpec } from '../../config/load-account-spec.js';
import { workOnPg } from '../../campaign/pg-worker-loop.js';
import { AppError } from '../../shared/errors.js';
import type { Io } from '../io.js';
import { pgUrlOf } from '../ledger-file.js';
import { withPgLedger } from '../pg-commands.js';

export interface WorkerOptions {
  db?: string | undefined;
  account?: string | undefined;
  /** Join sandbox runs, sending to a simulator of this process's own (no key needed). */
  sandbox: boolean;
  /** Exit once no run of this worker's kind is left running. */
  once: boolean;
  quiet: boolean;
}

export async function workerCommand(o: WorkerOptions, io: Io): Promise<number> {
  const url = pgUrlOf(o.db, io);
  if (url === undefined) {
    throw new AppError('ERR_USAGE', 'bulktext worker needs a PostgreSQL ledger: --db postgres://user@host/database (or BULKTEXT_DB set to one)');
  }
  const account = await loadAccountSpec(o.account, io.env, io.cwd);
  // Check the key before joining: a worker that cannot send must not claim rows.
  const api = o.sandbox ? undefined : { apiKey: requireApiKey(io.env), baseUrl: resolveBaseUrl(io.env) };
  return withPgLedger(url, async (pg) => {
    await workOnPg(pg, {
      api,
      account,
      once: o.once,
      signal: io.signal,
      onJoined: (id) => {
        if (!o.quiet) io.stderr(`worker ${id} on the PostgreSQL ledger ${pg.target}: sending ${o.sandbox ? 'sandbox' : 'real'} runs${o.once ? ' until none is left' : ''}\n`);
      },
      onDrained: (run, s, progress) => {
        if (o.quiet || s.sent + s.failed + s.unknown === 0) return;
        io.stderr(`run ${run.runId} (job ${run.jobName}): this worker sent ${s.sent}, failed ${s.failed}, unknown ${s.unknown}; run ${progress === 'others-working' ? 'still being sent by other workers' : progress}\n`);
      },
    });
    if (!o.quiet) io.stderr(io.signal.aborted ? 'worker stopped: requests in flight settled, claims given back\n' : 'worker done: no run left\n');
    return 0;
  });
}
