/**
 * The one place that turns SQLite's storage failures (a full disk, an I/O error, a read-only, corrupt or
 * foreign file) into an operator's sentence. Such a failure is never a bug in bulktext, so it must not
 * reach the CLI as "internal error" with a stack: it names the file and the cause, and the phase decides
 * the exit code — before sending nothing was sent (exit 2), while sending the run stops resumable (exit 4).
 */
import { AppError } from '../shared/errors.js';

/** SQLite's primary result codes that mean "the file or the disk", with what to tell the operator. */
const causes: ReadonlyArray<readonly [prefix: string, cause: string]> = [
  ['SQLITE_FULL', 'the disk is full'],
  ['SQLITE_IOERR', 'the disk reported an I/O error'],
  ['SQLITE_READONLY', 'the file (or its folder) is read-only'],
  ['SQLITE_CORRUPT', 'the file is corrupt'],
  ['SQLITE_NOTADB', 'the file is not a SQLite database'],
  ['SQLITE_CANTOPEN', 'the file cannot be opened'],
  ['SQLITE_PERM', 'permission denied'],
];

/** The SQLite code of a storage failure (SQLITE_FULL, SQLITE_IOERR_WRITE, …), or undefined for anything else. */
export function storageCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  return causes.some(([prefix]) => code === prefix || code.startsWith(`${prefix}_`)) ? code : undefined;
}

export type StoragePhase = 'before-sending' | 'sending';

/**
 * The AppError for a storage failure of the ledger at `path` (ERR_LEDGER_IO while sending, exit 4;
 * ERR_LEDGER_UNUSABLE before, exit 2), or `err` itself when it is not one (an AppError passes unchanged).
 */
export function ledgerStorageError(err: unknown, path: string, phase: StoragePhase): unknown {
  const code = storageCode(err);
  if (code === undefined) return err;
  const cause = causes.find(([prefix]) => code.startsWith(prefix))![1];
  const what = `${cause} (${code}: ${(err as Error).message})`;
  if (phase === 'sending') {
    return new AppError('ERR_LEDGER_IO', `cannot write the ledger ${path}: ${what}; the run stopped and nothing is lost: fix this, then resume it`, {
      cause: err,
    });
  }
  return new AppError('ERR_LEDGER_UNUSABLE', `cannot use the ledger ${path}: ${what}; nothing was sent`, { cause: err });
}

/** Runs cleanup after a failure without letting a second failure (the same full disk) hide the first. */
export function cleanupAfter(first: unknown, cleanup: () => void): unknown {
  try {
    cleanup();
  } catch {
    // The first error says what went wrong; the cleanup failing too is a consequence of it.
  }
  return first;
}

/** A send-path write: a full disk or an I/O error here stops the run resumable (ERR_LEDGER_IO), it is not a bug. */
export function writingTo<T>(path: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    throw ledgerStorageError(err, path, 'sending');
  }
}
