import { prepareResume, settleIfNothingLeft } from '../../campaign/resume-run.js';
import { runStatus } from '../../campaign/status.js';
import { requireApiKey, resolveBaseUrl } from '../../config/env.js';
import { AppError } from '../../shared/errors.js';
import { openExistingLedger, pgUrlOf } from '../ledger-file.js';
import { refuseUnsupportedOnPg, resumeOnPg, withPgLedger } from '../pg-commands.js';
import { loadAccountSpec } from '../../config/load-account-spec.js';
import type { Io } from '../io.js';
import { hintFor } from '../hints.js';
import { resumeNotices } from '../run-lines.js';
import { describeStatus, exitCodeForStatus, sendRun, statusDetail } from '../send-run.js';
import { messageStoreOf } from '../../ledger/message-store.js';
import { runStoreOf } from '../../ledger/run-store.js';

export interface ResumeOptions {
  runId: string;
  db?: string | undefined;
  /** The account file (default: $BULKTEXT_ACCOUNT, else jobs/account.yaml if it exists). */
  account?: string | undefined;
  resendUnknown: boolean;
  /** `--retry-failed [CODES]`: '' for every provable failed row, else comma-separated codes; undefined when not given. */
  retryFailed?: string | undefined;
  json: boolean;
  quiet: boolean;
  /** Wait for deferred rows' send windows (false: --no-wait). */
  wait: boolean;
  /** Serve Prometheus metrics on 127.0.0.1 at this port while the run lasts. */
  metricsPort?: number | undefined;
  /** Serve the read-only dashboard on 127.0.0.1 at this port while the run lasts. */
  dashboardPort?: number | undefined;
  /** Run the webhook receiver on this port while the run lasts. */
  webhooksPort?: number | undefined;
}

/** `--retry-failed` alone means every provable failed row; with a value, the rows failed with those codes. */
export function parseRetryFailed(value: string | undefined): { codes?: readonly string[] } | undefined {
  if (value === undefined) return undefined;
  const codes = value.split(',').map((c) => c.trim()).filter((c) => c !== '');
  if (codes.length === 0) return {};
  const bad = codes.find((c) => !/^[A-Za-z0-9_]{1,40}$/.test(c));
  if (bad !== undefined) throw new AppError('ERR_USAGE', `--retry-failed takes error codes separated by commas (e.g. 40318,10011), not "${bad}"`);
  return { codes };
}

export async function resumeCommand(o: ResumeOptions, io: Io): Promise<number> {
  const account = await loadAccountSpec(o.account, io.env, io.cwd);
  const pgUrl = pgUrlOf(o.db, io);
  if (pgUrl !== undefined) {
    refuseUnsupportedOnPg({ retryFailed: o.retryFailed, metricsPort: o.metricsPort, dashboardPort: o.dashboardPort, webhooksPort: o.webhooksPort });
    // The key is checked only for a real run (a sandbox run resumes against a fresh simulator).
    const settings = { account, json: o.json, quiet: o.quiet, wait: o.wait, hint: hintFor(o.db, io), resendUnknown: o.resendUnknown };
    return withPgLedger(pgUrl, async (pg) => {
      const api = (await runStoreOf(pg).getRun(o.runId)).sandbox ? undefined : { apiKey: requireApiKey(io.env), baseUrl: resolveBaseUrl(io.env) };
      return resumeOnPg(pg, o.runId, { ...settings, api }, io);
    });
  }
  const ledger = openExistingLedger(o.db, io, { readonly: false });
  try {
    const existing = runStoreOf(ledger).getRun(o.runId);
    // A sandbox run resumes against a fresh simulator: it must never reach the real API.
    const api = existing.sandbox ? undefined : { apiKey: requireApiKey(io.env), baseUrl: resolveBaseUrl(io.env) };
    const retryFailed = parseRetryFailed(o.retryFailed);
    const { run, spec, inDoubt, reopened, requeued, textedElsewhere } = await prepareResume(ledger, o.runId, {
      resendUnknown: o.resendUnknown,
      ...(retryFailed === undefined ? {} : { retryFailed }),
      signal: io.signal,
      hint: hintFor(o.db, io),
    });
    if (!o.quiet) {
      io.stderr(
        resumeNotices({
          inDoubt,
          reopened,
          ...(retryFailed === undefined ? {} : { requeued: { count: requeued, codes: retryFailed.codes } }),
          textedElsewhere,
        }),
      );
    }
    const counts = messageStoreOf(ledger).counts(run.rid);
    if (settleIfNothingLeft(ledger, run, counts, Date.now())) {
      const status = runStatus(ledger, runStoreOf(ledger).getRun(run.runId), counts);
      if (o.json) io.stdout(`${JSON.stringify(status)}\n`);
      if (!o.quiet) io.stderr(`nothing left to send\n${describeStatus(status, statusDetail(ledger, run.rid, hintFor(o.db, io)))}`);
      return exitCodeForStatus(status);
    }
    if (!o.quiet) {
      const waiting = counts.deferred > 0 ? `, ${counts.deferred} waiting for their send window` : '';
      io.stderr(`resuming run ${run.runId} (job ${run.jobName}): ${counts.pending} row(s) to send${waiting}\n`);
    }
    return await sendRun(
      ledger,
      run,
      spec,
      { api, account, json: o.json, quiet: o.quiet, wait: o.wait, metricsPort: o.metricsPort, webhooksPort: o.webhooksPort, counts, hint: hintFor(o.db, io) , dashboard: { port: o.dashboardPort, db: o.db } },
      io,
    );
  } finally {
    ledger.close();
  }
}
