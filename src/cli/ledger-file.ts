/** Opening the ledger for a command that reads what earlier runs wrote (status, report, reconcile). */
import { existsSync } from 'node:fs';
import { resolveDbPath } from '../config/env.js';
import { Ledger } from '../ledger/ledger.js';
import { AppError } from '../shared/errors.js';
import type { Io } from './io.js';

/** The ledger at --db / $BULKTEXT_DB / ./bulktext.db; ERR_RUN_NOT_FOUND rather than a new empty file when there is none. */
export function openExistingLedger(db: string | undefined, io: Pick<Io, 'env' | 'cwd'>): Ledger {
  const dbPath = resolveDbPath(db, io.env, io.cwd);
  if (!existsSync(dbPath)) throw new AppError('ERR_RUN_NOT_FOUND', `no ledger at ${dbPath} (set --db or BULKTEXT_DB)`);
  return new Ledger(dbPath);
}
