/**
 * What a failed send means — the heart of "never text anyone twice". Pure: it reads only the error.
 *
 * Telnyx has no idempotency key for /messages and no lookup by recipient, so the one question that
 * matters is whether Telnyx may have created the message. Only two things prove it did not: the
 * request never left us (connect phase), or Telnyx itself answered with a refusal. Everything else —
 * a reset after the body was written, a proxy's 502/504, a 2xx we cannot read, an error we do not
 * recognise — is `in_doubt` and is never retried automatically.
 */
import {
  TelnyxAbortedError,
  TelnyxApiError,
  TelnyxNetworkError,
  TelnyxRequestInvalidError,
  TelnyxResponseInvalidError,
} from './errors.js';
import { TelnyxCode } from './wire.js';

export type OutcomeKind = 'accepted' | 'rejected' | 'fatal' | 'throttled' | 'retryable' | 'in_doubt';

export interface SendFailure {
  /**
   * - `fatal`: nothing in this run can succeed (auth, funds, spend limit); stop, resumable later.
   * - `throttled`: Telnyx refused for rate; nothing was created; wait and retry, slower.
   * - `rejected`: this message can never succeed as sent; nothing was created; fail the row.
   * - `retryable`: surely not created; retry with backoff.
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

/**
 * Statuses at which the answer may come from a gateway that had already forwarded the request
 * (502 bad gateway, 504 gateway timeout): whatever the body says, Telnyx may have created the message.
 */
const gatewayStatuses: ReadonlySet<number> = new Set([502, 504]);

export function classifySendError(err: unknown): SendFailure {
  if (err instanceof TelnyxApiError) return classifyApiError(err);

  if (err instanceof TelnyxNetworkError) {
    return withCode(
      { kind: err.phase === 'connect' ? 'retryable' : 'in_doubt', detail: err.message },
      err.causeCode,
    );
  }

  if (err instanceof TelnyxAbortedError) {
    // Aborted or timed out before undici handed the request to a socket: nothing reached Telnyx.
    return { kind: err.phase === 'connect' ? 'retryable' : 'in_doubt', detail: err.message };
  }

  if (err instanceof TelnyxResponseInvalidError) {
    // Telnyx said 2xx: the message probably exists, we just cannot read its id.
    return { kind: 'in_doubt', detail: err.message, status: err.status };
  }

  if (err instanceof TelnyxRequestInvalidError) {
    // Refused by the client before anything was sent.
    return { kind: 'rejected', detail: err.message };
  }

  return { kind: 'in_doubt', detail: err instanceof Error ? err.message : String(err) };
}

function classifyApiError(err: TelnyxApiError): SendFailure {
  const { status } = err;
  const base = { detail: err.message, status };
  const fatalCode = err.errors.find((e) => fatalCodes.has(e.code))?.code;

  if (fatalCode !== undefined) return { kind: 'fatal', code: fatalCode, ...base };
  if (status === 401 || status === 402) return withCode({ kind: 'fatal', ...base }, err.firstCode);

  if (status === 429) {
    return withRetryAfter(withCode({ kind: 'throttled', ...base }, err.firstCode), throttleWaitMs(err));
  }

  if (status >= 400 && status < 500) {
    // Telnyx judged this message. Without Telnyx's error body the 4xx comes from infrastructure in
    // front of it (wrong base URL, a proxy, a WAF): every row would meet it, and failing rows for good
    // would lose them, so stop the run instead. A 4xx never creates a message, so stopping is safe.
    if (err.hasTelnyxBody) return withCode({ kind: 'rejected', ...base }, err.firstCode);
    return { kind: 'fatal', ...base };
  }

  if (status >= 500) {
    if (gatewayStatuses.has(status)) return withCode({ kind: 'in_doubt', ...base }, err.firstCode);
    // 503: the service refused the request. Any other 5xx with Telnyx's own error body: Telnyx's API
    // layer reported the failure itself, so no message was created.
    if (status === 503 || err.hasTelnyxBody) {
      return withRetryAfter(withCode({ kind: 'retryable', ...base }, err.firstCode), err.retryAfterMs);
    }
    return { kind: 'in_doubt', ...base };
  }

  // 1xx/3xx for a send: nothing we know how to read.
  return withCode({ kind: 'in_doubt', ...base }, err.firstCode);
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
