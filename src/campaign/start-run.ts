/**
 * Creates a run from a job: refuses while an earlier run of the same job and kind (sandbox or real) is
 * being sent by a live process, or is unfinished over the same source bytes (resume that one instead),
 * then ingests the source, skipping the numbers an earlier run of the campaign already texted.
 */
import type { JobSpec } from '../config/job-spec.js';
import { hashSource, type IngestStats } from '../ingest/index.js';
import type { Ledger } from '../ledger/ledger.js';
import type { NewRun, RunRecord, Trigger } from '../ledger/run-store.js';
import type { PlanTally } from '../plan/types.js';
import { cleanupAfter } from '../ledger/storage-error.js';
import { commandHint, type CommandHint } from '../shared/command-line.js';
import { AppError } from '../shared/errors.js';
import { currentProcess } from '../shared/process-probe.js';
import { memoryScope } from './campaign-memory.js';
import { ingestIntoLedger } from './ingest-into-ledger.js';
import { newRunId } from './run-id.js';
import { specHash } from './spec-hash.js';
import { publicState, type PublicRunState } from './status.js';
import { messageStoreOf } from '../ledger/message-store.js';
import { runStoreOf } from '../ledger/run-store.js';

export interface StartRunOptions {
  sandbox: boolean;
  /** Start even though an earlier run of this job is unfinished (over the same source, or still running). */
  force?: boolean;
  /** Send to numbers an earlier run of the campaign already texted (campaign memory off). @default false */
  allowRepeat?: boolean;
  trigger?: Trigger;
  slot?: string;
  /** Tally the plan estimate from the rows as they are read (returned as `estimate`). @default false */
  estimate?: boolean;
  signal?: AbortSignal;
  /** Builds the `resume` command the refusal suggests (the CLI's keeps its --db). */
  hint?: CommandHint;
  /**
   * A test run (`run --test-to`): the first sendable rows' messages (one per number, in source order) go to
   * these numbers instead of their recipients; the run holds only those rows and never blocks the real one.
   */
  testTo?: readonly string[];
  /** Called as soon as the run exists (the CLI prints its id). */
  onCreated?: (run: RunRecord) => void;
  now?: () => number;
}

export interface StartedRun {
  run: RunRecord;
  ingest: IngestStats;
  /** The plan tally of the rows read, when `estimate` was asked for. */
  estimate: PlanTally | undefined;
  /** A test run's rows (`testTo`), in the order their messages go to the test numbers. */
  testRows?: number[];
}

/** "run 2026…" or "sandbox run 2026…": every message that names a run says which kind it is. */
export function runLabel(run: Pick<RunRecord, 'runId' | 'sandbox'>): string {
  return `${run.sandbox ? 'sandbox run' : 'run'} ${run.runId}`;
}

/**
 * The run that must stop a new one, if any: of the same job and kind only (a sandbox rehearsal never
 * blocks the real run, nor the other way round), either live right now or unfinished over the same bytes.
 */
function blockingRun(ledger: Ledger, spec: JobSpec, sandbox: boolean, sha: string, hint: CommandHint): AppError | undefined {
  for (const earlier of runStoreOf(ledger).unfinishedRuns(spec.name, sandbox)) {
    const blocked = blockedBy(earlier, publicState(earlier), spec, sha, hint);
    if (blocked !== undefined) return blocked;
  }
  return undefined;
}

/** Why unfinished run `earlier` (in public `state`) stops a new run of `spec` over source `sha`, if it does. */
export function blockedBy(earlier: RunRecord, state: PublicRunState, spec: JobSpec, sha: string, hint: CommandHint): AppError | undefined {
  if (state === 'running') {
    return new AppError(
      'ERR_RUN_UNFINISHED',
      `${runLabel(earlier)} of job ${spec.name} is being sent right now${earlier.ownerPid === null ? '' : ` by process ${earlier.ownerPid}`}: ` +
        'wait for it to end (or stop it) before starting another, or pass --force',
      { details: { runId: earlier.runId } },
    );
  }
  if (earlier.sourceSha256 === sha) {
    return new AppError(
      'ERR_RUN_UNFINISHED',
      `${runLabel(earlier)} of job ${spec.name} over the same source is ${state}, not finished: ` +
        `resume it with \`${hint(['resume', earlier.runId])}\`, or pass --force to start a new run ` +
        '(it skips every number an earlier run already texted)',
      { details: { runId: earlier.runId } },
    );
  }
  return undefined;
}

/** A new run of `spec` over source bytes `sha`, started `at`: what every backend records. */
export function newRunOf(spec: JobSpec, sha: string, sandbox: boolean, at: number): NewRun {
  return {
    runId: newRunId(at),
    jobName: spec.name,
    jobFile: spec.file,
    jobSpec: JSON.stringify(spec),
    specHash: specHash(spec),
    sourcePath: spec.source.path,
    sourceSha256: sha,
    sandbox,
    startedAt: at,
  };
}

export async function startRun(ledger: Ledger, spec: JobSpec, options: StartRunOptions): Promise<StartedRun> {
  const now = options.now ?? Date.now;
  const sha = await hashSource(spec.source.path);
  // A test run (--test-to) texts only the operator's own numbers: it is never blocked by, and never blocks, the real run.
  if (options.force !== true && options.testTo === undefined) {
    const blocked = blockingRun(ledger, spec, options.sandbox, sha, options.hint ?? commandHint());
    if (blocked !== undefined) throw blocked;
  }
  const run = runStoreOf(ledger).createRun({
    ...newRunOf(spec, sha, options.sandbox, now()),
    ...(options.trigger === undefined ? {} : { trigger: options.trigger }),
    ...(options.slot === undefined ? {} : { slot: options.slot }),
    ...(options.testTo === undefined ? {} : { testTo: options.testTo }),
    // Owned from the start: a resume or a status during ingest sees a live run, not an interrupted one.
    owner: currentProcess(),
  });
  options.onCreated?.(run);
  try {
    const { stats, estimate } = await ingestIntoLedger(ledger, run.rid, spec, {
      expectedSha256: sha,
      memory: memoryScope(ledger, spec, run, { allowRepeat: options.allowRepeat ?? false }),
      ...(options.estimate === undefined ? {} : { estimate: options.estimate }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    if (options.testTo === undefined) return { run: runStoreOf(ledger).getRun(run.runId), ingest: stats, estimate };
    const testRows = messageStoreOf(ledger).keepTestRows(run.rid, options.testTo, now());
    return { run: runStoreOf(ledger).getRun(run.runId), ingest: stats, estimate, testRows };
  } catch (err) {
    // Nothing was sent: a run that could not be ingested leaves no trace to block the next one. On a
    // full disk the delete may fail too; the ingest error is still the one to report (resume re-ingests).
    throw cleanupAfter(err, () => runStoreOf(ledger).deleteRun(run.rid));
  }
}
