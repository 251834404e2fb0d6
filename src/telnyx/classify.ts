/**
 * What a failed send means — the heart of "never text anyone twice". Pure: it reads only the error.
 *
 * Telnyx has no idempotency key for /messages and no lookup by recipient, so the one question that
 * matters is whether Telnyx may have created the message. Only two things prove it did not: the
 * request never left us (connect phase), or Telnyx refused it for a reason that is decided before a
 * message exists (4xx, 429, 503). Everything else — a reset after the body was written, any other 5xx
 * (a Telnyx error body does not prove the failure came before the message was created), a 2xx without
 * a message id, an error we do not recognise — is `in_doubt` and is never retried automatically.
 *
 * The policy is the ordered rule lists below: the first rule that matches decides, and its `why` is
 * the reason. The unit test asserts the whole table.
 */
import {
  TelnyxAbortedError,
  TelnyxApiError,
  TelnyxNetworkError,
  TelnyxRequestInvalidError,
  TelnyxResponseInvalidError,
} from './errors.js';
import { TelnyxCode } from './wire.js';

export type OutcomeKind = 'accepted' | 'rejected' | 'fatal' | 'throttled' | 'retryable' | 'unreachable' | 'in_doubt';

export interface SendFailure {
  /**
   * - `fatal`: nothing in this run can succeed (auth, funds, spend limit, wrong URL, a request that
   *   cannot be built); nothing was created; stop the run, rows stay pending, resumable.
   * - `throttled`: Telnyx refused for rate; nothing was created; slow down and retry, without limit.
   * - `rejected`: this message can never succeed as sent; nothing was created; fail the row.
   * - `retryable`: surely not created (503, or cut short before it was written); retry with backoff.
   * - `unreachable`: the API could not be reached, nothing was written (refused, DNS, TLS, connect
   *   timeout); retry, and stop the run when it lasts.
   * - `in_doubt`: may have been created; never resend automatically.
   */
  kind: Exclude<OutcomeKind, 'accepted'>;
  /** The Telnyx error code (`"40310"`) or the socket error code (`"ECONNRESET"`). */
  code?: string;
  detail: string;
  /** How long to wait before the next try, when the server said so. */
  retryAfterMs?: number;
  status?: number;
}

type FailureKind = SendFailure['kind'];

/** Codes that mean every request of this run would fail the same way. */
const fatalCodes: ReadonlySet<string> = new Set([
  TelnyxCode.authFailed,
  TelnyxCode.notAuthorized,
  TelnyxCode.profileDisabled,
  TelnyxCode.messagingDisabled,
  TelnyxCode.insufficientFunds,
  TelnyxCode.accountInactive,
  TelnyxCode.spendLimit,
]);

/** A rule of the policy: the first whose `when` holds decides the kind; `why` is the one-line reason. */
interface Rule<E> {
  when: (err: E) => boolean;
  kind: FailureKind;
  why: string;
}

/** Telnyx (or something in front of it) answered with a non-2xx status. */
export const apiRules: readonly Rule<TelnyxApiError>[] = [
  { when: (e) => e.errors.some((x) => fatalCodes.has(x.code)), kind: 'fatal', why: 'auth, funds, spend limit or messaging disabled: every request would fail' },
  { when: (e) => e.status === 401 || e.status === 402, kind: 'fatal', why: 'not authenticated or not paid for: every request would fail' },
  { when: (e) => e.status === 404, kind: 'fatal', why: 'a send endpoint that does not exist is a wrong URL: every request would fail' },
  { when: (e) => e.status === 429, kind: 'throttled', why: 'refused for rate (10011, 40318) before any message exists' },
  { when: (e) => e.status >= 400 && e.status < 500 && e.hasTelnyxBody, kind: 'rejected', why: 'Telnyx judged this message and refused it' },
  { when: (e) => e.status >= 400 && e.status < 500, kind: 'fatal', why: 'a 4xx not from Telnyx (proxy, WAF, wrong URL) meets every row; a 4xx creates nothing' },
  { when: (e) => e.status === 503, kind: 'retryable', why: 'the service refused the request before handling it' },
  { when: (e) => e.status >= 500, kind: 'in_doubt', why: 'a server error, even with a Telnyx body, may come after the message was created' },
  { when: () => true, kind: 'in_doubt', why: 'a 1xx/3xx answer to a send says nothing we can read' },
];

/**
 * Connect-phase codes that mean the API cannot be reached from here: connection refused, DNS, routing,
 * connect timeout, TLS. Nothing was written; the dispatcher stops the run when they last.
 */
const unreachableCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const tlsCode = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_)|SELF_SIGNED/;

/** Codes of a request that failed here before any byte was written: every request would fail alike. */
const localCodes: ReadonlySet<string> = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_CHAR',
  'ERR_INVALID_HTTP_TOKEN',
  'ERR_HTTP_INVALID_HEADER_VALUE',
]);

const isUnreachable = (code: string | undefined) => code !== undefined && (unreachableCodes.has(code) || tlsCode.test(code));

/** No HTTP answer: a socket-level failure. */
export const networkRules: readonly Rule<TelnyxNetworkError>[] = [
  { when: (e) => e.phase === 'after_write', kind: 'in_doubt', why: 'the request may have been written: Telnyx may have created the message' },
  { when: (e) => e.causeCode !== undefined && localCodes.has(e.causeCode), kind: 'fatal', why: 'the request could not be built here (e.g. a bad header): every request would fail' },
  { when: (e) => isUnreachable(e.causeCode), kind: 'unreachable', why: 'the API could not be reached; nothing was written' },
  { when: () => true, kind: 'retryable', why: 'failed before the request was written' },
];

/** Our own timeout or the caller's abort. */
export const abortRules: readonly Rule<TelnyxAbortedError>[] = [
  { when: (e) => e.phase === 'after_write', kind: 'in_doubt', why: 'cut short after the request may have been written' },
  { when: (e) => e.reason === 'timeout', kind: 'unreachable', why: 'no connection within the timeout; nothing was written' },
  { when: () => true, kind: 'retryable', why: 'aborted before the request was written' },
];

function decide<E>(rules: readonly Rule<E>[], err: E): FailureKind {
  for (const rule of rules) if (rule.when(err)) return rule.kind;
  return 'in_doubt';
}

export function classifySendError(err: unknown): SendFailure {
  if (err instanceof TelnyxApiError) {
    const kind = decide(apiRules, err);
    const code = (kind === 'fatal' ? err.errors.find((x) => fatalCodes.has(x.code))?.code : undefined) ?? err.firstCode;
    const failure = withCode({ kind, detail: err.message, status: err.status }, code);
    if (kind === 'throttled') return withRetryAfter(failure, throttleWaitMs(err));
    if (kind === 'retryable') return withRetryAfter(failure, err.retryAfterMs);
    return failure;
  }
  if (err instanceof TelnyxNetworkError) return withCode({ kind: decide(networkRules, err), detail: err.message }, err.causeCode);
  if (err instanceof TelnyxAbortedError) return { kind: decide(abortRules, err), detail: err.message };
  // A 2xx without a readable message id: the message probably exists, we cannot tell which.
  if (err instanceof TelnyxResponseInvalidError) return { kind: 'in_doubt', detail: err.message, status: err.status };
  // Refused by the client before anything was sent.
  if (err instanceof TelnyxRequestInvalidError) return { kind: 'rejected', detail: err.message };
  // Anything unrecognised may have happened after the write.
  return { kind: 'in_doubt', detail: err instanceof Error ? err.message : String(err) };
}

/** Retry-After first, then the rate-limit window reset; undefined lets the caller back off. */
function throttleWaitMs(err: TelnyxApiError): number | undefined {
  if (err.retryAfterMs !== undefined) return err.retryAfterMs;
  const reset = err.rateLimit?.resetSeconds;
  return reset === undefined ? undefined : Math.round(reset * 1000);
}

// exactOptionalPropertyTypes: optional fields are left out rather than set to undefined.
function withCode(failure: SendFailure, code: string | undefined): SendFailure {
  if (code !== undefined) failure.code = code;
  return failure;
}

function withRetryAfter(failure: SendFailure, ms: number | undefined): SendFailure {
  if (ms !== undefined) failure.retryAfterMs = ms;
  return failure;
}

/** True when `err` is a Telnyx API error carrying `code` in any of its error objects. */
export function isTelnyxCode(err: unknown, code: string): boolean {
  return err instanceof TelnyxApiError && err.hasCode(code);
}
