/**
 * Telnyx error objects as the simulator writes them: `{"errors":[{code,title,detail,source}]}`
 * with string codes (API-NOTES "Errors"). Titles follow Telnyx's error-code reference.
 */
import type { TelnyxErrorObject } from '../wire.js';
import type { FailureStatus } from './options.js';

const titles: Readonly<Record<string, string>> = {
  '10004': 'Missing required parameter',
  '10005': 'Resource not found',
  '10007': 'Unexpected error',
  '10009': 'Authentication failed',
  '10010': 'Authorization failed',
  '10011': 'Too many requests',
  '10015': 'Invalid value',
  '10016': 'Missing required parameter',
  '10037': 'Service unavailable',
  '40001': 'Not routable',
  '40002': 'Blocked as spam - temporary',
  '40003': 'Blocked as spam - permanent',
  '40006': 'Recipient server unavailable',
  '40008': 'Undeliverable',
  '40010': 'Not 10DLC registered',
  '40011': 'Too many requests',
  '40014': 'Message expired during transmission',
  '40016': 'T-Mobile sending limit reached',
  '40018': 'AT&T sending limit reached',
  '40300': 'Blocked due to STOP message',
  '40302': 'Message too large',
  '40305': "Invalid 'from' address",
  '40309': "Invalid 'from' for messaging profile",
  '40310': "Invalid 'to' address",
  '40316': 'Invalid media URL',
  '40317': 'Invalid send_at',
  '40318': 'Message queue full',
  '40328': 'Alphanumeric sender ID not supported for destination',
  '40333': 'Daily spend limit reached',
};

export function titleFor(code: string): string {
  return titles[code] ?? 'Message delivery failed';
}

export function telnyxError(code: string, detail: string, pointer?: string): TelnyxErrorObject {
  const error: TelnyxErrorObject = { code, title: titleFor(code), detail };
  if (pointer !== undefined) error.source = { pointer };
  return error;
}

/** The status a delivery error code ends in when a scenario names only the code. */
export function defaultFailureStatus(code: string): FailureStatus {
  switch (code) {
    case '40001':
    case '40010':
    case '40300':
      return 'sending_failed';
    case '40014':
      return 'expired';
    case '40006':
      return 'delivery_unconfirmed';
    default:
      return 'delivery_failed';
  }
}
