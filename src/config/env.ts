/** Environment variables bulktext reads, parsed in one place. */
import path from 'node:path';
import { AppError } from '../shared/errors.js';

export const DEFAULT_BASE_URL = 'https://api.telnyx.com/v2';
export const DEFAULT_DB = 'bulktext.db';

type Env = Readonly<Record<string, string | undefined>>;

/** `--db` wins, then BULKTEXT_DB, then ./bulktext.db. */
export function resolveDbPath(option: string | undefined, env: Env, cwd: string): string {
  return path.resolve(cwd, option ?? (env.BULKTEXT_DB || DEFAULT_DB));
}

/** The API key, required for real sends. The value is never echoed anywhere. */
export function requireApiKey(env: Env): string {
  const key = env.TELNYX_API_KEY?.trim();
  if (key === undefined || key === '') {
    throw new AppError('ERR_ENV_MISSING', 'TELNYX_API_KEY is not set (or empty): export your Telnyx API v2 key, or use --sandbox to run against the built-in simulator');
  }
  return key;
}

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
