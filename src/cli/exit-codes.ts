/** The one table from error code to exit code (changesets' CLI keeps this in one place too). */
import { isAppError, type ErrorCode } from '../shared/errors.js';

export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  someFailed: 3,
  aborted: 4,
  interrupted: 130,
} as const;

const byCode: Partial<Record<ErrorCode, number>> = {
  ERR_USAGE: ExitCode.usage,
  ERR_ENV_MISSING: ExitCode.usage,
  ERR_JOB_SPEC_INVALID: ExitCode.usage,
  ERR_JOB_FILE_UNREADABLE: ExitCode.usage,
  ERR_ACCOUNT_INVALID: ExitCode.usage,
  ERR_SOURCE_UNREADABLE: ExitCode.usage,
  ERR_SOURCE_STRUCTURE: ExitCode.usage,
  ERR_SOURCE_CHANGED: ExitCode.usage,
  ERR_SUPPRESSION_UNREADABLE: ExitCode.usage,
  ERR_RUN_NOT_FOUND: ExitCode.usage,
  ERR_LEDGER_NOT_FOUND: ExitCode.usage,
  ERR_RUN_UNFINISHED: ExitCode.usage,
  ERR_RUN_NOT_RESUMABLE: ExitCode.usage,
  ERR_RUN_NOT_CANCELLABLE: ExitCode.usage,
  // The operator answered no at run's confirmation prompt: nothing was sent.
  ERR_RUN_DECLINED: ExitCode.usage,
  ERR_PLAN_MISMATCH: ExitCode.usage,
  ERR_WEBHOOK_KEY: ExitCode.usage,
  ERR_SCHEDULE_INVALID: ExitCode.usage,
  // The ledger cannot be used (full disk, read-only, corrupt, not a ledger, too new) before anything was sent.
  ERR_LEDGER_UNUSABLE: ExitCode.usage,
  ERR_LEDGER_SCHEMA: ExitCode.usage,
  // migrate-ledger into a PostgreSQL ledger that already holds runs: nothing was written.
  ERR_LEDGER_NOT_EMPTY: ExitCode.usage,
  // Standard output or a --out file could not be written (a closed pipe is not an error: exit 0).
  ERR_OUTPUT: ExitCode.usage,
  ERR_INIT_EXISTS: ExitCode.usage,
  ERR_RUN_ABORTED: ExitCode.aborted,
  // A full disk or an I/O error is not a bug: the run stops, resumable once the disk is fixed.
  ERR_LEDGER_IO: ExitCode.aborted,
  ERR_INTERRUPTED: ExitCode.interrupted,
};

export function exitCodeFor(err: unknown): number {
  return isAppError(err) ? (byCode[err.code] ?? ExitCode.internal) : ExitCode.internal;
}
