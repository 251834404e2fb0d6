/**
 * Telnyx error objects as the simulator writes them: `{"errors":[{code,title,detail,source}]}`
 * with string codes (API-NOTES "Errors"). Titles come from the one code table (../codes.ts).
 */
import { telnyxCodes } from '../codes.js';
import type { TelnyxErrorObject } from '../wire.js';
import type { FailureStatus } from './options.js';

export function titleFor(code: string): string {
  return telnyxCodes[code]?.title ?? 'Message delivery failed';
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
