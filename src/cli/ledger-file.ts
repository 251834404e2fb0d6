/**
 * Finding the ledger for every command but `run`. Only `run` (and the scheduler, which starts runs) may
 * create a ledger: anywhere else a missing file is a mistyped --db or BULKTEXT_DB, and creating an empty
 * ledger there would hide the mistake — a STOP stored where no run reads it, a resume that finds nothing.
 */
import { existsSync } from 'node:fs';
import { resolveDbPath } from '../config/env.js';
import { Ledger } from '../ledger/ledger.js';
import { AppError } from '../shared/errors.js';
import type { Io } from './io.js';

/** The path of the ledger at --db / $BULKTEXT_DB / ./bulktext.db; ERR_LEDGER_NOT_FOUND when there is no file. */
export function existingLedgerPath(db: string | undefined, io: Pick<Io, 'env' | 'cwd'>): string {
  const dbPath = resolveDbPath(db, io.env, io.cwd);
  if (!existsSync(dbPath)) {
    throw new AppError(
      'ERR_LEDGER_NOT_FOUND',
      `no ledger at ${dbPath}: only \`bulktext run\` creates one. Check --db or BULKTEXT_DB for a typo.`,
    );
  }
  return dbPath;
}

/** Opens the ledger for a command that reads what earlier runs wrote (status, report, reconcile). */
export function openExistingLedger(db: string | undefined, io: Pick<Io, 'env' | 'cwd'>): Ledger {
  return new Ledger(existingLedgerPath(db, io));
}
