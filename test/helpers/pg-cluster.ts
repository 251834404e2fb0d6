/**
 * A throwaway PostgreSQL cluster for the tests: initdb into a fresh temp folder, `postgres` on a free port
 * of 127.0.0.1 (its unix socket in that folder), trust auth, stopped with a fast shutdown and removed after.
 * PostgreSQL refuses to run as root, so when the tests run as root the server runs as the `postgres` user
 * (else `nobody`); otherwise as the current user. One cluster serves the whole vitest run (pg-global-setup.ts);
 * each test file takes its own database from it with `createDatabase()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { freePort } from './net.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** postgres://…/postgres of the run's throwaway cluster (superuser, trust auth, 127.0.0.1 only). */
    pgAdminUrl: string;
  }
}

export const installHint =
  'PostgreSQL server binaries (initdb, postgres) not found on PATH or in /usr/lib/postgresql/*/bin: the tests start a throwaway cluster. Install them: apt-get install postgresql (.ci/run does)';

/** The folder holding initdb and postgres: PATH first, then the highest /usr/lib/postgresql/<version>/bin. */
export function findPgBin(searchPath = process.env.PATH ?? '', versionsRoot = '/usr/lib/postgresql'): string {
  const onPath = searchPath.split(path.delimiter).filter((d) => d !== '');
  const versions = existsSync(versionsRoot)
    ? readdirSync(versionsRoot)
        .filter((v) => /^\d+(\.\d+)?$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
        .map((v) => path.join(versionsRoot, v, 'bin'))
    : [];
  const found = [...onPath, ...versions].find((d) => existsSync(path.join(d, 'initdb')) && existsSync(path.join(d, 'postgres')));
  if (found === undefined) throw new Error(installHint);
  return found;
}

/** Who runs the server: a non-root user (the `postgres` account, else `nobody`) when we are root, else us. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':'));
  for (const name of ['postgres', 'nobody']) {
    const entry = passwd.find((f) => f[0] === name);
    if (entry !== undefined) return { uid: Number(entry[2]), gid: Number(entry[3]) };
  }
  throw new Error('the tests run as root and there is neither a postgres nor a nobody user to run PostgreSQL as');
}

/** Runs a command to completion (as `user`), killed after `timeoutMs`; rejects with its output when it fails. */
function run(command: string, args: string[], user: { uid: number; gid: number } | undefined, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, ...(user ?? {}) });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(command)} failed (${signal ?? `exit ${code}`}): ${output}`)),
    );
  });
}

export interface PgCluster {
  readonly port: number;
  readonly dir: string;
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly adminUrl: string;
  stop(): Promise<void>;
}

/** Waits (at most `timeoutMs`) until the server accepts a connection and answers a query. */
async function waitUntilReady(url: string, server: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) throw new Error(`postgres exited while starting: ${log()}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections within ${timeoutMs} ms: ${(err as Error).message}; ${log()}`);
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** initdb + postgres on a free 127.0.0.1 port; resolves once it accepts connections (at most ~90 s in all). */
export async function startPgCluster(): Promise<PgCluster> {
  const bin = findPgBin();
  const user = serverUser();
  const dir = mkdtempSync(path.join(tmpdir(), 'bulktext-pg-'));
  try {
    if (user !== undefined) chownSync(dir, user.uid, user.gid);
    const data = path.join(dir, 'data');
    await run(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'], user, 60_000);
    const port = await freePort();
    // A test cluster: durability is not what is tested, so no fsync; nothing but 127.0.0.1 and the folder's socket.
    const server = spawn(
      path.join(bin, 'postgres'),
      ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off',
        '-c', 'full_page_writes=off', '-c', 'max_connections=200'],
      { stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) },
    );
    let log = '';
    const keep = (d: Buffer) => (log = (log + d.toString()).slice(-4_000));
    server.stdout!.on('data', keep);
    server.stderr!.on('data', keep);
    const exited = new Promise<void>((resolve) => server.on('close', () => resolve()));
    // A vitest that dies without its teardown must not leave a server behind.
    const onExit = () => server.kill('SIGINT');
    process.on('exit', onExit);
    const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const stop = async () => {
      process.off('exit', onExit);
      if (server.exitCode === null && server.signalCode === null) {
        server.kill('SIGINT'); // fast shutdown: roll back open transactions, disconnect, stop
        const killer = setTimeout(() => server.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      await waitUntilReady(adminUrl, server, () => log, 30_000);
    } catch (err) {
      await stop();
      throw err;
    }
    return { port, dir, adminUrl, stop };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A fresh, empty database in the run's cluster, as a postgres:// URL (one per test file, or per test). */
export async function createDatabase(): Promise<string> {
  const admin = inject('pgAdminUrl') as string | undefined;
  // Without the run's cluster, pg would fall back to localhost:5432: whatever server that is, not ours.
  if (admin === undefined) throw new Error('no test cluster: vitest.config.ts must list test/helpers/pg-global-setup.ts in globalSetup');
  const name = `t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 10_000, statement_timeout: 30_000 });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}
