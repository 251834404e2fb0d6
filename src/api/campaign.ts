/**
 * The library's run use cases: start a campaign from a job file, or resume a run, with a progress
 * callback and an AbortSignal. The same steps as `bulktext run` / `resume` (startRun or prepareResume,
 * then sendPreparedRun), minus the terminal: no output, no exit codes — the final status is returned.
 */
import path from 'node:path';
import { prepareResume, settleIfNothingLeft } from '../campaign/resume-run.js';
import { startRun, type StartedRun, type StartRunOptions } from '../campaign/start-run.js';
import { runStatus, type RunStatus } from '../campaign/status.js';
import { DEFAULT_BASE_URL } from '../config/env.js';
import type { JobSpec } from '../config/job-spec.js';
import { loadJobSpec } from '../config/load-job-spec.js';
import type { IngestStats } from '../ingest/index.js';
import type { DispatchEvent } from '../dispatch/dispatcher.js';
import { Ledger } from '../ledger/ledger.js';
import type { RunRecord } from '../ledger/run-store.js';
import type { StatusCounts } from '../ledger/message-store.js';
import { requireLedgerFile } from '../ledger/require-ledger.js';
import { parsePlanHash, recordPlanOnRun, verifyPlanHash } from '../plan/index.js';
import { AppError } from '../shared/errors.js';
import { sendPreparedRun } from './send-prepared-run.js';
import { messageStoreOf } from '../ledger/message-store.js';
import { runStoreOf } from '../ledger/run-store.js';

/** Counts so far, given to `onProgress` after every row that reached a final outcome. */
export interface RunProgress {
  runId: string;
  /** Rows that were pending when sending began. */
  toSend: number;
  sent: number;
  failed: number;
  unknown: number;
}

export interface SendOptions {
  /** The ledger file: startCampaign creates it if missing, resumeCampaign requires it. Relative paths resolve against `cwd`. */
  db: string;
  /** Send to a simulator in a worker thread: no key needed, nothing leaves the machine. @default false */
  sandbox?: boolean;
  /** Telnyx API v2 key; required unless `sandbox` (a sandbox run, resumed, never uses it). */
  apiKey?: string;
  /** @default "https://api.telnyx.com/v2" */
  baseUrl?: string;
  /** Wait for send windows to open; false leaves deferred rows for a later resume. @default true */
  wait?: boolean;
  /** Run the signed webhook receiver on 127.0.0.1:port while the run lasts (needs `publicKey` for a real run). */
  webhooksPort?: number;
  /** Telnyx's webhook public key (base64), for `webhooksPort`. */
  publicKey?: string;
  /** Aborting stops taking new rows, lets requests in flight settle, and leaves the run resumable. */
  signal?: AbortSignal;
  onProgress?: (progress: RunProgress) => void;
  /** Every dispatcher event (attempts, retries, deferrals), for callers that want more than counts. */
  onEvent?: (event: DispatchEvent) => void;
  /** Base for relative paths. @default process.cwd() */
  cwd?: string;
}

export interface StartCampaignOptions extends SendOptions {
  /** Start even though an earlier run of the job over the same source is unfinished. @default false */
  force?: boolean;
  /** A plan_hash from planJob(): refuse unless the job, source and suppressions are unchanged. */
  plan?: string;
  /** Send even to numbers an earlier run of this job and message texted (campaign memory off). @default false */
  allowRepeat?: boolean;
  /** Called once the run exists, before its source is read. */
  onCreated?: (runId: string) => void;
}

export interface ResumeCampaignOptions extends SendOptions {
  /** Also send rows whose earlier request is in doubt: those recipients may get the message twice. @default false */
  resendUnknown?: boolean;
}

function credentials(o: SendOptions, sandbox: boolean): { apiKey: string; baseUrl: string } | undefined {
  if (sandbox) return undefined;
  const apiKey = o.apiKey?.trim();
  if (apiKey === undefined || apiKey === '') throw new AppError('ERR_ENV_MISSING', 'apiKey is required unless sandbox is true');
  return { apiKey, baseUrl: (o.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '') };
}

/** `file` against the caller's `cwd`, else against the working directory (path.resolve's own default). */
export const resolveIn = (cwd: string | undefined, file: string) => (cwd === undefined ? path.resolve(file) : path.resolve(cwd, file));

async function send(ledger: Ledger, run: RunRecord, counts: StatusCounts, o: SendOptions, api: ReturnType<typeof credentials>): Promise<RunStatus> {
  const progress: RunProgress = { runId: run.runId, toSend: counts.pending, sent: 0, failed: 0, unknown: 0 };
  await sendPreparedRun(ledger, run, JSON.parse(run.jobSpec), {
    api,
    wait: o.wait ?? true,
    webhooksPort: o.webhooksPort,
    publicKey: o.publicKey,
    signal: o.signal ?? new AbortController().signal,
    onEvent: (e) => {
      o.onEvent?.(e);
      if (e.type !== 'outcome') return;
      progress[e.status]++;
      o.onProgress?.({ ...progress });
    },
  });
  return runStatus(ledger, runStoreOf(ledger).getRun(run.runId));
}

/**
 * startRun with the plan/apply guard: with a `plan` hash, refuses unless the job, source and suppressions
 * are what was reviewed (also when the file changes between the check and the read), and records the
 * run's own estimate either way.
 */
export async function startPlannedRun(
  ledger: Ledger,
  spec: JobSpec,
  options: Omit<StartRunOptions, 'estimate'> & { plan?: string | undefined },
): Promise<StartedRun> {
  const { plan, ...startOptions } = options;
  if (plan !== undefined) await verifyPlanHash(spec, plan, { ledger, allowRepeat: startOptions.allowRepeat === true });
  const started = await startRun(ledger, spec, { ...startOptions, estimate: true });
  const { run } = started;
  const planned = plan === undefined ? undefined : parsePlanHash(plan);
  if (planned !== undefined && !run.sourceSha256.startsWith(planned.source)) {
    // The file changed between the check and the read: what would go out is not what was reviewed.
    runStoreOf(ledger).deleteRun(run.rid);
    throw new AppError('ERR_PLAN_MISMATCH', `the source ${spec.source.path} changed after the plan check; nothing was sent — plan again`);
  }
  // A test run's estimate would be the whole list's: it records none.
  if (startOptions.testTo === undefined) recordPlanOnRun(ledger, run.rid, { ...started.estimate!, plan_hash: plan ?? null });
  return started;
}

/** Reads the job's source into a new run and sends it; resolves with the run's final status. */
export async function startCampaign(jobFile: string, o: StartCampaignOptions): Promise<RunStatus> {
  const spec = await loadJobSpec(resolveIn(o.cwd, jobFile));
  const api = credentials(o, o.sandbox === true);
  const ledger = new Ledger(resolveIn(o.cwd, o.db));
  try {
    const { run } = await startPlannedRun(ledger, spec, {
      sandbox: o.sandbox === true,
      force: o.force === true,
      allowRepeat: o.allowRepeat === true,
      ...(o.plan === undefined ? {} : { plan: o.plan }),
      ...(o.signal === undefined ? {} : { signal: o.signal }),
      ...(o.onCreated === undefined ? {} : { onCreated: (r: RunRecord) => o.onCreated!(r.runId) }),
    });
    return await send(ledger, run, messageStoreOf(ledger).counts(run.rid), o, api);
  } finally {
    ledger.close();
  }
}

/** Sends what a run left pending (rows in doubt stay unknown unless `resendUnknown`); resolves with its final status. */
export async function resumeCampaign(runId: string, o: ResumeCampaignOptions): Promise<RunStatus> {
  // Only a run creates a ledger: resuming on a mistyped path must not leave an empty one behind.
  const ledger = new Ledger(requireLedgerFile(resolveIn(o.cwd, o.db)));
  try {
    // A sandbox run resumes against a fresh simulator: it must never reach the real API.
    const api = credentials(o, runStoreOf(ledger).getRun(runId).sandbox);
    const { run } = await prepareResume(ledger, runId, {
      resendUnknown: o.resendUnknown === true,
      ...(o.signal === undefined ? {} : { signal: o.signal }),
    });
    const counts = messageStoreOf(ledger).counts(run.rid);
    if (settleIfNothingLeft(ledger, run, counts, Date.now())) return runStatus(ledger, runStoreOf(ledger).getRun(runId), counts);
    return await send(ledger, run, counts, o, api);
  } finally {
    ledger.close();
  }
}
