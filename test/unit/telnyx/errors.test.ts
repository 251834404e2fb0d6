import { describe, expect, test } from 'vitest';
import { isAppError } from '../../../src/shared/errors.js';
import {
  TelnyxAbortedError,
  TelnyxApiError,
  TelnyxNetworkError,
  TelnyxResponseInvalidError,
  parseRetryAfter,
  telnyxErrorFromResponse,
} from '../../../src/telnyx/errors.js';

const now = Date.parse('2026-07-16T12:00:00Z');

function telnyxBody(...errors: Record<string, unknown>[]): string {
  return JSON.stringify({ errors });
}

describe('telnyxErrorFromResponse', () => {
  test('reads every Telnyx error object and names the first in the message', () => {
    const err = telnyxErrorFromResponse(
      422,
      {},
      telnyxBody(
        { code: '40310', title: "Invalid 'to' address", detail: 'The to number is not valid.', source: { pointer: '/to' } },
        { code: '10015', title: 'Invalid value', meta: { url: 'https://developers.telnyx.com' } },
      ),
      now,
    );
    expect(err).toBeInstanceOf(TelnyxApiError);
    expect(isAppError(err, 'ERR_TELNYX_API')).toBe(true);
    expect(err.status).toBe(422);
    expect(err.hasTelnyxBody).toBe(true);
    expect(err.firstCode).toBe('40310');
    expect(err.errors.map((e) => e.code)).toEqual(['40310', '10015']);
    expect(err.errors[0]?.source?.pointer).toBe('/to');
    expect(err.hasCode('10015')).toBe(true);
    expect(err.hasCode('40300')).toBe(false);
    expect(err.message).toBe("Telnyx 422 40310 Invalid 'to' address: The to number is not valid. (+1 more)");
    expect(err.bodyExcerpt).toBeUndefined();
  });

  test('a body that is not Telnyx error JSON leaves errors empty and keeps an excerpt', () => {
    const html = `<html><body>${'Bad gateway '.repeat(50)}</body></html>`;
    const err = telnyxErrorFromResponse(502, { 'content-type': 'text/html' }, html, now);
    expect(err.hasTelnyxBody).toBe(false);
    expect(err.errors).toEqual([]);
    expect(err.firstCode).toBeUndefined();
    expect(err.message).toBe('Telnyx 502 without a Telnyx error body');
    expect(err.bodyExcerpt).toBe(html.slice(0, 200));
  });

  test.each([
    ['empty body', ''],
    ['JSON without errors', '{"message":"nope"}'],
    ['empty errors list', '{"errors":[]}'],
    ['error without a title', '{"errors":[{"code":"10007"}]}'],
    ['numeric code', '{"errors":[{"code":10007,"title":"x"}]}'],
  ])('%s is not a Telnyx error body', (_name, body) => {
    expect(telnyxErrorFromResponse(500, {}, body, now).hasTelnyxBody).toBe(false);
  });

  test('tolerates unknown fields in error objects', () => {
    const err = telnyxErrorFromResponse(400, {}, telnyxBody({ code: '10015', title: 'Invalid value', extra: [1] }), now);
    expect(err.hasTelnyxBody).toBe(true);
    expect(err.message).toBe('Telnyx 400 10015 Invalid value');
  });

  test('reads Retry-After and the x-ratelimit headers', () => {
    const err = telnyxErrorFromResponse(
      429,
      { 'retry-after': '3', 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '7' },
      telnyxBody({ code: '10011', title: 'Too many requests' }),
      now,
    );
    expect(err.retryAfterMs).toBe(3000);
    expect(err.rateLimit).toEqual({ limit: 100, remaining: 0, resetSeconds: 7 });
  });

  test('no rate-limit headers means no rateLimit; array header values use the first', () => {
    expect(telnyxErrorFromResponse(429, {}, '', now).rateLimit).toBeUndefined();
    const err = telnyxErrorFromResponse(429, { 'x-ratelimit-reset': ['4', '9'] }, '', now);
    expect(err.rateLimit).toEqual({ limit: undefined, remaining: undefined, resetSeconds: 4 });
  });

  test('an epoch x-ratelimit-reset is turned into seconds from now', () => {
    const err = telnyxErrorFromResponse(429, { 'x-ratelimit-reset': String(now / 1000 + 12) }, '', now);
    expect(err.rateLimit?.resetSeconds).toBe(12);
  });
});

describe('parseRetryAfter', () => {
  test.each<[string | undefined, number | undefined]>([
    [undefined, undefined],
    ['', undefined],
    ['0', 0],
    ['5', 5000],
    [' 2 ', 2000],
    ['1.5', 1500],
    ['Thu, 16 Jul 2026 12:00:10 GMT', 10_000],
    ['Thu, 16 Jul 2026 11:59:00 GMT', 0], // a date in the past: go now, never a negative wait
    ['soon', undefined],
    ['-3', undefined],
  ])('%j → %j ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('network, abort and response errors', () => {
  test('TelnyxNetworkError carries the cause code and phase', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const err = new TelnyxNetworkError({ causeCode: 'ECONNREFUSED', phase: 'connect', method: 'POST', path: '/v2/messages', cause });
    expect(isAppError(err, 'ERR_TELNYX_NETWORK')).toBe(true);
    expect(err.causeCode).toBe('ECONNREFUSED');
    expect(err.phase).toBe('connect');
    expect(err.cause).toBe(cause);
    expect(err.message).toBe('Telnyx POST /v2/messages failed before the request was sent: ECONNREFUSED');
  });

  test('TelnyxAbortedError says which limit fired and when', () => {
    const timeout = new TelnyxAbortedError({ reason: 'timeout', phase: 'after_write', method: 'POST', path: '/m', timeoutMs: 250 });
    expect(isAppError(timeout, 'ERR_TELNYX_ABORTED')).toBe(true);
    expect(timeout.message).toBe('Telnyx POST /m timed out after 250 ms after it may have been sent');
    const abort = new TelnyxAbortedError({ reason: 'aborted', phase: 'connect', method: 'GET', path: '/m' });
    expect(abort.message).toBe('Telnyx GET /m was aborted by the caller before it was sent');
    expect(abort.timeoutMs).toBeUndefined();
  });

  test('TelnyxResponseInvalidError keeps only an excerpt of the body', () => {
    const err = new TelnyxResponseInvalidError({ status: 200, reason: 'not JSON', bodyText: 'x'.repeat(1000) });
    expect(isAppError(err, 'ERR_TELNYX_RESPONSE_INVALID')).toBe(true);
    expect(err.bodyExcerpt).toHaveLength(200);
    expect(err.message).toBe('Telnyx answered 200 with an unreadable body: not JSON');
  });
});
