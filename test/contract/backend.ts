/**
 * A backend the store contracts run on: a fresh, empty ledger per test, and connections to it. Each
 * `open` is a new connection (a SQLite Ledger on the file, a PostgreSQL pool), as each daemon has its own.
 */
export interface ContractBackend<S> {
  /** A fresh ledger; `open()` gives a store on a new connection to it, `close()` ends them all. */
  fresh(): Promise<{ open(): Promise<S>; close(): Promise<void> }>;
}
