/**
 * The scheduler's job set: every job file in a directory, validated together. One bad file fails
 * the whole set, naming each bad file, so the daemon never runs half of what the operator wrote
 * (and on reload keeps the previous good set instead).
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { JobSpec } from '../config/job-spec.js';
import { loadJobSpec } from '../config/load-job-spec.js';
import type { ScheduleSpec } from '../config/schedule-spec.js';
import { AppError, isAppError } from '../shared/errors.js';

export type ScheduledJobSpec = JobSpec & { schedule: ScheduleSpec };

export interface ScheduledJob {
  name: string;
  /** Absolute path of the job file. */
  file: string;
  spec: ScheduledJobSpec;
  /** The validated spec as JSON: tells a changed job from an unchanged one on reload. */
  fingerprint: string;
}

export interface JobSet {
  /** Jobs with a `schedule`, by file name order. */
  jobs: ScheduledJob[];
  /** Valid job files without a `schedule` (the scheduler leaves them to `bulktext run`). */
  unscheduled: string[];
}

const JOB_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** The account file lives beside the jobs (jobs/account.yaml) but is not a job. */
const ACCOUNT_FILE_NAMES = new Set(['account.yaml', 'account.yml', 'account.json']);

/** Job files in `dir`: *.yaml, *.yml, *.json, regular files, not hidden (editor swap and temp files). */
export async function listJobFiles(dir: string): Promise<string[]> {
  const abs = path.resolve(dir);
  let names: string[];
  try {
    names = await readdir(abs);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (err as Error).message;
    throw new AppError('ERR_JOB_FILE_UNREADABLE', `cannot read the jobs directory ${abs}: ${reason}`, { cause: err });
  }
  const files: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.') || !JOB_EXTENSIONS.has(path.extname(name).toLowerCase()) || ACCOUNT_FILE_NAMES.has(name)) continue;
    const file = path.join(abs, name);
    // A file removed between readdir and stat is simply not there.
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile() === true) files.push(file);
  }
  return files;
}

/**
 * Loads and validates every job file in `dir`. Throws ERR_JOB_SPEC_INVALID naming every bad file
 * (and every job name used twice) when any is bad; ERR_JOB_FILE_UNREADABLE when `dir` cannot be read.
 * `check` refuses a scheduled job that is valid alone but not here (e.g. no pricing under the account's
 * spend cap) by throwing an AppError: found at start or reload, not when its slot fires at 2 a.m.
 */
export async function loadJobSet(dir: string, check?: (spec: JobSpec) => void): Promise<JobSet> {
  const files = await listJobFiles(dir);
  const problems: string[] = [];
  const jobs: ScheduledJob[] = [];
  const unscheduled: string[] = [];
  const byName = new Map<string, string>();
  for (const file of files) {
    let spec: JobSpec;
    try {
      spec = await loadJobSpec(file);
      if (spec.schedule !== undefined) check?.(spec);
    } catch (err) {
      if (!isAppError(err)) throw err;
      problems.push(err.message.includes(file) ? err.message : `${file}: ${err.message}`);
      continue;
    }
    const other = byName.get(spec.name);
    if (other !== undefined) {
      problems.push(`${file}: job name "${spec.name}" is also used by ${other}; each job needs its own name (its slots are recorded by name)`);
      continue;
    }
    byName.set(spec.name, file);
    if (spec.schedule === undefined) {
      unscheduled.push(file);
      continue;
    }
    const scheduled = spec as ScheduledJobSpec;
    jobs.push({ name: spec.name, file, spec: scheduled, fingerprint: JSON.stringify(scheduled) });
  }
  if (problems.length > 0) {
    throw new AppError(
      'ERR_JOB_SPEC_INVALID',
      `${problems.length} job file${problems.length === 1 ? ' is' : 's are'} invalid in ${path.resolve(dir)}; ` +
        `the scheduler runs none of them until ${problems.length === 1 ? 'it is' : 'they are'} fixed:\n${problems.join('\n')}`,
      { details: { files: problems.length } },
    );
  }
  return { jobs, unscheduled };
}
