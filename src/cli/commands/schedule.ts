/**
 * `bulktext schedule`: the scheduler daemon (runs every scheduled job in --jobs at its slots until
 * SIGINT/SIGTERM, reloading on SIGHUP or a change in the directory), or with --list, each job's
 * next firings.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { requireApiKey, resolveBaseUrl, resolveDbPath } from '../../config/env.js';
import { createLedgerMetrics } from '../../metrics/ledger-metrics.js';
import { createMetricsRegistry } from '../../metrics/registry.js';
import { createRunMetrics } from '../../metrics/run-metrics.js';
import { createSchedulerMetrics } from '../../metrics/scheduler-metrics.js';
import { startMetricsServer, type MetricsServer } from '../../metrics/server.js';
import { loadAccountSpec } from '../../config/load-account-spec.js';
import { startScheduler, type SchedulerApi } from '../../scheduler/daemon.js';
import { formatDuration, upcomingFirings } from '../../scheduler/firings.js';
import { loadJobSet } from '../../scheduler/job-set.js';
import { createLogger } from '../../shared/logger.js';
import { ExitCode } from '../exit-codes.js';
import { untilAborted } from '../../shared/clock.js';
import type { Io } from '../io.js';
import { startSideDashboard } from './dashboard.js';

export interface ScheduleOptions {
  /** Directory of job files. @default "jobs" */
  jobs: string;
  db?: string | undefined;
  /** The account file (default: $BULKTEXT_ACCOUNT, else account.yaml in the jobs directory if it exists). */
  account?: string | undefined;
  /** Serve /metrics and /healthz on 127.0.0.1 at this port (0: any free port). */
  metricsPort?: number | undefined;
  /** Print each job's next firings and exit. */
  list: boolean;
  /** Firings per job for --list. @default 5 */
  count?: number | undefined;
  /** Send to the built-in simulator instead of Telnyx. */
  sandbox: boolean;
  /** Serve the read-only dashboard on 127.0.0.1 at this port while the daemon runs. */
  dashboardPort?: number | undefined;
}

export interface ScheduleHooks {
  /** Calls `listener` on SIGHUP; returns a function that stops listening. */
  onHangup(listener: () => void): () => void;
}

async function listFirings(o: ScheduleOptions, io: Io): Promise<number> {
  const dir = path.resolve(io.cwd, o.jobs);
  const { jobs, unscheduled } = await loadJobSet(dir);
  if (jobs.length === 0) {
    io.stderr(`no job file in ${dir} has a schedule${unscheduled.length > 0 ? ` (${unscheduled.length} job file(s) without one)` : ''}\n`);
    return ExitCode.ok;
  }
  const now = Date.now();
  for (const job of jobs) {
    const s = job.spec.schedule;
    io.stdout(`${job.name}  ${path.relative(io.cwd, job.file) || job.file}\n`);
    io.stdout(`  cron "${s.cron}" ${s.timezone}, catch_up ${formatDuration(s.catch_up)}\n`);
    const firings = upcomingFirings(s, now, o.count ?? 5);
    if (firings.length === 0) io.stdout('  no more firings\n');
    for (const f of firings) io.stdout(`  ${f.iso}  ${f.local}\n`);
  }
  return ExitCode.ok;
}

export async function scheduleCommand(o: ScheduleOptions, io: Io, hooks: ScheduleHooks): Promise<number> {
  if (o.list) return listFirings(o, io);
  // Check the key before anything else: a daemon that cannot send should not start.
  const api: SchedulerApi = o.sandbox ? 'sandbox' : { apiKey: requireApiKey(io.env), baseUrl: resolveBaseUrl(io.env) };
  const account = await loadAccountSpec(o.account, io.env, io.cwd, path.join(o.jobs, 'account.yaml'));
  const logger = createLogger(io.stderr);
  const dbPath = resolveDbPath(o.db, io.env, io.cwd);
  // The daemon starts runs, so like `run` it may create the ledger (a fresh host under systemd has none);
  // it says so, so that a mistyped --db is seen at once rather than after a run skipped no opt-outs.
  if (!existsSync(dbPath)) logger.info(`no ledger at ${dbPath}: creating a new, empty one`);
  const registry = o.metricsPort === undefined ? undefined : createMetricsRegistry();
  const runMetrics = registry === undefined ? undefined : createRunMetrics(registry);
  const scheduler = await startScheduler({
    jobsDir: path.resolve(io.cwd, o.jobs),
    ledger: dbPath,
    api,
    account,
    onLog: (level, text) => logger[level](text),
    ...(runMetrics === undefined ? {} : { metrics: runMetrics }),
  });
  let server: MetricsServer | undefined;
  let unsubscribe: (() => void) | undefined;
  let dashboard: { close(): Promise<void> } | undefined;
  try {
    dashboard = await startSideDashboard(o.dashboardPort, scheduler.ledger.path, o.db, io);
    if (registry !== undefined && o.metricsPort !== undefined) {
      createLedgerMetrics(registry, scheduler.ledger);
      createSchedulerMetrics(registry, scheduler);
      server = await startMetricsServer({ port: o.metricsPort, registry, health: () => scheduler.health() });
      logger.info(`metrics on ${server.url}/metrics, health on ${server.url}/healthz`);
    }
    unsubscribe = hooks.onHangup(() => {
      logger.info('SIGHUP: reloading job files');
      void scheduler.reload();
    });
    await untilAborted(io.signal);
    logger.info('stopping: no new runs; runs in progress are interrupted and stay resumable');
  } finally {
    unsubscribe?.();
    await dashboard?.close();
    await scheduler.stop();
    await server?.close();
  }
  return ExitCode.ok;
}
