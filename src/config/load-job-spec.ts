import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AppError } from '../shared/errors.js';
import { parseJobSpec, type JobSpec } from './job-spec.js';

/** Reads a job file (.yaml, .yml or .json) and validates it. */
export async function loadJobSpec(jobFile: string): Promise<JobSpec> {
  const file = path.resolve(jobFile);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new AppError('ERR_JOB_FILE_UNREADABLE', `cannot read job file ${file}: ${reason}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = path.extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new AppError('ERR_JOB_SPEC_INVALID', `job file ${file} is not valid ${path.extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { cause: err });
  }
  return parseJobSpec(doc, file);
}
