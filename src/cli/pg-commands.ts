/**
 * `run`, `resume`, `status` and `cancel` on the PostgreSQL ledger (`--db postgres://…`): the same output
 * and exit codes as on SQLite, through the PostgreSQL stores. The `run`/`resume` process is one of the
 * run's workers (see campaign/pg-worker.ts): `bulktext worker` processes on any host may share the run.
 */
import type { AccountSpec } from '../config/account-spec.js';
import type { JobSpec } from '../config/job-spec.js';
import { describeIngest } from '../ingest/index.js';
import type { PgLedger } from '../ledger/pg/pg-ledger.js';
import type { RunRecord } from '../ledger/run-store.js';
import { messageStoreOf } from '../ledger/message-store.js';
import { runStoreOf } from '../ledger/run-store.js';
import { cancelPgRun, preparePgResume, sendOnPg, startPgRun, startPgSandbox } from '../campaign/pg-run.js';
import { pgPublicState, pgRunStatus, pgStatusDetail } from '../campaign/pg-status.js';
import { joinAsWorker, type WorkerSession } from '../campaign/pg-worker.js';
import { runLabel } from '../campaign/start-run.js';
import { sleepUnlessAborted } from '../shared/clock.js';
import type { CommandHint } from '../shared/command-line.js';
import { AppError } from '../shared/errors.js';
import { runProgressLine } from './progress.js';
import { oddAnswersWarning, resumeNotices, statusListLine } from './run-lines.js';
import type { Io } from './io.js';
import { describeStatus, exitCodeForStatus } from './send-run.js';

/** What a SQLite run offers that the PostgreSQL run path does not yet: refused up front, before anything is written. */
export function refuseUnsupportedOnPg(options: Readonly<Record<string, unknown>>): void {
  const flags: Record<string, string> = {
    plan: '--plan',
    canary: '--canary',
    testTo: '--test-to',
    retryFailed: '--retry-failed',
    metricsPort: '--metrics-port',
    dashboardPort: '--dashboard-port',
    webhooksPort: '--webhooks-port',
  };
  const given = Object.keys(flags).filter((k) => options[k] !== undefined);
  if (given.length > 0) {
    throw new AppError('ERR_USAGE', `${given.map((k) => flags[k]).join(', ')}: not available with a PostgreSQL ledger yet (use a SQLite ledger for it)`);
  }
}

interface PgSendCommand {
  api: { apiKey: string; baseUrl: string } | undefined;
  account: AccountSpec | undefined;
  json: boolean;
  quiet: boolean;
  wait: boolean;
  hint: CommandHint;
}

/** Sends a prepared run as this process's worker, then prints its status as `run`/`resume` do on SQLite. */
async function sendAndReport(pg: PgLedger, run: RunRecord, spec: JobSpec, session: WorkerSession, o: PgSendCommand, io: Io): Promise<number> {
  const before = await messageStoreOf(pg).counts(run.rid);
  const sandbox = o.api === undefined ? await startPgSandbox(spec) : undefined;
  const progress = runProgressLine(io, o.quiet, before, spec.rate.messages_per_second);
  let odd = 0;
  try {
    const sent = await sendOnPg(pg, run, spec, session, {
      api: o.api ?? sandbox!.api,
      account: o.account,
      wait: o.wait,
      signal: io.signal,
      onEvent: (e) => progress.onEvent(e),
      onStart: (d) => progress.attach(d),
    });
    odd = sent.summary.oddAnswers;
  } finally {
    progress.stop();
    await sandbox?.close();
  }
  const status = await pgRunStatus(pg, await runStoreOf(pg).getRun(run.runId));
  if (o.json) io.stdout(`${JSON.stringify(status)}\n`);
  if (!o.quiet) io.stderr(describeStatus(status, { hint: o.hint, ...(await pgStatusDetail(pg, run.rid)) }));
  if (!o.quiet && odd > 0) {
    // No `report` on a PostgreSQL ledger yet: the warning does not send the operator to one.
    io.stderr(oddAnswersWarning(odd, false));
  }
  return exitCodeForStatus(status);
}

export async function runOnPg(
  pg: PgLedger,
  spec: JobSpec,
  o: PgSendCommand & { sandbox: boolean; force: boolean; allowRepeat: boolean; yes: boolean },
  io: Io,
): Promise<number> {
  if (io.stdinIsTTY === true && !o.yes) {
    throw new AppError('ERR_USAGE', 'on a PostgreSQL ledger `run` cannot ask for confirmation yet: check the job with `bulktext plan`, then pass --yes');
  }
  // A worker from the start: `status` sees the run live while it is being read, not interrupted.
  const session = await joinAsWorker(pg);
  try {
    const { run, ingest } = await startPgRun(pg, spec, { sandbox: o.sandbox, force: o.force, allowRepeat: o.allowRepeat, hint: o.hint, signal: io.signal }).catch(
      (err: unknown) => {
        if (io.signal.aborted) throw new AppError('ERR_INTERRUPTED', 'interrupted while reading the source; nothing was sent');
        throw err;
      },
    );
    io.stderr(`${runLabel(run)} (job ${spec.name})${o.sandbox ? ' [sandbox: nothing leaves this machine]' : ''}\n`);
    if (!o.quiet) {
      io.stderr(`${describeIngest(ingest)}\n`);
    }
    return await sendAndReport(pg, run, spec, session, o, io);
  } finally {
    await session.leave().catch(() => undefined);
  }
}

export async function resumeOnPg(pg: PgLedger, runId: string, o: PgSendCommand & { resendUnknown: boolean }, io: Io): Promise<number> {
  const existing = await runStoreOf(pg).getRun(runId);
  const session = await joinAsWorker(pg);
  try {
    const { run, spec, inDoubt, reopened, textedElsewhere } = await preparePgResume(pg, runId, { resendUnknown: o.resendUnknown, hint: o.hint, signal: io.signal });
    if (!o.quiet) {
      io.stderr(resumeNotices({ inDoubt, reopened, textedElsewhere }));
      const c = await messageStoreOf(pg).counts(run.rid);
      io.stderr(`resuming run ${run.runId} (job ${run.jobName}): ${c.pending} row(s) to send${c.deferred > 0 ? `, ${c.deferred} waiting for their send window` : ''}\n`);
    }
    // A sandbox run resumes against a fresh simulator: it must never reach the real API.
    return await sendAndReport(pg, run, spec, session, { ...o, api: existing.sandbox ? undefined : o.api }, io);
  } finally {
    await session.leave().catch(() => undefined);
  }
}

export async function statusOnPg(pg: PgLedger, runId: string | undefined, o: { json: boolean; hint: CommandHint }, io: Io): Promise<number> {
  const runs = runStoreOf(pg);
  if (runId !== undefined) {
    const run = await runs.getRun(runId);
    const status = await pgRunStatus(pg, run);
    io.stdout(o.json ? `${JSON.stringify(status)}\n` : describeStatus(status, { hint: o.hint, ...(await pgStatusDetail(pg, run.rid)) }));
    return 0;
  }
  const all = [];
  for (const run of await runs.listRuns()) all.push(await pgRunStatus(pg, run));
  if (o.json) io.stdout(`${JSON.stringify(all)}\n`);
  else if (all.length === 0) io.stdout('no runs yet\n');
  else {
    for (const s of all) io.stdout(statusListLine(s));
    io.stdout(`ledger ${pg.path}\n`);
  }
  return 0;
}

/** Waits (at most `waitMs`) until no row of the run is in flight: its workers have stopped. */
async function inFlightSettled(pg: PgLedger, rid: number, waitMs: number, signal: AbortSignal): Promise<boolean> {
  const until = Date.now() + waitMs;
  while (Date.now() < until && !signal.aborted) {
    if ((await messageStoreOf(pg).counts(rid)).sending === 0) return true;
    await sleepUnlessAborted(200, signal);
  }
  return false;
}

export async function cancelOnPg(pg: PgLedger, runId: string, o: { waitMs: number }, io: Io): Promise<number> {
  const wasLive = (await pgPublicState(pg, await runStoreOf(pg).getRun(runId))) === 'running';
  const outcome = await cancelPgRun(pg, runId, Date.now());
  if (outcome.kind === 'already') {
    io.stderr(`run ${runId} was already cancelled\n`);
    return 0;
  }
  const inDoubt = outcome.inDoubt > 0 ? `; ${outcome.inDoubt} row(s) left in flight by a dead worker are unknown (Telnyx may have sent them)` : '';
  if (!wasLive) {
    io.stderr(`run ${runId} cancelled: nothing was sending it, and neither resume nor a worker will pick it up${inDoubt}\n`);
    return 0;
  }
  io.stderr(`run ${runId} cancelled: its workers stop taking rows and let requests in flight settle${inDoubt}\n`);
  if (!(await inFlightSettled(pg, outcome.run.rid, o.waitMs, io.signal))) {
    io.stderr(`run ${runId}: requests are still in flight; its workers record their answers as they come\n`);
    return 0;
  }
  const c = await messageStoreOf(pg).counts(outcome.run.rid);
  io.stderr(`run ${runId} cancelled: sent ${c.sent}, not sent ${c.pending + c.deferred}${c.unknown > 0 ? `, unknown ${c.unknown}` : ''}\n`);
  return 0;
}

/** Runs `fn` on the PostgreSQL ledger at `url` (opened and migrated), closed after. */
export async function withPgLedger<T>(url: string, fn: (pg: PgLedger) => Promise<T>): Promise<T> {
  const { PgLedger } = await import('../ledger/pg/pg-ledger.js');
  const pg = await PgLedger.open(url);
  try {
    return await fn(pg);
  } finally {
    await pg.close();
  }
}
