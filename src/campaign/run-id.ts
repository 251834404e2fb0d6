import { randomBytes } from 'node:crypto';

/** A run id people can read, sort and type: UTC start time plus 4 random hex digits (20261122-124512-3f9a). */
export function newRunId(now = Date.now()): string {
  const iso = new Date(now).toISOString(); // 2026-11-22T12:45:12.345Z
  const stamp = `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}
