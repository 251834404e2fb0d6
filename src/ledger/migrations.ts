/**
 * Numbered schema migrations, applied in order inside one transaction each and tracked with
 * PRAGMA user_version (as graphile-worker numbers its migrations). Append only: never edit a
 * migration that has shipped; add the next number instead.
 *
 * Times are integer milliseconds since the epoch (compact, index-friendly); the CLI prints ISO.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, messages, attempts',
    sql: `
      CREATE TABLE runs (
        rid           INTEGER PRIMARY KEY,
        run_id        TEXT NOT NULL UNIQUE,
        job_name      TEXT NOT NULL,
        job_file      TEXT NOT NULL,
        job_spec      TEXT NOT NULL,          -- the validated spec as JSON, so resume sends what run started
        spec_hash     TEXT NOT NULL,
        source_path   TEXT NOT NULL,
        source_sha256 TEXT NOT NULL,
        sandbox       INTEGER NOT NULL DEFAULT 0,
        state         TEXT NOT NULL,
        trigger       TEXT NOT NULL DEFAULT 'manual',
        slot          TEXT,
        total         INTEGER NOT NULL DEFAULT 0,
        started_at    INTEGER NOT NULL,
        finished_at   INTEGER,
        stop_code     TEXT,
        stop_detail   TEXT,
        owner_pid     INTEGER,                 -- the process sending this run now (NULL when none)
        owner_host    TEXT
      );
      CREATE INDEX runs_job ON runs (job_name, source_sha256, state);

      CREATE TABLE messages (
        rid           INTEGER NOT NULL REFERENCES runs (rid),
        row           INTEGER NOT NULL,
        line          INTEGER NOT NULL,
        to_number     TEXT NOT NULL,
        sender        TEXT,                    -- the from number / sender id / profile this row is pinned to
        from_number   TEXT,                    -- what Telnyx reports it sent from (a pool picks one)
        text          TEXT,
        subject       TEXT,
        parts         INTEGER NOT NULL DEFAULT 1,
        encoding      TEXT,
        status        TEXT NOT NULL,
        message_id    TEXT,
        cost          TEXT,
        currency      TEXT,
        attempts      INTEGER NOT NULL DEFAULT 0,
        error_code    TEXT,
        error_detail  TEXT,
        sending_at    INTEGER,                 -- when the last request was about to be written
        sent_at       INTEGER,                 -- when Telnyx accepted it
        updated_at    INTEGER NOT NULL,
        PRIMARY KEY (rid, row)
      ) WITHOUT ROWID;
      CREATE INDEX messages_status ON messages (rid, status, row);
      CREATE UNIQUE INDEX messages_message_id ON messages (message_id) WHERE message_id IS NOT NULL;

      CREATE TABLE attempts (
        id            INTEGER PRIMARY KEY,
        rid           INTEGER NOT NULL,
        row           INTEGER NOT NULL,
        attempt       INTEGER NOT NULL,
        started_at    INTEGER NOT NULL,
        latency_ms    INTEGER,
        http_status   INTEGER,
        outcome       TEXT NOT NULL,           -- accepted | rejected | fatal | throttled | retryable | in_doubt
        telnyx_code   TEXT,
        detail        TEXT
      );
      CREATE INDEX attempts_row ON attempts (rid, row);
    `,
  },
];
