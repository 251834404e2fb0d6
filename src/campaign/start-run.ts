/**
 * Creates a run from a job: refuses a second run of the same job over the same source bytes while an
 * earlier one is unfinished (that is how people text a list twice), then ingests the source.
 */
import type { JobSpec } from '../config/job-spec.js';
import { hashSource, type IngestStats } from '../ingest/index.js';
import type { Ledger, RunRecord, Trigger } from '../ledger/ledger.js';
import type { PlanTally } from '../plan/types.js';
import { cleanupAfter } from '../ledger/storage-error.js';
import { commandHint, type CommandHint } from '../shared/command-line.js';
import { AppError } from '../shared/errors.js';
import { ingestIntoLedger } from './ingest-into-ledger.js';
import { newRunId } from './run-id.js';
import { specHash } from './spec-hash.js';
import { publicState } from './status.js';

export interface StartRunOptions {
  sandbox: boolean;
  /** Start even though an earlier run of this job over the same source is unfinished. */
  force?: boolean;
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

export async function startRun(ledger: Ledger, spec: JobSpec, options: StartRunOptions): Promise<StartedRun> {
  const now = options.now ?? Date.now;
  const sha = await hashSource(spec.source.path);
  if (options.force !== true && options.testTo === undefined) {
    const earlier = ledger.unfinishedRuns(spec.name, sha)[0];
    if (earlier !== undefined) {
      throw new AppError(
        'ERR_RUN_UNFINISHED',
        `run ${earlier.runId} of job ${spec.name} over the same source is ${publicState(earlier)}, not finished: ` +
          `resume it with \`${(options.hint ?? commandHint())(['resume', earlier.runId])}\`, or pass --force to start another run`,
        { details: { runId: earlier.runId } },
      );
    }
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
    ...(options.testTo === undefined ? {} : { testTo: options.testTo }),
    startedAt: now(),
  });
  options.onCreated?.(run);
  try {
    const { stats, estimate } = await ingestIntoLedger(ledger, run.rid, spec, {
      expectedSha256: sha,
      ...(options.estimate === undefined ? {} : { estimate: options.estimate }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    if (options.testTo === undefined) return { run: ledger.getRun(run.runId), ingest: stats, estimate };
    const testRows = ledger.keepTestRows(run.rid, options.testTo, now());
    return { run: ledger.getRun(run.runId), ingest: stats, estimate, testRows };
  } catch (err) {
    // Nothing was sent: a run that could not be ingested leaves no trace to block the next one. On a
    // full disk the delete may fail too; the ingest error is still the one to report (resume re-ingests).
    throw cleanupAfter(err, () => ledger.deleteRun(run.rid));
  }
}
