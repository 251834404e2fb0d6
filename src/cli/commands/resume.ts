import { prepareResume, settleIfNothingLeft } from '../../campaign/resume-run.js';
import { runStatus } from '../../campaign/status.js';
import { requireApiKey, resolveBaseUrl, resolveDbPath } from '../../config/env.js';
import { Ledger } from '../../ledger/ledger.js';
import { loadAccountSpec } from '../../config/load-account-spec.js';
import type { Io } from '../io.js';
import { describeStatus, exitCodeForStatus, sendRun } from '../send-run.js';

export interface ResumeOptions {
  runId: string;
  db?: string | undefined;
  /** The account file (default: $BULKTEXT_ACCOUNT, else jobs/account.yaml if it exists). */
  account?: string | undefined;
  resendUnknown: boolean;
  json: boolean;
  quiet: boolean;
  /** Wait for deferred rows' send windows (false: --no-wait). */
  wait: boolean;
  /** Serve Prometheus metrics on 127.0.0.1 at this port while the run lasts. */
  metricsPort?: number | undefined;
  /** Run the webhook receiver on this port while the run lasts. */
  webhooksPort?: number | undefined;
}

export async function resumeCommand(o: ResumeOptions, io: Io): Promise<number> {
  const account = await loadAccountSpec(o.account, io.env, io.cwd);
  const ledger = new Ledger(resolveDbPath(o.db, io.env, io.cwd));
  try {
    const existing = ledger.getRun(o.runId);
    // A sandbox run resumes against a fresh simulator: it must never reach the real API.
    const api = existing.sandbox ? undefined : { apiKey: requireApiKey(io.env), baseUrl: resolveBaseUrl(io.env) };
    const { run, spec, inDoubt, reopened } = await prepareResume(ledger, o.runId, { resendUnknown: o.resendUnknown, signal: io.signal });
    if (!o.quiet) {
      if (inDoubt > 0) {
        io.stderr(`${inDoubt} row(s) were in flight when the run stopped; they are now unknown (Telnyx may have sent them) and will not be sent again\n`);
      }
      if (reopened > 0) io.stderr(`--resend-unknown: sending ${reopened} unknown row(s) again; those recipients may get a second message\n`);
    }
    const counts = ledger.counts(run.rid);
    if (settleIfNothingLeft(ledger, run, counts, Date.now())) {
      const status = runStatus(ledger, ledger.getRun(run.runId), counts);
      if (o.json) io.stdout(`${JSON.stringify(status)}\n`);
      if (!o.quiet) io.stderr(`nothing left to send\n${describeStatus(status)}`);
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
      { api, account, json: o.json, quiet: o.quiet, wait: o.wait, metricsPort: o.metricsPort, webhooksPort: o.webhooksPort, counts },
      io,
    );
  } finally {
    ledger.close();
  }
}
