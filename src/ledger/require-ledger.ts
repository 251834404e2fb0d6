/**
 * Only a run creates a ledger. Anywhere else a missing file is a mistyped path, and creating an empty
 * ledger there would hide the mistake: a STOP stored where no run reads it, a resume that finds nothing.
 * The CLI and the library both refuse through this one check.
 */
import { existsSync } from 'node:fs';
import { AppError } from '../shared/errors.js';

/** `path` when a ledger file is there. @throws AppError ERR_LEDGER_NOT_FOUND naming the path */
export function requireLedgerFile(path: string): string {
  if (!existsSync(path)) {
    throw new AppError('ERR_LEDGER_NOT_FOUND', `no ledger at ${path}: only \`bulktext run\` creates one. Check --db or BULKTEXT_DB for a typo.`);
  }
  return path;
}
