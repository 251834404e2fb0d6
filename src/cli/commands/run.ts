import path from 'node:path';
import { startPlannedRun } from '../../api/campaign.js';
import { runLabel } from '../../campaign/start-run.js';
import { requireApiKey, resolveBaseUrl } from '../../config/env.js';
import { loadJobSpec } from '../../config/load-job-spec.js';
import type { JobSpec } from '../../config/job-spec.js';
import { createPhoneNormalizer, describeIngest } from '../../ingest/index.js';
import type { PlanTally } from '../../plan/index.js';
import { loadAccountSpec } from '../../config/load-account-spec.js';
import { checkSpendCap, resolveSenders } from '../../config/limit-model.js';
import { AppError } from '../../shared/errors.js';
import { confirmSend, shouldAsk, summaryOf, type SendSummary } from '../confirm.js';
import { hintFor } from '../hints.js';
import type { Io } from '../io.js';
import { openLedger, pgUrlOf } from '../ledger-file.js';
import { refuseUnsupportedOnPg, runOnPg, withPgLedger } from '../pg-commands.js';
import { sendRun } from '../send-run.js';
import { runStoreOf } from '../../ledger/run-store.js';

export interface RunOptions {
  jobFile: string;
  db?: string | undefined;
  /** The account file (default: $BULKTEXT_ACCOUNT, else jobs/account.yaml if it exists). */
  account?: string | undefined;
  sandbox: boolean;
  json: boolean;
  force: boolean;
  /** Text numbers an earlier run of the campaign already texted (campaign memory off). */
  allowRepeat?: boolean | undefined;
  quiet: boolean;
  /** Wait for deferred rows' send windows (false: --no-wait). */
  wait: boolean;
  /** Serve Prometheus metrics on 127.0.0.1 at this port while the run lasts. */
  metricsPort?: number | undefined;
  /** Serve the read-only dashboard on 127.0.0.1 at this port while the run lasts. */
  dashboardPort?: number | undefined;
  /** Run the webhook receiver on this port while the run lasts. */
  webhooksPort?: number | undefined;
  /** A plan hash from `bulktext plan`: refuse unless the job, source and suppressions are unchanged. */
  plan?: string | undefined;
  /** Send only the first N sendable rows, then stop (resumable). */
  canary?: number | undefined;
  /** Send the first rows' messages to these numbers instead (a test run). */
  testTo?: readonly string[] | undefined;
  /** Do not ask for confirmation on a terminal. @default false */
  yes?: boolean | undefined;
}

/** `--test-to` numbers as E.164 (the job's default country for numbers written without +). */
function parseTestTo(raw: readonly string[], spec: JobSpec): string[] {
  if (spec.sender.mode === 'group_mms') throw new AppError('ERR_USAGE', '--test-to cannot be used with sender.mode group_mms (a group needs its members)');
  const normalize = createPhoneNormalizer(spec.source.default_country);
  const numbers = raw.flatMap((r) => r.split(',')).map((r) => r.trim()).filter((r) => r !== '');
  if (numbers.length === 0) throw new AppError('ERR_USAGE', '--test-to needs at least one phone number, e.g. --test-to +14155550123');
  const out = numbers.map((n) => {
    const e164 = normalize(n);
    if (e164 === undefined) throw new AppError('ERR_USAGE', `--test-to: "${n}" is not a valid phone number`);
    return e164;
  });
  return out;
}

/** What the confirmation question states: the run's own plan figures, cut down to a canary or test run. */
function sendSummary(estimate: PlanTally, o: { canary?: number | undefined; testTo?: readonly string[] | undefined; testRows: number }): SendSummary {
  const all = summaryOf(estimate);
  if (o.testTo !== undefined) return { ...all, messages: o.testRows, testTo: o.testTo };
  if (o.canary === undefined || o.canary >= all.messages) return all;
  const share = o.canary / Math.max(all.messages, 1);
  const cost = all.cost === null ? null : { ...all.cost, amount: (Number(all.cost.amount) * share).toFixed(4) };
  return { ...all, messages: o.canary, cost, seconds: all.seconds * share, canaryOf: all.messages };
}

export async function runCommand(o: RunOptions, io: Io): Promise<number> {
  const account = await loadAccountSpec(o.account, io.env, io.cwd);
  const spec = resolveSenders(await loadJobSpec(path.resolve(io.cwd, o.jobFile)), account);
  checkSpendCap(spec, account);
  if (o.canary !== undefined && (!Number.isInteger(o.canary) || o.canary < 1)) throw new AppError('ERR_USAGE', '--canary needs a whole number of rows ≥ 1');
  const testTo = o.testTo === undefined ? undefined : parseTestTo(o.testTo, spec);
  // Check the key before touching the ledger: a run that cannot send should leave nothing behind.
  const api = o.sandbox ? undefined : { apiKey: requireApiKey(io.env), baseUrl: resolveBaseUrl(io.env) };
  const hint = hintFor(o.db, io);
  const pgUrl = pgUrlOf(o.db, io);
  if (pgUrl !== undefined) {
    refuseUnsupportedOnPg({ plan: o.plan, canary: o.canary, testTo: o.testTo, metricsPort: o.metricsPort, dashboardPort: o.dashboardPort, webhooksPort: o.webhooksPort });
    const settings = { api, account, json: o.json, quiet: o.quiet, wait: o.wait, hint, sandbox: o.sandbox, force: o.force, allowRepeat: o.allowRepeat === true, yes: o.yes === true };
    return withPgLedger(pgUrl, (pg) => runOnPg(pg, spec, settings, io));
  }
  const ledger = openLedger(o.db, io);
  try {
    const label = `${o.sandbox ? ' [sandbox: nothing leaves this machine]' : ''}${testTo === undefined ? '' : ` [test run to ${testTo.join(', ')}]`}`;
    const { run, ingest, estimate, testRows } = await startPlannedRun(ledger, spec, {
      sandbox: o.sandbox,
      force: o.force,
      allowRepeat: o.allowRepeat === true,
      hint,
      plan: o.plan,
      signal: io.signal,
      ...(testTo === undefined ? {} : { testTo }),
    }).catch((err: unknown) => {
      if (io.signal.aborted) throw new AppError('ERR_INTERRUPTED', 'interrupted while reading the source; nothing was sent');
      throw err;
    });
    // Printed once ingest has kept the run: a structural error in the source or a changed plan deletes it again.
    io.stderr(`${runLabel(run)} (job ${spec.name})${label}\n`);
    if (!o.quiet) {
      io.stderr(`${describeIngest(ingest)}\n`);
      if (testRows !== undefined) {
        io.stderr(`test run: the messages of row(s) ${testRows.join(', ')} go to ${testTo!.slice(0, testRows.length).join(', ')}, not to their recipients\n`);
      }
    }
    if (shouldAsk(io, { yes: o.yes === true, plan: o.plan })) {
      const yes = await confirmSend(io, sendSummary(estimate!, { canary: o.canary, testTo, testRows: testRows?.length ?? 0 }));
      if (!yes) {
        runStoreOf(ledger).deleteRun(run.rid);
        if (io.signal.aborted) throw new AppError('ERR_INTERRUPTED', 'interrupted at the confirmation; nothing was sent');
        throw new AppError('ERR_RUN_DECLINED', `not sending: nothing was sent and run ${run.runId} was removed`);
      }
    }
    return await sendRun(
      ledger,
      run,
      spec,
      {
        api,
        account,
        json: o.json,
        quiet: o.quiet,
        wait: o.wait,
        metricsPort: o.metricsPort,
        webhooksPort: o.webhooksPort,
        hint,
        dashboard: { port: o.dashboardPort, db: o.db },
        canary: o.canary,
      },
      io,
    );
  } finally {
    ledger.close();
  }
}
