/** Environment variables bulktext reads, parsed in one place. */
import path from 'node:path';
import { AppError } from '../shared/errors.js';

export const DEFAULT_BASE_URL = 'https://api.telnyx.com/v2';
export const DEFAULT_DB = 'bulktext.db';

type Env = Readonly<Record<string, string | undefined>>;

/** `scheme://…`: a database URL (postgres://user:password@host/db), not a file path. */
const URL_FORM = /^[a-z][a-z0-9+.-]*:\/\//i;

/** The commands that take a PostgreSQL ledger (`--db postgres://…`); every other one needs a SQLite file. */
export const PG_COMMANDS = ['run', 'resume', 'status', 'cancel', 'worker', 'migrate-ledger'] as const;

/** Where the ledger is: a SQLite file's absolute path, or a PostgreSQL URL (which may hold a password: never print it). */
export type LedgerLocation = { kind: 'file'; path: string } | { kind: 'pg'; url: string };

/**
 * `--db` wins, then BULKTEXT_DB, then ./bulktext.db: a postgres:// URL selects the PostgreSQL ledger. Any
 * other URL is refused without being repeated (it may hold a password).
 */
export function resolveLedgerLocation(option: string | undefined, env: Env, cwd: string): LedgerLocation {
  const chosen = option ?? (env.BULKTEXT_DB || DEFAULT_DB);
  if (/^postgres(ql)?:\/\//i.test(chosen)) return { kind: 'pg', url: chosen };
  if (URL_FORM.test(chosen)) {
    throw new AppError(
      'ERR_USAGE',
      `${option === undefined ? 'BULKTEXT_DB' : '--db'} holds a URL (not shown: it may hold a password) that is neither a ledger file nor postgres://…`,
    );
  }
  return { kind: 'file', path: path.resolve(cwd, chosen) };
}

/**
 * The SQLite ledger's path, for the commands that take no PostgreSQL ledger yet. A URL there is refused
 * without being repeated: it may hold a password, and read as a path it would be printed back in "no ledger at …".
 */
export function resolveDbPath(option: string | undefined, env: Env, cwd: string): string {
  const where = resolveLedgerLocation(option, env, cwd);
  if (where.kind === 'pg') {
    throw new AppError(
      'ERR_USAGE',
      `${option === undefined ? 'BULKTEXT_DB' : '--db'} holds a database URL (not shown: it may hold a password), not the path of a ledger file: ` +
        `only ${PG_COMMANDS.map((c) => `\`bulktext ${c}\``).join(', ')} take a PostgreSQL ledger so far; give this command --db the path of a SQLite ledger`,
    );
  }
  return where.path;
}

/** The URL without its password (nor a `password` query parameter): safe to print, and to paste where PGPASSWORD or ~/.pgpass supplies it. */
export function withoutPassword(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'postgres://…';
  }
  parsed.password = '';
  parsed.searchParams.delete('password');
  return parsed.toString();
}

/** The API key, required for real sends. The value is never echoed anywhere. */
export function requireApiKey(env: Env): string {
  const key = env.TELNYX_API_KEY?.trim();
  if (key === undefined || key === '') {
    throw new AppError('ERR_ENV_MISSING', 'TELNYX_API_KEY is not set (or empty): export your Telnyx API v2 key, or use --sandbox to run against the built-in simulator');
  }
  const problem = apiKeyProblem(key);
  if (problem !== undefined) {
    throw new AppError('ERR_USAGE', `TELNYX_API_KEY cannot be sent in an HTTP header: ${problem}. Copy the key again from the Telnyx portal`);
  }
  return key;
}

/**
 * Why a key cannot travel in `Authorization: Bearer <key>`, or undefined. undici refuses such a header
 * on every attempt, so without this check each row would fail locally after its retries. The answer
 * names the position and the offending character, never the key.
 */
export function apiKeyProblem(key: string): string | undefined {
  const chars = [...key];
  for (const [i, ch] of chars.entries()) {
    const c = ch.codePointAt(0)!;
    const at = `character ${i + 1} of ${chars.length}`;
    if (c === 0x20 || c === 0x09 || c === 0xa0) return `${at} is whitespace`;
    // Visible ASCII and Latin-1's visible half are all a header value may carry (C0/C1 controls and DEL are not).
    if (c < 0x21 || c === 0x7f || (c >= 0x80 && c <= 0x9f)) return `${at} is a control character (U+${hex(c)})`;
    if (c > 0xff) return `${at} (U+${hex(c)}) is not a Latin-1 character`;
  }
  return undefined;
}

const hex = (c: number) => c.toString(16).toUpperCase().padStart(4, '0');

/** TELNYX_BASE_URL (the variable the official SDK reads too), else Telnyx's production API. */
export function resolveBaseUrl(env: Env): string {
  const raw = env.TELNYX_BASE_URL?.trim();
  if (raw === undefined || raw === '') return DEFAULT_BASE_URL;
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new AppError('ERR_USAGE', `TELNYX_BASE_URL is not an http(s) URL: ${raw}`);
  }
  return raw.replace(/\/+$/, '');
}
