/**
 * Creates a run from a job: refuses while an earlier run of the same job and kind (sandbox or real) is
 * being sent by a live process, or is unfinished over the same source bytes (resume that one instead),
 * then ingests the source, skipping the numbers an earlier run of the campaign already texted.
 */
import type { JobSpec } from '../config/job-spec.js';
import { hashSource, type IngestStats } from '../ingest/index.js';
import type { Ledger, RunRecord, Trigger } from '../ledger/ledger.js';
import type { PlanTally } from '../plan/types.js';
import { AppError } from '../shared/errors.js';
import { currentProcess } from '../shared/process-probe.js';
import { memoryScope } from './campaign-memory.js';
import { ingestIntoLedger } from './ingest-into-ledger.js';
import { newRunId } from './run-id.js';
import { specHash } from './spec-hash.js';
import { publicState } from './status.js';

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
  /** Called as soon as the run exists (the CLI prints its id). */
  onCreated?: (run: RunRecord) => void;
  now?: () => number;
}

/** "run 2026…" or "sandbox run 2026…": every message that names a run says which kind it is. */
export function runLabel(run: Pick<RunRecord, 'runId' | 'sandbox'>): string {
  return `${run.sandbox ? 'sandbox run' : 'run'} ${run.runId}`;
}

/** A path as a shell word: hints name the ledger and job file so they work when pasted. */
export function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The run that must stop a new one, if any: of the same job and kind only (a sandbox rehearsal never
 * blocks the real run, nor the other way round), either live right now or unfinished over the same bytes.
 */
function blockingRun(ledger: Ledger, spec: JobSpec, sandbox: boolean, sha: string): AppError | undefined {
  for (const earlier of ledger.unfinishedRuns(spec.name, sandbox)) {
    const state = publicState(earlier);
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
          `resume it with \`bulktext resume ${earlier.runId} --db ${shellWord(ledger.path)}\`, or pass --force to start a new run ` +
          '(it skips every number an earlier run already texted)',
        { details: { runId: earlier.runId } },
      );
    }
  }
  return undefined;
}

export async function startRun(
  ledger: Ledger,
  spec: JobSpec,
  options: StartRunOptions,
): Promise<{ run: RunRecord; ingest: IngestStats; estimate: PlanTally | undefined }> {
  const now = options.now ?? Date.now;
  const sha = await hashSource(spec.source.path);
  if (options.force !== true) {
    const blocked = blockingRun(ledger, spec, options.sandbox, sha);
    if (blocked !== undefined) throw blocked;
  }
  const run = ledger.createRun({
    runId: newRunId(now()),
    jobName: spec.name,
    jobFile: spec.file,
    jobSpec: JSON.stringify(spec),
    specHash: specHash(spec),
    sourcePath: spec.source.path,
    sourceSha256: sha,
    sandbox: options.sandbox,
    ...(options.trigger === undefined ? {} : { trigger: options.trigger }),
    ...(options.slot === undefined ? {} : { slot: options.slot }),
    startedAt: now(),
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
    return { run: ledger.getRun(run.runId), ingest: stats, estimate };
  } catch (err) {
    // Nothing was sent: a run that could not be ingested leaves no trace to block the next one.
    ledger.deleteRun(run.rid);
    throw err;
  }
}
