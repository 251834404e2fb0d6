/**
 * The two ledger backends behind one handle type: a SQLite file (Ledger) or a PostgreSQL database
 * (PgLedger). Each store's accessor (`runStoreOf(ledger)`, …) answers the store of the handle's backend.
 */
import type { Ledger } from './ledger.js';
import type { PgLedger } from './pg/pg-ledger.js';

export type AnyLedger = Ledger | PgLedger;

/** Whether a handle is the PostgreSQL ledger (told by its `kind`, so SQLite's paths never load the driver to ask). */
export function onPg(ledger: AnyLedger): ledger is PgLedger {
  return (ledger as { kind?: string }).kind === 'pg';
}
