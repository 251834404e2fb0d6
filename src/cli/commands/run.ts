import path from 'node:path';
import { startRun } from '../../campaign/start-run.js';
import { requireApiKey, resolveBaseUrl, resolveDbPath } from '../../config/env.js';
import { loadJobSpec } from '../../config/load-job-spec.js';
import { loadAccountSpec } from '../../config/load-account-spec.js';
import { resolveSenders } from '../../config/limit-model.js';
import { describeSkipped } from '../../ingest/index.js';
import { Ledger } from '../../ledger/ledger.js';
import { parsePlanHash, recordPlanOnRun, verifyPlanHash } from '../../plan/index.js';
import { AppError } from '../../shared/errors.js';
import type { Io } from '../io.js';
import { sendRun } from '../send-run.js';

export interface RunOptions {
  jobFile: string;
  db?: string | undefined;
  /** The account file (default: $BULKTEXT_ACCOUNT, else jobs/account.yaml if it exists). */
  account?: string | undefined;
  sandbox: boolean;
  json: boolean;
  force: boolean;
  quiet: boolean;
  /** Wait for deferred rows' send windows (false: --no-wait). */
  wait: boolean;
  /** Serve Prometheus metrics on 127.0.0.1 at this port while the run lasts. */
  metricsPort?: number | undefined;
  /** Run the webhook receiver on this port while the run lasts. */
  webhooksPort?: number | undefined;
  /** A plan hash from `bulktext plan`: refuse unless the job, source and suppressions are unchanged. */
  plan?: string | undefined;
}

export async function runCommand(o: RunOptions, io: Io): Promise<number> {
  const account = await loadAccountSpec(o.account, io.env, io.cwd);
  const spec = resolveSenders(await loadJobSpec(path.resolve(io.cwd, o.jobFile)), account);
  // Check the key before touching the ledger: a run that cannot send should leave nothing behind.
  const api = o.sandbox ? undefined : { apiKey: requireApiKey(io.env), baseUrl: resolveBaseUrl(io.env) };
  const ledger = new Ledger(resolveDbPath(o.db, io.env, io.cwd));
  try {
    if (o.plan !== undefined) await verifyPlanHash(spec, o.plan, { ledger });
    const { run, ingest, estimate } = await startRun(ledger, spec, {
      sandbox: o.sandbox,
      force: o.force,
      signal: io.signal,
      estimate: true,
      onCreated: (r) => io.stderr(`run ${r.runId} (job ${spec.name})${o.sandbox ? ' [sandbox: nothing leaves this machine]' : ''}\n`),
    }).catch((err: unknown) => {
      if (io.signal.aborted) throw new AppError('ERR_INTERRUPTED', 'interrupted while reading the source; nothing was sent');
      throw err;
    });
    const planned = o.plan === undefined ? undefined : parsePlanHash(o.plan);
    if (planned !== undefined && !run.sourceSha256.startsWith(planned.source)) {
      // The file changed between the check and the read: what would go out is not what was reviewed.
      ledger.deleteRun(run.rid);
      throw new AppError('ERR_PLAN_MISMATCH', `the source ${spec.source.path} changed after the plan check; nothing was sent — plan again`);
    }
    recordPlanOnRun(ledger, run.rid, { ...estimate!, plan_hash: o.plan ?? null });
    if (!o.quiet) {
      const skipped = describeSkipped(ingest.skipped);
      io.stderr(`read ${ingest.total} rows: ${ingest.sendable} to send${skipped === '' ? '' : `, skipped ${skipped}`}\n`);
    }
    return await sendRun(ledger, run, spec, { api, account, json: o.json, quiet: o.quiet, wait: o.wait, metricsPort: o.metricsPort, webhooksPort: o.webhooksPort }, io);
  } finally {
    ledger.close();
  }
}
