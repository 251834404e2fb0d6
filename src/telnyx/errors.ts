/**
 * Typed errors for everything that can go wrong talking to Telnyx, and the one factory that turns an
 * HTTP error response into one (as telnyx-node's `APIError.generate` does). classify.ts decides what
 * each of them means for a send; these classes only carry the facts it needs.
 *
 * No error built here ever holds the API key or the Authorization header: the client keeps the key
 * to itself and redacts it from any response body before it reaches this file.
 */
import { AppError } from '../shared/errors.js';
import { errorBody, type TelnyxErrorObject } from './wire.js';

/** Response headers as undici hands them over: lower-case names. */
export type ResponseHeaders = Readonly<Record<string, string | string[] | undefined>>;

export interface RateLimitInfo {
  /** `x-ratelimit-limit`: requests allowed in the window. */
  readonly limit: number | undefined;
  /** `x-ratelimit-remaining`: requests left in the window. */
  readonly remaining: number | undefined;
  /** `x-ratelimit-reset`: seconds until the window resets. */
  readonly resetSeconds: number | undefined;
}

/**
 * Where a failed request got to. `connect`: undici never handed the request to a socket, so not one
 * byte reached Telnyx and a retry cannot duplicate. `after_write`: the request may have been written,
 * so Telnyx may have created the message.
 */
export type RequestPhase = 'connect' | 'after_write';

/** Longest body excerpt kept on an error whose body is not a Telnyx error document. */
const bodyExcerptLength = 200;

/** Telnyx answered with a non-2xx status. */
export class TelnyxApiError extends AppError {
  readonly status: number;
  /** Every error object of the body (empty when the body was not a Telnyx error document). */
  readonly errors: readonly TelnyxErrorObject[];
  /** True when the body was Telnyx's `{"errors":[…]}`: Telnyx itself (not a proxy) answered. */
  readonly hasTelnyxBody: boolean;
  /** `Retry-After`, in milliseconds from when the response arrived. */
  readonly retryAfterMs: number | undefined;
  /** The `x-ratelimit-*` headers; undefined when none was sent. */
  readonly rateLimit: RateLimitInfo | undefined;
  /** The start of a non-Telnyx body (an HTML error page from a proxy), for the log. */
  readonly bodyExcerpt: string | undefined;

  constructor(init: {
    status: number;
    errors: readonly TelnyxErrorObject[];
    hasTelnyxBody: boolean;
    retryAfterMs?: number | undefined;
    rateLimit?: RateLimitInfo | undefined;
    bodyExcerpt?: string | undefined;
  }) {
    super('ERR_TELNYX_API', describeApiError(init.status, init.errors, init.hasTelnyxBody), {
      details: { status: init.status, code: init.errors[0]?.code },
    });
    this.name = 'TelnyxApiError';
    this.status = init.status;
    this.errors = init.errors;
    this.hasTelnyxBody = init.hasTelnyxBody;
    this.retryAfterMs = init.retryAfterMs;
    this.rateLimit = init.rateLimit;
    this.bodyExcerpt = init.bodyExcerpt;
  }

  /** The first Telnyx error code, e.g. `"40310"`. */
  get firstCode(): string | undefined {
    return this.errors[0]?.code;
  }

  hasCode(code: string): boolean {
    return this.errors.some((e) => e.code === code);
  }
}

/** A socket-level failure (refused, reset, DNS, undici's own timeouts) — no HTTP response. */
export class TelnyxNetworkError extends AppError {
  /** undici's or the OS's code: `ECONNREFUSED`, `UND_ERR_SOCKET`, `UND_ERR_HEADERS_TIMEOUT`, … */
  readonly causeCode: string | undefined;
  readonly phase: RequestPhase;

  constructor(init: { causeCode: string | undefined; phase: RequestPhase; method: string; path: string; cause: unknown }) {
    const what = init.phase === 'connect' ? 'before the request was sent' : 'after the request may have been sent';
    super('ERR_TELNYX_NETWORK', `Telnyx ${init.method} ${init.path} failed ${what}: ${init.causeCode ?? describeCause(init.cause)}`, {
      cause: init.cause,
      details: { causeCode: init.causeCode, phase: init.phase },
    });
    this.name = 'TelnyxNetworkError';
    this.causeCode = init.causeCode;
    this.phase = init.phase;
  }
}

/** Why a request was cut short by us rather than by the network. */
export type AbortKind = 'timeout' | 'aborted';

/** Our per-request timeout fired, or the caller's signal aborted the request. */
export class TelnyxAbortedError extends AppError {
  readonly reason: AbortKind;
  readonly phase: RequestPhase;
  /** The timeout that fired, for `reason: 'timeout'`. */
  readonly timeoutMs: number | undefined;

  constructor(init: { reason: AbortKind; phase: RequestPhase; method: string; path: string; timeoutMs?: number; cause?: unknown }) {
    const what =
      init.reason === 'timeout' ? `timed out after ${init.timeoutMs ?? '?'} ms` : 'was aborted by the caller';
    const when = init.phase === 'connect' ? 'before it was sent' : 'after it may have been sent';
    super('ERR_TELNYX_ABORTED', `Telnyx ${init.method} ${init.path} ${what} ${when}`, {
      cause: init.cause,
      details: { reason: init.reason, phase: init.phase, timeoutMs: init.timeoutMs },
    });
    this.name = 'TelnyxAbortedError';
    this.reason = init.reason;
    this.phase = init.phase;
    this.timeoutMs = init.timeoutMs;
  }
}

/**
 * A 2xx whose body is not the expected document. For a send this is in doubt: Telnyx said yes, so the
 * message may well exist, but we cannot read its id.
 */
export class TelnyxResponseInvalidError extends AppError {
  readonly status: number;
  readonly bodyExcerpt: string;

  constructor(init: { status: number; reason: string; bodyText: string; cause?: unknown }) {
    super('ERR_TELNYX_RESPONSE_INVALID', `Telnyx answered ${init.status} with an unreadable body: ${init.reason}`, {
      cause: init.cause,
      details: { status: init.status },
    });
    this.name = 'TelnyxResponseInvalidError';
    this.status = init.status;
    this.bodyExcerpt = init.bodyText.slice(0, bodyExcerptLength);
  }
}

/**
 * The client refused to send a request that cannot succeed as built (e.g. a group MMS with more than
 * eight recipients). Nothing was sent.
 */
export class TelnyxRequestInvalidError extends AppError {
  constructor(message: string) {
    super('ERR_TELNYX_REQUEST_INVALID', message);
    this.name = 'TelnyxRequestInvalidError';
  }
}

/**
 * Builds the typed error for a non-2xx response. `bodyText` is the raw body (already redacted by the
 * caller); `now` is only for an HTTP-date `Retry-After`.
 */
export function telnyxErrorFromResponse(
  status: number,
  headers: ResponseHeaders,
  bodyText: string,
  now: number = Date.now(),
): TelnyxApiError {
  const parsed = parseErrorBody(bodyText);
  return new TelnyxApiError({
    status,
    errors: parsed ?? [],
    hasTelnyxBody: parsed !== undefined,
    retryAfterMs: parseRetryAfter(header(headers, 'retry-after'), now),
    rateLimit: parseRateLimit(headers, now),
    bodyExcerpt: parsed === undefined && bodyText.length > 0 ? bodyText.slice(0, bodyExcerptLength) : undefined,
  });
}

function parseErrorBody(bodyText: string): TelnyxErrorObject[] | undefined {
  if (bodyText.length === 0) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch {
    return undefined;
  }
  const result = errorBody.safeParse(json);
  return result.success ? result.data.errors : undefined;
}

function header(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). Returns milliseconds,
 * never negative; undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // HTTP-date (IMF-fixdate and the obsolete forms) starts with a day name; Date.parse alone would
  // also read "-3" or "2026" as dates.
  if (!/^[A-Za-z]{3}/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Epoch seconds are ~1.7e9; a reset window is at most a day. A value this large can only be an
 * absolute time, which some gateways send instead of the documented delta.
 */
const epochThresholdSeconds = 1_000_000_000;

function parseRateLimit(headers: ResponseHeaders, now: number): RateLimitInfo | undefined {
  const limit = parseNumber(header(headers, 'x-ratelimit-limit'));
  const remaining = parseNumber(header(headers, 'x-ratelimit-remaining'));
  let resetSeconds = parseNumber(header(headers, 'x-ratelimit-reset'));
  if (limit === undefined && remaining === undefined && resetSeconds === undefined) return undefined;
  if (resetSeconds !== undefined && resetSeconds > epochThresholdSeconds) {
    resetSeconds = Math.max(0, resetSeconds - now / 1000);
  }
  return { limit, remaining, resetSeconds };
}

function parseNumber(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function describeApiError(status: number, errors: readonly TelnyxErrorObject[], hasTelnyxBody: boolean): string {
  const first = errors[0];
  if (!hasTelnyxBody || first === undefined) return `Telnyx ${status} without a Telnyx error body`;
  const detail = first.detail !== undefined && first.detail !== '' && first.detail !== first.title ? `: ${first.detail}` : '';
  const more = errors.length > 1 ? ` (+${errors.length - 1} more)` : '';
  return `Telnyx ${status} ${first.code} ${first.title}${detail}${more}`;
}

/** An error's message, or the thrown value as text. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}
