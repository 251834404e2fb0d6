/**
 * `bulktext dashboard`: serves the read-only web dashboard over the ledger until interrupted.
 */
import { existsSync } from 'node:fs';
import { resolveDbPath } from '../../config/env.js';
import { requiredToken, TOKEN_ENV } from '../../dashboard/auth.js';
import { startDashboard } from '../../dashboard/server.js';
import { startDashboardWorker } from '../../dashboard/worker.js';
import { programName } from '../../shared/command-line.js';
import { untilAborted } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import type { Io } from '../io.js';

export interface DashboardCommandOptions {
  /** 0 picks a free port. @default 8090 */
  port: number;
  /** @default "127.0.0.1"; any other address requires $BULKTEXT_DASHBOARD_TOKEN */
  host: string;
  db?: string | undefined;
}

export async function dashboardCommand(o: DashboardCommandOptions, io: Io): Promise<number> {
  const ledgerPath = resolveDbPath(o.db, io.env, io.cwd);
  if (!existsSync(ledgerPath)) throw new AppError('ERR_RUN_NOT_FOUND', `no ledger at ${ledgerPath} (set --db or BULKTEXT_DB)`);
  const token = requiredToken(o.host, io.env[TOKEN_ENV]);
  const server = await startDashboard({ ledgerPath, port: o.port, host: o.host, token, hint: { db: o.db, program: programName(io.env) } });
  io.stdout(`dashboard on ${server.url}/ (read-only${token === undefined ? '' : `; sign in with $${TOKEN_ENV}`})\n`);
  try {
    await untilAborted(io.signal);
  } finally {
    await server.close();
  }
  return 0;
}

/** `--dashboard-port N` on run, resume and schedule: the dashboard on 127.0.0.1:N in a worker thread while the command lasts. */
export async function startSideDashboard(port: number | undefined, ledgerPath: string, db: string | undefined, io: Io): Promise<{ close(): Promise<void> } | undefined> {
  if (port === undefined) return undefined;
  const host = '127.0.0.1';
  const token = requiredToken(host, io.env[TOKEN_ENV]);
  const server = await startDashboardWorker({ ledgerPath, port, host, token, hint: { db, program: programName(io.env) } });
  io.stderr(`dashboard on ${server.url}/\n`);
  return server;
}
