import { describe, expect, test } from 'vitest';
import { AppError } from '../../../src/shared/errors.js';
import { abortRules, apiRules, classifySendError, isTelnyxCode, networkRules, type SendFailure } from '../../../src/telnyx/classify.js';
import {
  TelnyxAbortedError,
  TelnyxNetworkError,
  TelnyxRequestInvalidError,
  TelnyxResponseInvalidError,
  telnyxErrorFromResponse,
  type ResponseHeaders,
} from '../../../src/telnyx/errors.js';

const now = Date.parse('2026-07-16T12:00:00Z');

function api(status: number, codes: string[] | 'html' | 'none', headers: ResponseHeaders = {}): unknown {
  const body =
    codes === 'html'
      ? '<html><body>Bad gateway</body></html>'
      : codes === 'none'
        ? ''
        : JSON.stringify({ errors: codes.map((code) => ({ code, title: `title ${code}`, detail: `detail ${code}` })) });
  return telnyxErrorFromResponse(status, headers, body, now);
}

function network(causeCode: string, phase: 'connect' | 'after_write'): unknown {
  const cause = Object.assign(new Error(causeCode), { code: causeCode });
  return new TelnyxNetworkError({ causeCode, phase, method: 'POST', path: '/v2/messages', cause });
}

function aborted(reason: 'timeout' | 'aborted', phase: 'connect' | 'after_write'): unknown {
  return new TelnyxAbortedError({ reason, phase, method: 'POST', path: '/v2/messages', timeoutMs: 100 });
}

type Expected = Omit<SendFailure, 'detail'>;

// Every row of the classification table (API-NOTES.md "Errors"), one case per line.
const table: [string, unknown, Expected][] = [
  // fatal: nothing in this run can succeed
  ['401 10009 auth failed', api(401, ['10009']), { kind: 'fatal', code: '10009', status: 401 }],
  ['401 without a body', api(401, 'none'), { kind: 'fatal', status: 401 }],
  ['403 10010 not authorised', api(403, ['10010']), { kind: 'fatal', code: '10010', status: 403 }],
  ['403 40312 profile disabled', api(403, ['40312']), { kind: 'fatal', code: '40312', status: 403 }],
  ['403 40314 messaging disabled', api(403, ['40314']), { kind: 'fatal', code: '40314', status: 403 }],
  ['402 20100 out of funds', api(402, ['20100']), { kind: 'fatal', code: '20100', status: 402 }],
  ['402 20012 account inactive', api(402, ['20012']), { kind: 'fatal', code: '20012', status: 402 }],
  ['402 without a body', api(402, 'none'), { kind: 'fatal', status: 402 }],
  ['429 40333 spend limit', api(429, ['40333']), { kind: 'fatal', code: '40333', status: 429 }],
  ['fatal code behind another code', api(422, ['10015', '40314']), { kind: 'fatal', code: '40314', status: 422 }],
  ['404 without a Telnyx body (wrong base URL)', api(404, 'html'), { kind: 'fatal', status: 404 }],
  ['403 without a Telnyx body (WAF)', api(403, 'none'), { kind: 'fatal', status: 403 }],
  ['405 without a Telnyx body', api(405, 'none'), { kind: 'fatal', status: 405 }],
  ['404 with a Telnyx body (base URL without /v2)', api(404, ['10005']), { kind: 'fatal', code: '10005', status: 404 }],
  ['404 empty body', api(404, 'none'), { kind: 'fatal', status: 404 }],
  ['a header the client cannot send (UND_ERR_INVALID_ARG)', network('UND_ERR_INVALID_ARG', 'connect'), { kind: 'fatal', code: 'UND_ERR_INVALID_ARG' }],
  ['an invalid header character (ERR_INVALID_CHAR)', network('ERR_INVALID_CHAR', 'connect'), { kind: 'fatal', code: 'ERR_INVALID_CHAR' }],

  // throttled: wait (Retry-After, else x-ratelimit-reset, else caller's backoff) and retry
  ['429 10011 with Retry-After', api(429, ['10011'], { 'retry-after': '2', 'x-ratelimit-reset': '9' }), { kind: 'throttled', code: '10011', status: 429, retryAfterMs: 2000 }],
  ['429 10011 with only x-ratelimit-reset', api(429, ['10011'], { 'x-ratelimit-reset': '7' }), { kind: 'throttled', code: '10011', status: 429, retryAfterMs: 7000 }],
  ['429 10011 with an HTTP-date Retry-After', api(429, ['10011'], { 'retry-after': 'Thu, 16 Jul 2026 12:00:04 GMT' }), { kind: 'throttled', code: '10011', status: 429, retryAfterMs: 4000 }],
  ['429 10011 without hints', api(429, ['10011']), { kind: 'throttled', code: '10011', status: 429 }],
  ['429 40318 queue full', api(429, ['40318']), { kind: 'throttled', code: '40318', status: 429 }],
  ['429 40318 with Retry-After', api(429, ['40318'], { 'retry-after': '30' }), { kind: 'throttled', code: '40318', status: 429, retryAfterMs: 30_000 }],
  ['429 with an unknown code', api(429, ['99999']), { kind: 'throttled', code: '99999', status: 429 }],
  ['429 without a body', api(429, 'none', { 'retry-after': '1' }), { kind: 'throttled', status: 429, retryAfterMs: 1000 }],

  // rejected: this message can never succeed as sent
  ['422 40310 invalid to', api(422, ['40310']), { kind: 'rejected', code: '40310', status: 422 }],
  ['409 40300 STOP', api(409, ['40300']), { kind: 'rejected', code: '40300', status: 409 }],
  ['400 10015 invalid value', api(400, ['10015']), { kind: 'rejected', code: '10015', status: 400 }],
  ['400 10004 invalid parameter', api(400, ['10004']), { kind: 'rejected', code: '10004', status: 400 }],
  ['422 10016 missing parameter', api(422, ['10016']), { kind: 'rejected', code: '10016', status: 422 }],
  ['400 40302 too many parts', api(400, ['40302']), { kind: 'rejected', code: '40302', status: 400 }],
  ['422 40305 invalid source', api(422, ['40305']), { kind: 'rejected', code: '40305', status: 422 }],
  ['422 40309 from not in profile', api(422, ['40309']), { kind: 'rejected', code: '40309', status: 422 }],
  ['422 40316 invalid media', api(422, ['40316']), { kind: 'rejected', code: '40316', status: 422 }],
  ['422 40317 invalid send_at', api(422, ['40317']), { kind: 'rejected', code: '40317', status: 422 }],
  ['422 40328 alphanumeric not supported', api(422, ['40328']), { kind: 'rejected', code: '40328', status: 422 }],
  ['403 with a message-level code', api(403, ['40305']), { kind: 'rejected', code: '40305', status: 403 }],
  ['413 with a Telnyx body', api(413, ['10015']), { kind: 'rejected', code: '10015', status: 413 }],
  ['client refused the request', new TelnyxRequestInvalidError('9 recipients'), { kind: 'rejected' }],

  // retryable: surely not created
  ['503 without a body', api(503, 'none'), { kind: 'retryable', status: 503 }],
  ['503 HTML from a proxy', api(503, 'html'), { kind: 'retryable', status: 503 }],
  ['503 10037 with Retry-After', api(503, ['10037'], { 'retry-after': '5' }), { kind: 'retryable', code: '10037', status: 503, retryAfterMs: 5000 }],
  ['UND_ERR_SOCKET before the write', network('UND_ERR_SOCKET', 'connect'), { kind: 'retryable', code: 'UND_ERR_SOCKET' }],
  ['ECONNRESET before the write', network('ECONNRESET', 'connect'), { kind: 'retryable', code: 'ECONNRESET' }],
  ['caller abort before sending', aborted('aborted', 'connect'), { kind: 'retryable' }],

  // unreachable: nothing was written because the API could not be reached
  ['ECONNREFUSED (connect)', network('ECONNREFUSED', 'connect'), { kind: 'unreachable', code: 'ECONNREFUSED' }],
  ['ENOTFOUND (connect)', network('ENOTFOUND', 'connect'), { kind: 'unreachable', code: 'ENOTFOUND' }],
  ['EAI_AGAIN (connect)', network('EAI_AGAIN', 'connect'), { kind: 'unreachable', code: 'EAI_AGAIN' }],
  ['EHOSTUNREACH (connect)', network('EHOSTUNREACH', 'connect'), { kind: 'unreachable', code: 'EHOSTUNREACH' }],
  ['UND_ERR_CONNECT_TIMEOUT (connect)', network('UND_ERR_CONNECT_TIMEOUT', 'connect'), { kind: 'unreachable', code: 'UND_ERR_CONNECT_TIMEOUT' }],
  ['TLS: wrong version (connect)', network('ERR_SSL_WRONG_VERSION_NUMBER', 'connect'), { kind: 'unreachable', code: 'ERR_SSL_WRONG_VERSION_NUMBER' }],
  ['TLS: self-signed certificate (connect)', network('DEPTH_ZERO_SELF_SIGNED_CERT', 'connect'), { kind: 'unreachable', code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }],
  ['TLS: bad certificate name (connect)', network('ERR_TLS_CERT_ALTNAME_INVALID', 'connect'), { kind: 'unreachable', code: 'ERR_TLS_CERT_ALTNAME_INVALID' }],
  ['our timeout before a connection', aborted('timeout', 'connect'), { kind: 'unreachable' }],

  // in doubt: may have created a message; never retried automatically
  ['ECONNRESET after write', network('ECONNRESET', 'after_write'), { kind: 'in_doubt', code: 'ECONNRESET' }],
  ['UND_ERR_SOCKET after write', network('UND_ERR_SOCKET', 'after_write'), { kind: 'in_doubt', code: 'UND_ERR_SOCKET' }],
  ['UND_ERR_HEADERS_TIMEOUT', network('UND_ERR_HEADERS_TIMEOUT', 'after_write'), { kind: 'in_doubt', code: 'UND_ERR_HEADERS_TIMEOUT' }],
  ['UND_ERR_BODY_TIMEOUT', network('UND_ERR_BODY_TIMEOUT', 'after_write'), { kind: 'in_doubt', code: 'UND_ERR_BODY_TIMEOUT' }],
  ['our timeout after write', aborted('timeout', 'after_write'), { kind: 'in_doubt' }],
  ['caller abort after write', aborted('aborted', 'after_write'), { kind: 'in_doubt' }],
  ['502 without a body', api(502, 'none'), { kind: 'in_doubt', status: 502 }],
  ['502 even with a Telnyx body', api(502, ['10007']), { kind: 'in_doubt', code: '10007', status: 502 }],
  ['504 gateway timeout', api(504, 'html'), { kind: 'in_doubt', status: 504 }],
  ['500 10007 even with a Telnyx body', api(500, ['10007']), { kind: 'in_doubt', code: '10007', status: 500 }],
  ['501 with a Telnyx body', api(501, ['10007']), { kind: 'in_doubt', code: '10007', status: 501 }],
  ['500 HTML body', api(500, 'html'), { kind: 'in_doubt', status: 500 }],
  ['500 empty body', api(500, 'none'), { kind: 'in_doubt', status: 500 }],
  ['ECONNREFUSED reported after write', network('ECONNREFUSED', 'after_write'), { kind: 'in_doubt', code: 'ECONNREFUSED' }],
  ['302 redirect', api(302, 'none'), { kind: 'in_doubt', status: 302 }],
  ['2xx without a message id', new TelnyxResponseInvalidError({ status: 200, reason: 'data.id: missing', bodyText: '{"data":{}}' }), { kind: 'in_doubt', status: 200 }],
  ['2xx with an unreadable body', new TelnyxResponseInvalidError({ status: 200, reason: 'not JSON', bodyText: '<' }), { kind: 'in_doubt', status: 200 }],
  ['an unknown AppError', new AppError('ERR_INTERNAL', 'boom'), { kind: 'in_doubt' }],
  ['a plain Error', new TypeError('x is undefined'), { kind: 'in_doubt' }],
  ['a thrown string', 'weird', { kind: 'in_doubt' }],
];

describe('classifySendError', () => {
  test.each(table)('%s', (_name, err, expected) => {
    const { detail, ...rest } = classifySendError(err);
    expect(rest).toEqual(expected);
    expect(detail.length).toBeGreaterThan(0);
  });

  test('detail is the error message', () => {
    expect(classifySendError(api(422, ['40310'])).detail).toBe('Telnyx 422 40310 title 40310: detail 40310');
    expect(classifySendError('weird').detail).toBe('weird');
  });
});

describe('isTelnyxCode', () => {
  test('matches any error object of a Telnyx API error', () => {
    const err = api(422, ['10015', '40310']);
    expect(isTelnyxCode(err, '40310')).toBe(true);
    expect(isTelnyxCode(err, '10015')).toBe(true);
    expect(isTelnyxCode(err, '40300')).toBe(false);
  });

  test('is false for anything that is not a Telnyx API error', () => {
    expect(isTelnyxCode(network('ECONNRESET', 'after_write'), 'ECONNRESET')).toBe(false);
    expect(isTelnyxCode(new Error('40310'), '40310')).toBe(false);
    expect(isTelnyxCode(undefined, '40310')).toBe(false);
  });
});

describe('the rule lists', () => {
  test('every rule gives its reason in one line, and each list ends with a catch-all', () => {
    for (const rules of [apiRules, networkRules, abortRules]) {
      for (const rule of rules) expect(rule.why).toMatch(/^[^\n]{10,120}$/);
      expect(rules.at(-1)!.when(undefined as never)).toBe(true);
    }
  });
});
