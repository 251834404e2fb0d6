/** Shared pieces of the scheduler integration tests: temp job directories, job files, polling. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SchedulerLogLevel } from '../../src/scheduler/daemon.js';
import { tempDir } from '../helpers/temp.js';

export interface Fixture {
  dir: string;
  jobsDir: string;
  dataDir: string;
  dbPath: string;
  cleanup: () => void;
}

export function fixture(): Fixture {
  const { dir, cleanup } = tempDir('bulktext-scheduler-');
  const jobsDir = path.join(dir, 'jobs');
  const dataDir = path.join(dir, 'data');
  mkdirSync(jobsDir);
  mkdirSync(dataDir);
  return { dir, jobsDir, dataDir, dbPath: path.join(dir, 'ledger.db'), cleanup };
}

/** The recipients of a job's source: +1415555 1000, 1001, … */
export function recipients(n: number, base = 1000): string[] {
  return Array.from({ length: n }, (_, i) => `+1415555${String(base + i).padStart(4, '0')}`);
}

export interface JobOptions {
  cron: string;
  rows?: number;
  /** messages/s for the run and for its one sender. @default 50 */
  rate?: number;
  catchUp?: string;
  timezone?: string;
  /** First recipient number suffix (distinct jobs: distinct recipients). @default 1000 */
  base?: number;
  /** Extra YAML appended to the job file. */
  extra?: string;
}

/** Writes `<jobsDir>/<name>.yaml` and its CSV in the data directory; returns the job file. */
export function writeJob(f: Fixture, name: string, o: JobOptions): string {
  const csv = path.join(f.dataDir, `${name}.csv`);
  writeFileSync(csv, `phone,first_name\n${recipients(o.rows ?? 2, o.base).map((p, i) => `${p},Person${i}`).join('\n')}\n`);
  const rate = o.rate ?? 50;
  const file = path.join(f.jobsDir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `name: ${name}`,
      `source: { path: ../data/${name}.csv }`,
      `sender: { mode: long_code, from: "+18445550001" }`,
      `message: { text: "Hi {{first_name}}" }`,
      `rate: { messages_per_second: ${rate}, per_sender_per_second: ${rate}, max_concurrent: 4 }`,
      `retry: { attempts: 2, min_delay_ms: 10, max_delay_ms: 20 }`,
      `schedule: { cron: "${o.cron}", timezone: ${o.timezone ?? 'UTC'}, catch_up: ${o.catchUp ?? '1m'} }`,
      o.extra ?? '',
      '',
    ].join('\n'),
  );
  return file;
}

/** Polls `probe` until it returns something other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Collects the scheduler's log lines. */
export function logSink(): { lines: string[]; onLog: (level: SchedulerLogLevel, message: string) => void; text: () => string } {
  const lines: string[] = [];
  return {
    lines,
    onLog: (level, message) => lines.push(`${level} ${message}`),
    text: () => lines.join('\n'),
  };
}
