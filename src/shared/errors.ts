/**
 * One error type for the whole program. Callers match on `code`, never on the message text
 * (as undici does with its `UND_ERR_*` codes). `cli/` maps codes to exit codes in one table.
 */
export type ErrorCode =
  | 'ERR_USAGE'
  | 'ERR_ENV_MISSING'
  | 'ERR_JOB_SPEC_INVALID'
  | 'ERR_JOB_FILE_UNREADABLE'
  | 'ERR_ACCOUNT_INVALID'
  | 'ERR_SOURCE_UNREADABLE'
  | 'ERR_SOURCE_STRUCTURE'
  | 'ERR_SOURCE_CHANGED'
  | 'ERR_SUPPRESSION_UNREADABLE'
  | 'ERR_RUN_NOT_FOUND'
  | 'ERR_RUN_UNFINISHED'
  | 'ERR_RUN_NOT_RESUMABLE'
  | 'ERR_RUN_NOT_CANCELLABLE'
  | 'ERR_RUN_DECLINED'
  | 'ERR_PLAN_MISMATCH'
  | 'ERR_LEDGER_TRANSITION'
  | 'ERR_LEDGER_SCHEMA'
  | 'ERR_LEDGER_IO'
  | 'ERR_LEDGER_NOT_FOUND'
  | 'ERR_LEDGER_UNUSABLE'
  | 'ERR_LEDGER_NOT_EMPTY'
  | 'ERR_OUTPUT'
  | 'ERR_TELNYX_API'
  | 'ERR_TELNYX_NETWORK'
  | 'ERR_TELNYX_RESPONSE_INVALID'
  | 'ERR_TELNYX_REQUEST_INVALID'
  | 'ERR_TELNYX_ABORTED'
  | 'ERR_RUN_ABORTED'
  | 'ERR_INTERRUPTED'
  | 'ERR_WEBHOOK_KEY'
  | 'ERR_SCHEDULE_INVALID'
  | 'ERR_INIT_EXISTS'
  | 'ERR_INTERNAL';

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options?.details;
  }
}

export function isAppError(err: unknown, code?: ErrorCode): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code);
}

/** What to print or log for an error: an AppError's own message, anything else as an internal error with its stack. */
export function describeError(err: unknown): string {
  return isAppError(err) ? err.message : `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
}

/** An error as it crosses a thread boundary (structured clone keeps neither the class nor `code`). */
export interface ErrorData {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export function toErrorData(err: unknown): ErrorData {
  if (isAppError(err)) return { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: { ...err.details } }) };
  return { code: 'ERR_INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

export function fromErrorData(data: ErrorData): AppError {
  return new AppError(data.code as ErrorCode, data.message, data.details === undefined ? undefined : { details: data.details });
}
