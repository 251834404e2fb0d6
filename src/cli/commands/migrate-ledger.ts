/**
 * bulktext migrate-ledger --from bulktext.db --to postgres://…: a SQLite ledger's history and suppressions
 * moved into a PostgreSQL ledger in one transaction. The URL may carry a password: everything printed
 * names the database by user, host, port and name only.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ledgerStorageError } from '../../ledger/storage-error.js';
import { connectPg, isPgUrl, pgTarget, scrub } from '../../ledger/pg/connect.js';
import { moveLedgerToPg, type MovedCounts } from '../../ledger/pg/move-ledger.js';
import { AppError, isAppError } from '../../shared/errors.js';
import type { Io } from '../io.js';

export interface MigrateLedgerOptions {
  /** The SQLite ledger file. @default ./bulktext.db */
  from?: string | undefined;
  /** The PostgreSQL ledger's URL. @default $BULKTEXT_DB when it is a postgres:// URL */
  to?: string | undefined;
}

const labels: ReadonlyArray<readonly [keyof MovedCounts, string]> = [
  ['runs', 'runs'],
  ['campaigns', 'campaigns'],
  ['campaign_memory', 'campaign memory'],
  ['messages', 'messages'],
  ['run_texts', 'run templates'],
  ['attempts', 'attempts'],
  ['message_ids', 'message ids'],
  ['webhook_events', 'receipts'],
  ['suppressions', 'suppressions'],
];

export async function migrateLedgerCommand(o: MigrateLedgerOptions, io: Pick<Io, 'stdout' | 'stderr' | 'env' | 'cwd'>): Promise<number> {
  const url = o.to ?? (isPgUrl(io.env.BULKTEXT_DB ?? '') ? io.env.BULKTEXT_DB : undefined);
  if (url === undefined) throw new AppError('ERR_USAGE', 'migrate-ledger needs --to postgres://user@host/database (or BULKTEXT_DB set to one)');
  if (!isPgUrl(url)) throw new AppError('ERR_USAGE', '--to must be a postgres:// URL: migrate-ledger moves a SQLite ledger into PostgreSQL');
  const target = pgTarget(url);
  const from = path.resolve(io.cwd, o.from ?? 'bulktext.db');
  if (!existsSync(from)) throw new AppError('ERR_LEDGER_NOT_FOUND', `no ledger at ${from}: check --from`);
  const pool = await connectPg(url, { max: 2 });
  let moved: MovedCounts;
  try {
    moved = await moveLedgerToPg(from, pool, target);
  } catch (err) {
    if (isAppError(err)) throw err;
    const storage = ledgerStorageError(err, from, 'before-sending');
    if (storage !== err) throw storage;
    throw new AppError('ERR_LEDGER_UNUSABLE', `cannot move ${from} into the PostgreSQL ledger ${target}: ${scrub((err as Error).message, url)}; nothing was written`, {
      cause: err,
    });
  } finally {
    await pool.end();
  }
  const width = Math.max(...labels.map(([, label]) => label.length));
  io.stdout(
    `moved ${from} into the PostgreSQL ledger ${target}, in one transaction:\n` +
      labels.map(([table, label]) => `  ${label.padEnd(width)}  ${moved[table].toLocaleString('en-US')}\n`).join(''),
  );
  return 0;
}
