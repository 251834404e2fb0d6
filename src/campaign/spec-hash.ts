import { createHash } from 'node:crypto';
import type { JobSpec } from '../config/job-spec.js';

/** A stable hash of what a job sends (the validated spec, keys sorted, without the file's location). */
export function specHash(spec: JobSpec): string {
  const { file: _file, ...rest } = spec;
  return createHash('sha256').update(stableJson(rest)).digest('hex');
}

export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
