/**
 * PostgreSQL schema 3: the scheduler's leader lease (SQLite's migration 14). Times are the database's
 * (timestamptz from clock_timestamp()), never a host's: two hosts whose clocks disagree still agree on
 * whether the lease has expired. ledger/pg/leader-store.ts has the rule.
 */
export const schema3 = `
    CREATE TABLE scheduler_leader (
      id            integer PRIMARY KEY CHECK (id = 1),
      daemon_id     text NOT NULL,
      acquired_at   timestamptz NOT NULL,
      expires_at    timestamptz NOT NULL
    );
`;
