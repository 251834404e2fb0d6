/**
 * The PostgreSQL ledger's connection: a node-postgres Pool from a postgres:// URL. The URL may carry a
 * password, so nothing here ever prints it: errors name the user, host, port and database (pgTarget).
 */
import pg from 'pg';
import { AppError } from '../../shared/errors.js';

/** A postgres:// (or postgresql://) URL: what selects the PostgreSQL ledger instead of a SQLite file. */
export function isPgUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** `user@host:port/db` of a URL, never its password (nor its query, which may carry one too). */
export function pgTarget(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The text itself may hold the secret: name nothing of it.
    throw new AppError('ERR_USAGE', 'the PostgreSQL URL is malformed (expected postgres://user[:password]@host[:port]/database)');
  }
  if (!isPgUrl(url)) throw new AppError('ERR_USAGE', `not a PostgreSQL URL (expected postgres://…): ${parsed.protocol}`);
  const user = parsed.username === '' ? '' : `${decodeURIComponent(parsed.username)}@`;
  const port = parsed.port === '' ? '' : `:${parsed.port}`;
  return `${user}${parsed.hostname}${port}${decodeURIComponent(parsed.pathname)}`;
}

export interface PgPoolOptions {
  /** Connections the pool may open. @default 10 */
  max?: number;
  /** How long to wait for a connection to be made. @default 10000 */
  connectTimeoutMs?: number;
  /** The driver's type parsers for this pool only (the ledger reads bigint columns as numbers). */
  types?: pg.CustomTypesConfig;
}

/**
 * A pool on `url`, checked with one round trip, so a wrong host, database or password fails here with
 * ERR_LEDGER_UNUSABLE naming the target (never the URL) rather than at the first write.
 */
export async function connectPg(url: string, options: PgPoolOptions = {}): Promise<pg.Pool> {
  const target = pgTarget(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    ...(options.types === undefined ? {} : { types: options.types }),
  });
  // An idle connection the server drops (restart, failover) is an 'error' event; unhandled, it would kill
  // the process. The pool discards that client; the next query opens a fresh one or fails with its own error.
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new AppError('ERR_LEDGER_UNUSABLE', `cannot connect to the PostgreSQL ledger ${target}: ${scrub((err as Error).message, url)}`, { cause: err });
  }
  return pool;
}

/** A driver message with the URL's password cut out, should a message ever echo it. */
export function scrub(message: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return message;
  }
  return password === '' ? message : message.split(password).join('***');
}
