/**
 * `bulktext doctor`: checks what a real run needs, one line each — ok, or what to do. Nothing is sent and
 * nothing is created; the API key is checked and used but never shown. Exit 0 when every check passes.
 */
import { constants, accessSync, existsSync } from 'node:fs';
import path from 'node:path';
import { requireApiKey, resolveBaseUrl, resolveDbPath } from '../../config/env.js';
import { describeError, isAppError } from '../../shared/errors.js';
import { createTelnyxClient } from '../../telnyx/client.js';
import { TelnyxApiError, TelnyxNetworkError } from '../../telnyx/errors.js';
import { parsePublicKey } from '../../webhooks/verify.js';
import { ExitCode } from '../exit-codes.js';
import { shellQuote } from '../../shared/command-line.js';
import type { Io } from '../io.js';

export interface DoctorOptions {
  db?: string | undefined;
  /** How long the API may take to answer, ms. @default 5000 */
  timeoutMs?: number | undefined;
}

/** `fail` makes doctor exit non-zero; `skip` is something only some uses need (receiving webhooks). */
type Verdict = 'ok' | 'fail' | 'skip';
interface Check {
  verdict: Verdict;
  line: string;
}

/** The oldest Node the package supports (package.json `engines`). */
const minimumNode = [20, 19, 0] as const;

/** A message id Telnyx cannot have: asking for it costs nothing and proves who answers, and whether the key is accepted. */
const probeId = '00000000-0000-4000-8000-000000000000';

function checkNode(version: string): Check {
  const parts = version.split('.').map(Number);
  const older = minimumNode.findIndex((n, i) => (parts[i] ?? 0) !== n);
  const ok = older === -1 || (parts[older] ?? 0) > minimumNode[older]!;
  const needs = minimumNode.join('.');
  return ok
    ? { verdict: 'ok', line: `Node.js ${version} (needs ${needs} or newer)` }
    : { verdict: 'fail', line: `Node.js ${version} is too old: install Node.js ${needs} or newer (https://nodejs.org)` };
}

async function checkSqlite(): Promise<Check> {
  // Loaded here, not at the top: a binary that does not load must become this line, not a crash.
  const native = await import('../../ledger/native-check.js');
  try {
    const found = native.checkNativeSqlite();
    return { verdict: 'ok', line: `better-sqlite3 ${found.driver} loads (SQLite ${found.sqlite})` };
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return {
      verdict: 'fail',
      line:
        `better-sqlite3's native module does not load (${reason}): build it with \`cd ${shellQuote(native.sqliteDriverDir())} && npm run build-release\` ` +
        '(compiles from source: needs python3, make and g++), or reinstall bulktext with its install script allowed (see the README)',
    };
  }
}

function checkLedger(dbPath: string): Check {
  const exists = existsSync(dbPath);
  // SQLite writes -wal and -shm files next to the ledger, so its directory must be writable too.
  const dir = path.dirname(dbPath);
  try {
    accessSync(dir, constants.W_OK);
    if (exists) accessSync(dbPath, constants.R_OK | constants.W_OK);
  } catch {
    return { verdict: 'fail', line: `ledger ${dbPath}: ${exists ? 'the file or ' : ''}its directory is missing or not writable: pass --db PATH or set BULKTEXT_DB to a writable place` };
  }
  return { verdict: 'ok', line: `ledger ${dbPath}: ${exists ? 'exists and is writable' : 'can be created'}` };
}

function checkApiKey(env: Io['env']): { check: Check; key: string | undefined } {
  let key: string;
  try {
    key = requireApiKey(env);
  } catch {
    return {
      check: { verdict: 'fail', line: 'TELNYX_API_KEY is not set: export TELNYX_API_KEY=<your Telnyx API v2 key> (runs with --sandbox need none)' },
      key: undefined,
    };
  }
  // The value goes into an Authorization header: only visible ASCII survives that unchanged.
  if (!/^[\x21-\x7e]+$/.test(key)) {
    return { check: { verdict: 'fail', line: 'TELNYX_API_KEY has spaces or characters an HTTP header cannot carry: copy the key again' }, key: undefined };
  }
  return { check: { verdict: 'ok', line: 'TELNYX_API_KEY is set (not shown)' }, key };
}

async function checkApi(env: Io['env'], key: string | undefined, timeoutMs: number): Promise<Check> {
  let baseUrl: string;
  try {
    baseUrl = resolveBaseUrl(env);
  } catch (err) {
    return { verdict: 'fail', line: describeError(err) };
  }
  if (key === undefined) return { verdict: 'skip', line: `${baseUrl}: not checked without a usable TELNYX_API_KEY` };
  const client = createTelnyxClient({ apiKey: key, baseUrl, connections: 1, timeoutMs });
  try {
    await client.retrieve(probeId);
    return { verdict: 'ok', line: `${baseUrl} answers and accepts the key` };
  } catch (err) {
    if (err instanceof TelnyxApiError && err.hasTelnyxBody && err.status === 404) {
      return { verdict: 'ok', line: `${baseUrl} answers and accepts the key` };
    }
    if (err instanceof TelnyxApiError && err.status === 401) {
      return { verdict: 'fail', line: `${baseUrl} answers but refuses the key (401): check TELNYX_API_KEY` };
    }
    if (err instanceof TelnyxApiError && !err.hasTelnyxBody) {
      return { verdict: 'fail', line: `${baseUrl} answered HTTP ${err.status}, not as Telnyx does: set TELNYX_BASE_URL to the API v2 root (default https://api.telnyx.com/v2)` };
    }
    if (err instanceof TelnyxNetworkError) {
      return { verdict: 'fail', line: `${baseUrl} does not answer (${err.message}): check TELNYX_BASE_URL and the network` };
    }
    return { verdict: 'fail', line: `${baseUrl}: ${isAppError(err) ? err.message : describeError(err)}` };
  } finally {
    await client.close().catch(() => {});
  }
}

function checkPublicKey(env: Io['env']): Check {
  const key = env.TELNYX_PUBLIC_KEY?.trim();
  if (key === undefined || key === '') {
    return { verdict: 'skip', line: 'TELNYX_PUBLIC_KEY is not set: needed only to receive delivery receipts (bulktext webhooks, --webhooks-port)' };
  }
  try {
    parsePublicKey(key);
    return { verdict: 'ok', line: 'TELNYX_PUBLIC_KEY parses (an Ed25519 public key)' };
  } catch (err) {
    return { verdict: 'fail', line: `TELNYX_PUBLIC_KEY: ${describeError(err)}` };
  }
}

const label: Readonly<Record<Verdict, string>> = { ok: 'ok  ', fail: 'FAIL', skip: '-   ' };

export async function doctorCommand(o: DoctorOptions, io: Pick<Io, 'stdout' | 'env' | 'cwd'>, nodeVersion: string): Promise<number> {
  const { check: keyCheck, key } = checkApiKey(io.env);
  const checks = [
    checkNode(nodeVersion),
    await checkSqlite(),
    checkLedger(resolveDbPath(o.db, io.env, io.cwd)),
    keyCheck,
    await checkApi(io.env, key, o.timeoutMs ?? 5000),
    checkPublicKey(io.env),
  ];
  for (const c of checks) io.stdout(`${label[c.verdict]}  ${c.line}\n`);
  const failed = checks.filter((c) => c.verdict === 'fail').length;
  io.stdout(failed === 0 ? 'everything a real run needs is in place\n' : `${failed} check(s) failed\n`);
  return failed === 0 ? ExitCode.ok : ExitCode.usage;
}
