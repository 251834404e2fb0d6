/** Shared pieces of the scheduler integration tests: temp job directories, job files, polling, the daemon's surroundings. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';
import { startScheduler, type Scheduler, type SchedulerLogLevel, type SchedulerOptions } from '../../src/scheduler/daemon.js';
import { slotStoreOf, type SqliteSlotStore } from '../../src/ledger/slot-store.js';
import { startSimulator, type InProcessSimulator } from '../../src/telnyx/simulator/index.js';
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
export function writeJob(f: Pick<Fixture, 'jobsDir' | 'dataDir'>, name: string, o: JobOptions): string {
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

export interface LogSink {
  lines: string[];
  onLog: (level: SchedulerLogLevel, message: string) => void;
  text: () => string;
}

/** Collects the scheduler's log lines. */
export function logSink(): LogSink {
  const lines: string[] = [];
  return {
    lines,
    onLog: (level, message) => lines.push(`${level} ${message}`),
    text: () => lines.join('\n'),
  };
}

/** A test's fixture directories, the simulator the daemons send to, and the test's own look at the ledger file. */
export interface SchedulerEnv extends Omit<Fixture, 'cleanup'> {
  readonly sim: InProcessSimulator;
  /** The test's own connection to the ledger file, for looking; daemons started by path open their own. */
  readonly ledger: Ledger;
  readonly store: SqliteSlotStore;
  /** Options for a daemon on the fixture's jobs and ledger file, sending to the simulator in sandbox mode, not watching. */
  options(log?: LogSink, extra?: Partial<SchedulerOptions>): SchedulerOptions;
  /** Starts a daemon; every daemon started this way is stopped after the test (stop is idempotent). */
  start(options: SchedulerOptions): Promise<Scheduler>;
  /** `start(options(log, extra))`. */
  daemon(log?: LogSink, extra?: Partial<SchedulerOptions>): Promise<Scheduler>;
}

interface Current {
  f: Fixture;
  sim: InProcessSimulator;
  ledger: Ledger;
  store: SqliteSlotStore;
  daemons: Scheduler[];
}

/**
 * Registers the file's hooks: before each test a fresh fixture, a simulator seeded with `seed` and a
 * ledger on the fixture's file; after it, every daemon stopped, then the ledger, the simulator and the
 * directory closed and removed. The returned env reads the current test's parts.
 */
export function useSchedulerEnv(seed: number): SchedulerEnv {
  let current: Current | undefined;

  beforeEach(async () => {
    const f = fixture();
    const sim = await startSimulator({ seed });
    const ledger = new Ledger(f.dbPath);
    current = { f, sim, ledger, store: slotStoreOf(ledger), daemons: [] };
  });

  afterEach(async () => {
    if (current === undefined) return;
    const { f, sim, ledger, daemons } = current;
    current = undefined;
    await Promise.all(daemons.map((d) => d.stop()));
    ledger.close();
    await sim.close();
    f.cleanup();
  });

  const now = (): Current => {
    if (current === undefined) throw new Error('the scheduler env exists only while a test runs');
    return current;
  };

  const env: SchedulerEnv = {
    get dir() {
      return now().f.dir;
    },
    get jobsDir() {
      return now().f.jobsDir;
    },
    get dataDir() {
      return now().f.dataDir;
    },
    get dbPath() {
      return now().f.dbPath;
    },
    get sim() {
      return now().sim;
    },
    get ledger() {
      return now().ledger;
    },
    get store() {
      return now().store;
    },
    options: (log = logSink(), extra = {}) => ({
      jobsDir: env.jobsDir,
      ledger: env.dbPath,
      api: { apiKey: 'test-key', baseUrl: env.sim.url, sandbox: true },
      onLog: log.onLog,
      watch: false,
      ...extra,
    }),
    async start(options) {
      const { daemons } = now();
      const d = await startScheduler(options);
      daemons.push(d);
      return d;
    },
    daemon: (log, extra) => env.start(env.options(log, extra)),
  };
  return env;
}
