import path from 'node:path';
import { parseJobSpec, type JobSpec } from './job-spec.js';
import { readDocument } from './read-document.js';

/** Reads a job file (.yaml, .yml or .json) and validates it. */
export async function loadJobSpec(jobFile: string): Promise<JobSpec> {
  const file = path.resolve(jobFile);
  const doc = await readDocument(file, 'job file', { unreadable: 'ERR_JOB_FILE_UNREADABLE', invalid: 'ERR_JOB_SPEC_INVALID' });
  return parseJobSpec(doc, file);
}
