/**
 * Who may read the dashboard. On a loopback address anyone on the machine already can read the ledger
 * file, so no token is needed (one is still checked when set). Any other address serves the campaign's
 * recipients to a network: a token is required, compared in constant time, and given either as
 * `Authorization: Bearer …` (scripts) or once in a login form that sets an HttpOnly cookie (browsers).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AppError } from '../shared/errors.js';

export const TOKEN_ENV = 'BULKTEXT_DASHBOARD_TOKEN';
export const COOKIE_NAME = 'bulktext_dashboard';

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The token the dashboard requires, or undefined when it requires none.
 * @throws AppError ERR_USAGE for a non-loopback host without a token, or a token too short to resist guessing
 */
export function requiredToken(host: string, token: string | undefined): string | undefined {
  const t = token === undefined || token === '' ? undefined : token;
  if (t === undefined && !isLoopback(host)) {
    throw new AppError('ERR_USAGE', `the dashboard on ${host} would be open to the network: set ${TOKEN_ENV} to a secret of 16 or more characters`);
  }
  if (t !== undefined && t.length < 16) throw new AppError('ERR_USAGE', `${TOKEN_ENV} is too short: use 16 or more characters`);
  return t;
}

/** Equal-length digests, so the comparison takes the same time whatever the guess. */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** Whether the request carries the token (header or cookie). */
export function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const auth = req.headers.authorization;
  const bearer = auth !== undefined && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
  const given = bearer ?? cookieValue(req.headers.cookie, COOKIE_NAME);
  return given !== undefined && tokenMatches(given, token);
}

/** The cookie a successful login sets: unreadable by scripts, never sent cross-site. */
export function loginCookie(token: string): string {
  return `${COOKIE_NAME}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
}
