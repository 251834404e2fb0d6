/** Opening the ledger from the CLI: --db / $BULKTEXT_DB / ./bulktext.db, for writing or only for reading. */
import { existsSync } from 'node:fs';
import { resolveDbPath } from '../config/env.js';
import { Ledger, type LedgerOptions } from '../ledger/ledger.js';
import { AppError } from '../shared/errors.js';
import type { Io } from './io.js';

/**
 * Test only: makes the ledger's disk "full" once the file reaches this many pages (PRAGMA max_page_count
 * on the process's own connection). Not documented for operators; the hostile-edges tests set it.
 */
export const TEST_MAX_PAGES_ENV = 'BULKTEXT_TEST_MAX_PAGE_COUNT';

function ledgerOptions(io: Pick<Io, 'env'>, readonly: boolean): LedgerOptions {
  const pages = Number(io.env[TEST_MAX_PAGES_ENV]);
  return { readonly, ...(Number.isInteger(pages) && pages > 0 ? { maxPageCount: pages } : {}) };
}

/** The ledger for a command that writes (run, resume, webhooks…), created if there is none. */
export function openLedger(db: string | undefined, io: Pick<Io, 'env' | 'cwd'>): Ledger {
  return new Ledger(resolveDbPath(db, io.env, io.cwd), ledgerOptions(io, false));
}

/**
 * The ledger for a command that reads what earlier runs wrote (status, report), opened read-only so it
 * works on a read-only file; ERR_RUN_NOT_FOUND rather than a new empty file when there is none.
 */
export function openExistingLedger(db: string | undefined, io: Pick<Io, 'env' | 'cwd'>, options: { readonly?: boolean } = {}): Ledger {
  const dbPath = resolveDbPath(db, io.env, io.cwd);
  if (!existsSync(dbPath)) throw new AppError('ERR_RUN_NOT_FOUND', `no ledger at ${dbPath} (set --db or BULKTEXT_DB)`);
  return new Ledger(dbPath, ledgerOptions(io, options.readonly ?? true));
}
