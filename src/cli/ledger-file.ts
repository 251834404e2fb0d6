/**
 * Finding and opening the ledger from the CLI: --db / $BULKTEXT_DB / ./bulktext.db. Only `run` (and the
 * scheduler, which starts runs) may create a ledger: anywhere else a missing file is a mistyped --db or
 * BULKTEXT_DB, and creating an empty ledger there would hide the mistake — a STOP stored where no run
 * reads it, a resume that finds nothing.
 */
import { resolveDbPath, resolveLedgerLocation, withoutPassword } from '../config/env.js';
import { Ledger } from '../ledger/ledger.js';
import type { LedgerOptions } from '../ledger/open-ledger.js';
import { requireLedgerFile } from '../ledger/require-ledger.js';
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

/** The path of the ledger at --db / $BULKTEXT_DB / ./bulktext.db; ERR_LEDGER_NOT_FOUND when there is no file. */
export function existingLedgerPath(db: string | undefined, io: Pick<Io, 'env' | 'cwd'>): string {
  return requireLedgerFile(resolveDbPath(db, io.env, io.cwd));
}

/** The ledger for `run` and the scheduler, created if there is none. */
export function openLedger(db: string | undefined, io: Pick<Io, 'env' | 'cwd'>): Ledger {
  return new Ledger(resolveDbPath(db, io.env, io.cwd), ledgerOptions(io, false));
}

/**
 * The ledger for every other command: it must exist. Read-only by default (status, report), so those
 * work on a read-only file; commands that write (resume, webhooks, suppressions…) pass readonly: false.
 */
export function openExistingLedger(db: string | undefined, io: Pick<Io, 'env' | 'cwd'>, options: { readonly?: boolean } = {}): Ledger {
  return new Ledger(existingLedgerPath(db, io), ledgerOptions(io, options.readonly ?? true));
}

/**
 * `--db` as the hints the CLI prints repeat it: a PostgreSQL URL without its password (the driver takes
 * it from PGPASSWORD or ~/.pgpass), so no hint ever prints a secret.
 */
export function dbForHints(db: string | undefined): string | undefined {
  return db === undefined || resolveLedgerLocation(db, {}, '/').kind === 'file' ? db : withoutPassword(db);
}

/** The PostgreSQL URL in --db / BULKTEXT_DB, or undefined when the ledger is a SQLite file. */
export function pgUrlOf(db: string | undefined, io: Pick<Io, 'env' | 'cwd'>): string | undefined {
  const where = resolveLedgerLocation(db, io.env, io.cwd);
  return where.kind === 'pg' ? where.url : undefined;
}
