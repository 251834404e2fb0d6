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

/**
 * The message template of a stored job spec (SQL over a JSON column): [text, subject, media_urls] as JSON.
 * A campaign is keyed by it (migration 6); the ledger computes it in SQL from the stored spec, so the
 * key has one definition for old runs and new ones.
 */
export const templateOf = (spec: string): string =>
  `json_array(json_extract(${spec}, '$.message.text'), json_extract(${spec}, '$.message.subject'), json_extract(${spec}, '$.message.media_urls'))`;

/** The body of the totals trigger on each inserted row: migration 10 wrote it, migration 13 puts it under a WHEN. */
const COUNT_INSERTED_ROW = `
        INSERT INTO run_status_totals (rid, status, code, n) VALUES (NEW.rid, NEW.status, coalesce(NEW.error_code, ''), 1)
          ON CONFLICT DO UPDATE SET n = n + 1;
        INSERT INTO run_sent_totals (rid, delivery_status, code, price, currency, n, parts)
          SELECT NEW.rid, coalesce(NEW.delivery_status, ''), coalesce(NEW.delivery_error_code, ''), coalesce(NEW.final_cost, NEW.cost, ''),
            coalesce(NEW.final_currency, NEW.currency, ''), 1, NEW.parts
          WHERE NEW.status = 'sent'
          ON CONFLICT DO UPDATE SET n = n + 1, parts = parts + excluded.parts;
        INSERT INTO run_seconds (rid, second, wire, delivered) SELECT NEW.rid, NEW.delivered_at / 1000, 0, 1 WHERE NEW.delivered_at IS NOT NULL
          ON CONFLICT DO UPDATE SET delivered = delivered + 1;
`;

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
        tz            TEXT,                    -- the row's own time zone (window.timezone_field), if any
        status        TEXT NOT NULL,
        not_before    INTEGER,                 -- deferred: when the recipient's send window opens
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
      CREATE INDEX messages_deferred ON messages (rid, not_before) WHERE status = 'deferred';
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
  {
    version: 2,
    name: 'delivery receipts, webhook events, suppressions',
    sql: `
      -- What Telnyx reported after accepting a message (webhooks or reconcile). cost and currency stay the
      -- accept-time figures (often null at send); the final, billed figures go in final_cost/final_currency
      -- so a report can show both and a status can prefer the final one.
      ALTER TABLE messages ADD COLUMN delivery_status       TEXT;    -- sent | delivered | delivery_failed | delivery_unconfirmed | sending_failed | expired | queued | sending
      ALTER TABLE messages ADD COLUMN delivery_error_code   TEXT;    -- first errors[].code of the final status
      ALTER TABLE messages ADD COLUMN delivery_error_detail TEXT;
      ALTER TABLE messages ADD COLUMN delivered_at          INTEGER; -- when the final status happened (Telnyx's completed_at, else the event time)
      ALTER TABLE messages ADD COLUMN sent_event_at         INTEGER; -- when Telnyx handed it to the carrier (sent_at / message.sent)
      ALTER TABLE messages ADD COLUMN finalized_at          INTEGER; -- when the ledger learned the final status
      ALTER TABLE messages ADD COLUMN final_cost            TEXT;
      ALTER TABLE messages ADD COLUMN final_currency        TEXT;
      ALTER TABLE messages ADD COLUMN delivery_source       TEXT;    -- webhook | reconcile
      -- In-doubt resolution looks for unknown rows by destination; only unknown rows are indexed.
      CREATE INDEX messages_unknown_to ON messages (to_number) WHERE status = 'unknown';

      CREATE TABLE webhook_events (
        event_id      TEXT PRIMARY KEY,        -- data.id: Telnyx re-delivers with the same id
        event_type    TEXT NOT NULL,
        message_id    TEXT,
        to_number     TEXT,                    -- the payload's destination(s), comma-joined: finds events for unknown rows
        occurred_at   INTEGER,
        received_at   INTEGER NOT NULL,
        payload       TEXT NOT NULL,           -- the verified raw body
        applied       INTEGER NOT NULL,        -- 1 applied (or judged), 0 not (unknown message id, ambiguous, unreadable)
        note          TEXT
      );                                       -- a rowid table: payloads are too large for WITHOUT ROWID
      -- Outbound events not yet applied are retried (a row can become unknown after its receipt arrived).
      CREATE INDEX webhook_events_waiting ON webhook_events (received_at) WHERE applied = 0;
      CREATE INDEX webhook_events_waiting_to ON webhook_events (to_number) WHERE applied = 0;

      -- Numbers never to text again, whatever the job says. Read by plan/run as a suppression list.
      CREATE TABLE suppressions (
        number        TEXT PRIMARY KEY,        -- E.164
        source        TEXT NOT NULL,           -- stop_reply | 40300 | manual
        detail        TEXT,
        added_at      INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'the plan a run started from',
    sql: `
      -- What \`bulktext plan\` estimated for the rows this run sends, so status can set the estimate
      -- against the actual cost. NULL for runs started without a plan figure.
      ALTER TABLE runs ADD COLUMN planned_parts    INTEGER;
      ALTER TABLE runs ADD COLUMN planned_cost     TEXT;    -- decimal string, as Telnyx reports cost
      ALTER TABLE runs ADD COLUMN planned_currency TEXT;
      ALTER TABLE runs ADD COLUMN plan_hash        TEXT;    -- the plan_hash the run was checked against (run --plan)
    `,
  },
  {
    version: 4,
    name: 'scheduler: slots, last checked, daemons',
    sql: `
      -- Every daemon that has opened this ledger. Slots name their claimer, and a claimer is alive while
      -- its process is and its heartbeat is fresh: a crashed daemon's slot does not block the job forever.
      CREATE TABLE scheduler_daemons (
        daemon_id     TEXT PRIMARY KEY,
        pid           INTEGER NOT NULL,
        host          TEXT NOT NULL,
        started_at    INTEGER NOT NULL,
        heartbeat_at  INTEGER NOT NULL,        -- wall clock of the last heartbeat write
        stopped_at    INTEGER                  -- set by a clean stop
      ) WITHOUT ROWID;

      -- How far each job's schedule has been looked at, so a restarted daemon knows which slots it missed.
      CREATE TABLE scheduler_state (
        job_name        TEXT PRIMARY KEY,
        last_checked_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      -- One row per slot of a job, ever: the primary key is what makes a slot run at most once, whichever
      -- daemon (or restarted daemon) gets there first. Inserted before the run starts.
      CREATE TABLE schedule_slots (
        job_name      TEXT NOT NULL,
        slot          TEXT NOT NULL,           -- the slot instant, ISO-8601 UTC (slotKey)
        state         TEXT NOT NULL,           -- started | skipped | missed
        run_id        TEXT,                    -- the run this slot started (state started)
        reason        TEXT,                    -- why skipped or missed
        recorded_at   INTEGER NOT NULL,
        daemon_id     TEXT,                    -- the daemon that claimed it
        finished_at   INTEGER,                 -- when that daemon was done with it (NULL: still working, or it died)
        PRIMARY KEY (job_name, slot)
      ) WITHOUT ROWID;
      CREATE INDEX schedule_slots_open ON schedule_slots (job_name) WHERE finished_at IS NULL;
    `,
  },
  {
    version: 5,
    name: 'message ids indexed in bulk, not per commit',
    sql: `
      -- Telnyx message ids are random, so a unique index on messages.message_id put one random leaf page
      -- into every send commit: half of the send path's ledger cost. The lookup (webhooks, reconcile) now
      -- lives in its own table, filled in sorted batches from the attempts log (Ledger.indexMessageIds)
      -- when a run's sends end and whenever a lookup misses; messages.message_id stays the record.
      CREATE TABLE message_ids (
        message_id    TEXT PRIMARY KEY,
        rid           INTEGER NOT NULL,
        row           INTEGER NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO message_ids (message_id, rid, row)
        SELECT message_id, rid, row FROM messages WHERE message_id IS NOT NULL ORDER BY message_id;
      DROP INDEX messages_message_id;

      -- How far the attempts log has been read into message_ids (attempts.id of the last one read).
      CREATE TABLE message_index (
        id            INTEGER PRIMARY KEY CHECK (id = 1),
        last_attempt  INTEGER NOT NULL
      );
      INSERT INTO message_index (id, last_attempt) SELECT 1, coalesce(max(id), 0) FROM attempts;
    `,
  },
  {
    version: 6,
    name: 'delivered rows by time and failed receipts by code, for the dashboard',
    sql: `
      -- The dashboard charts deliveries per second and groups failed receipts by code while a run is live.
      -- Both partial indexes are written only when a receipt arrives, never on the send path, and the
      -- second holds only failed deliveries, so grouping them by code reads those rows and no others.
      CREATE INDEX IF NOT EXISTS messages_delivered ON messages (rid, delivered_at) WHERE delivered_at IS NOT NULL;
      CREATE INDEX IF NOT EXISTS messages_delivery_failed ON messages (rid, delivery_status, delivery_error_code)
        WHERE delivery_status IN ('delivery_failed', 'delivery_unconfirmed', 'sending_failed', 'expired');
    `,
  },
  {
    version: 7,
    name: 'operator commands: test runs, cancel requests, pruned runs',
    sql: `
      -- run --test-to: the numbers a test run sent the first rows' messages to (comma-joined); NULL for a
      -- real run. A test run never blocks the real one and has not texted the list's recipients.
      ALTER TABLE runs ADD COLUMN test_to             TEXT;
      -- bulktext cancel: asked from any shell; the owning process polls it and stops as on SIGINT.
      ALTER TABLE runs ADD COLUMN cancel_requested_at INTEGER;
      -- bulktext prune: when the run's texts, attempts and receipt payloads were deleted.
      ALTER TABLE runs ADD COLUMN pruned_at           INTEGER;
    `,
  },
  {
    version: 8,
    name: 'campaign memory: who each job has texted, across runs',
    sql: `
      -- A campaign is a job's name, its message template and whether its runs are sandbox runs: what a
      -- recipient must not get twice. \`template\` is JSON [text, subject, media_urls] (templateOf).
      CREATE TABLE campaigns (
        cid           INTEGER PRIMARY KEY,
        job_name      TEXT NOT NULL,
        template      TEXT NOT NULL,
        sandbox       INTEGER NOT NULL,
        UNIQUE (job_name, template, sandbox)
      );
      ALTER TABLE runs ADD COLUMN cid INTEGER;   -- campaigns.cid
      INSERT OR IGNORE INTO campaigns (job_name, template, sandbox)
        SELECT job_name, ${templateOf('job_spec')}, sandbox FROM runs ORDER BY rid;
      UPDATE runs SET cid = (
        SELECT c.cid FROM campaigns c WHERE c.job_name = runs.job_name AND c.sandbox = runs.sandbox
          AND c.template = ${templateOf('runs.job_spec')});

      -- The latest time each campaign texted each number (sent, or in doubt: unknown / sending), and by which
      -- run. A new run looks its numbers up here in batches while it ingests, so the memory of a 10M-row
      -- campaign is an index, never a set in memory. Filled from the attempts log in sorted passes (with
      -- message_ids, see Ledger.indexMessageIds), not in each send commit.
      CREATE TABLE campaign_memory (
        cid           INTEGER NOT NULL,
        number        TEXT NOT NULL,           -- messages.to_number (a group MMS: its numbers joined with ',')
        at            INTEGER NOT NULL,        -- when it was sent (or the request that may have sent it began)
        rid           INTEGER NOT NULL,        -- the run that did
        PRIMARY KEY (cid, number)
      ) WITHOUT ROWID;
      INSERT INTO campaign_memory (cid, number, at, rid)
        SELECT r.cid, m.to_number, coalesce(m.sent_at, m.sending_at, m.updated_at), m.rid
        FROM messages m JOIN runs r ON r.rid = m.rid
        WHERE m.status IN ('sending', 'sent', 'unknown') AND r.cid IS NOT NULL
        ORDER BY 1, 2
        ON CONFLICT (cid, number) DO UPDATE SET at = excluded.at, rid = excluded.rid WHERE excluded.at > campaign_memory.at;
    `,
  },
  {
    version: 9,
    name: 'limits shared by every process on the ledger',
    sql: `
      -- Each process sending on this ledger paces at its share of each Telnyx limit (ledger/limit-shares.ts
      -- has the rule). A holder row is its heartbeat; a share row is what it may use of one limit per window.
      CREATE TABLE limit_holders (
        holder        TEXT PRIMARY KEY,
        alive_until   INTEGER NOT NULL          -- fenced off (writes nothing) after this unless it syncs again
      ) WITHOUT ROWID;
      CREATE TABLE limit_shares (
        key           TEXT NOT NULL,            -- account:sms, sender:+18445550001, campaign:C1 ...
        holder        TEXT NOT NULL,
        capacity      REAL NOT NULL,            -- units per window for the whole account, as this holder reads it
        window_ms     INTEGER NOT NULL,
        demand        REAL NOT NULL,            -- units per window it could use now (0: idle)
        share         REAL NOT NULL,            -- units per window it paces at now
        peak          REAL NOT NULL,            -- a higher share it held, still reserved until peak_until
        peak_until    INTEGER NOT NULL,
        PRIMARY KEY (key, holder)
      ) WITHOUT ROWID;
      CREATE INDEX limit_shares_holder ON limit_shares (holder);
      -- Daily caps (a 10DLC brand's): units used per UTC day, so tomorrow's run knows today's use.
      CREATE TABLE limit_usage (
        key           TEXT NOT NULL,
        day           TEXT NOT NULL,            -- YYYY-MM-DD, UTC
        used          INTEGER NOT NULL,
        PRIMARY KEY (key, day)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 10,
    name: 'per-run totals kept by triggers',
    sql: `
      -- A run's rows by status and code, and its accepted rows by delivery status, code and price, kept exact by the
      -- triggers below on every write to messages (ingest, sends, receipts, reconcile, resume, cancel,
      -- prune), so status, resume and the dashboard read a handful of rows instead of counting millions.
      -- A NULL in a key column is stored as '' (key columns of a WITHOUT ROWID table are NOT NULL).
      -- code: the row's error_code (why it failed, was skipped, deferred or expired), so failures and skips
      -- by code are read here too.
      CREATE TABLE run_status_totals (
        rid           INTEGER NOT NULL,
        status        TEXT NOT NULL,
        code          TEXT NOT NULL,
        n             INTEGER NOT NULL,
        PRIMARY KEY (rid, status, code)
      ) WITHOUT ROWID;
      -- Only rows whose status is 'sent': what status --json calls delivery, and the run's actual cost
      -- (price: coalesce(final_cost, cost); currency: coalesce(final_currency, currency)); code: delivery_error_code.
      CREATE TABLE run_sent_totals (
        rid             INTEGER NOT NULL,
        delivery_status TEXT NOT NULL,
        code            TEXT NOT NULL,
        price           TEXT NOT NULL,
        currency        TEXT NOT NULL,
        n               INTEGER NOT NULL,
        parts           INTEGER NOT NULL,
        PRIMARY KEY (rid, delivery_status, code, price, currency)
      ) WITHOUT ROWID;
      -- Attempts and final receipts per second of each run, for the dashboard's chart: its first look at
      -- a run reads the last hour of this table, not every attempt and receipt the run ever had.
      CREATE TABLE run_seconds (
        rid           INTEGER NOT NULL,
        second        INTEGER NOT NULL,         -- epoch seconds (attempts: CAST(started_at / 1000 AS INTEGER))
        wire          INTEGER NOT NULL,         -- attempts started in that second
        delivered     INTEGER NOT NULL,         -- rows whose final status came in that second (delivered_at)
        PRIMARY KEY (rid, second)
      ) WITHOUT ROWID;

      INSERT INTO run_status_totals (rid, status, code, n)
        SELECT rid, status, coalesce(error_code, ''), count(*) FROM messages GROUP BY 1, 2, 3;
      INSERT INTO run_sent_totals (rid, delivery_status, code, price, currency, n, parts)
        SELECT rid, coalesce(delivery_status, ''), coalesce(delivery_error_code, ''), coalesce(final_cost, cost, ''), coalesce(final_currency, currency, ''),
          count(*), sum(parts)
        FROM messages WHERE status = 'sent' GROUP BY 1, 2, 3, 4, 5;
      INSERT INTO run_seconds (rid, second, wire, delivered)
        SELECT rid, second, sum(wire), sum(delivered) FROM (
          SELECT rid, CAST(started_at / 1000 AS INTEGER) AS second, 1 AS wire, 0 AS delivered FROM attempts
          UNION ALL
          SELECT rid, delivered_at / 1000, 0, 1 FROM messages WHERE delivered_at IS NOT NULL)
        GROUP BY rid, second;

      -- Decrements name the row that was counted (it exists); increments may create theirs.
      CREATE TRIGGER messages_totals_insert AFTER INSERT ON messages BEGIN${COUNT_INSERTED_ROW}      END;
      -- A move that starts an attempt (attempts changes: pending or deferred -> sending) is a send mark:
      -- the send commit that writes it counts its marks in one statement per commit (Ledger.commit), so
      -- the send path pays for one trigger per message, not two. Every other move is counted here.
      CREATE TRIGGER messages_totals_status AFTER UPDATE OF rid, status, error_code ON messages
        WHEN OLD.attempts IS NEW.attempts AND (OLD.status IS NOT NEW.status OR OLD.rid IS NOT NEW.rid OR OLD.error_code IS NOT NEW.error_code) BEGIN
        UPDATE run_status_totals SET n = n - 1 WHERE rid = OLD.rid AND status = OLD.status AND code = coalesce(OLD.error_code, '');
        INSERT INTO run_status_totals (rid, status, code, n) VALUES (NEW.rid, NEW.status, coalesce(NEW.error_code, ''), 1)
          ON CONFLICT DO UPDATE SET n = n + 1;
      END;
      -- Two triggers, so a move into sent (the send path) runs only the increment, and sending marks
      -- (pending -> sending) run neither.
      CREATE TRIGGER messages_totals_sent_old AFTER UPDATE OF rid, status, delivery_status, delivery_error_code, cost, currency, final_cost, final_currency, parts
        ON messages WHEN OLD.status = 'sent' BEGIN
        UPDATE run_sent_totals SET n = n - 1, parts = parts - OLD.parts
          WHERE rid = OLD.rid AND delivery_status = coalesce(OLD.delivery_status, '') AND code = coalesce(OLD.delivery_error_code, '')
            AND price = coalesce(OLD.final_cost, OLD.cost, '') AND currency = coalesce(OLD.final_currency, OLD.currency, '');
      END;
      CREATE TRIGGER messages_totals_sent_new AFTER UPDATE OF rid, status, delivery_status, delivery_error_code, cost, currency, final_cost, final_currency, parts
        ON messages WHEN NEW.status = 'sent' BEGIN
        INSERT INTO run_sent_totals (rid, delivery_status, code, price, currency, n, parts)
          VALUES (NEW.rid, coalesce(NEW.delivery_status, ''), coalesce(NEW.delivery_error_code, ''), coalesce(NEW.final_cost, NEW.cost, ''),
            coalesce(NEW.final_currency, NEW.currency, ''), 1, NEW.parts)
          ON CONFLICT DO UPDATE SET n = n + 1, parts = parts + excluded.parts;
      END;
      CREATE TRIGGER messages_totals_delivered AFTER UPDATE OF rid, delivered_at ON messages
        WHEN OLD.delivered_at IS NOT NEW.delivered_at OR OLD.rid IS NOT NEW.rid BEGIN
        UPDATE run_seconds SET delivered = delivered - 1 WHERE rid = OLD.rid AND second = OLD.delivered_at / 1000;
        INSERT INTO run_seconds (rid, second, wire, delivered) SELECT NEW.rid, NEW.delivered_at / 1000, 0, 1 WHERE NEW.delivered_at IS NOT NULL
          ON CONFLICT DO UPDATE SET delivered = delivered + 1;
      END;
      CREATE TRIGGER messages_totals_delete AFTER DELETE ON messages BEGIN
        UPDATE run_status_totals SET n = n - 1 WHERE rid = OLD.rid AND status = OLD.status AND code = coalesce(OLD.error_code, '');
        UPDATE run_sent_totals SET n = n - 1, parts = parts - OLD.parts
          WHERE OLD.status = 'sent' AND rid = OLD.rid AND delivery_status = coalesce(OLD.delivery_status, '') AND code = coalesce(OLD.delivery_error_code, '')
            AND price = coalesce(OLD.final_cost, OLD.cost, '') AND currency = coalesce(OLD.final_currency, OLD.currency, '');
        UPDATE run_seconds SET delivered = delivered - 1 WHERE rid = OLD.rid AND second = OLD.delivered_at / 1000;
      END;
      -- Attempts are inserted by the send commit alone, which adds them to run_seconds per second in one
      -- statement per commit; deleting them (prune, a run deleted after a failed ingest) is counted here.
      CREATE TRIGGER attempts_totals_delete AFTER DELETE ON attempts BEGIN
        UPDATE run_seconds SET wire = wire - 1 WHERE rid = OLD.rid AND second = CAST(OLD.started_at / 1000 AS INTEGER);
      END;
    `,
  },
  {
    version: 11,
    name: 'run and slot state moves enforced in SQL',
    sql: `
      -- The only moves a run's and a scheduler slot's state may make: the tables of ledger/states.ts, as
      -- rows. The stores already compile them into each UPDATE's WHERE; these triggers make the schema
      -- itself refuse any other move, whoever writes (an older bulktext, a script, a second backend's port).
      -- Append a migration to change them; a test checks that they match states.ts move for move.
      CREATE TABLE run_transitions (
        from_state    TEXT NOT NULL,
        to_state      TEXT NOT NULL,
        PRIMARY KEY (from_state, to_state)
      ) WITHOUT ROWID;
      INSERT INTO run_transitions (from_state, to_state) VALUES
        ('ingesting', 'running'), ('ingesting', 'interrupted'), ('ingesting', 'completed'), ('ingesting', 'aborted'), ('ingesting', 'cancelled'),
        ('running', 'running'), ('running', 'interrupted'), ('running', 'completed'), ('running', 'aborted'), ('running', 'cancelled'),
        ('interrupted', 'running'), ('interrupted', 'interrupted'), ('interrupted', 'completed'), ('interrupted', 'cancelled'),
        ('aborted', 'running'), ('aborted', 'completed'), ('aborted', 'cancelled'),
        ('completed', 'running'), ('completed', 'completed');
      CREATE TRIGGER runs_state_insert BEFORE INSERT ON runs WHEN NEW.state IS NOT 'ingesting'
      BEGIN
        SELECT RAISE(ABORT, 'illegal run state: a new run starts as ingesting, not ' || coalesce(NEW.state, 'NULL'));
      END;
      CREATE TRIGGER runs_state_move BEFORE UPDATE OF state ON runs
        WHEN NOT EXISTS (SELECT 1 FROM run_transitions WHERE from_state = OLD.state AND to_state = NEW.state)
      BEGIN
        SELECT RAISE(ABORT, 'illegal run move: run ' || OLD.rid || ' is ' || OLD.state || ' and cannot become ' || coalesce(NEW.state, 'NULL'));
      END;

      CREATE TABLE slot_transitions (
        from_state    TEXT NOT NULL,
        to_state      TEXT NOT NULL,
        PRIMARY KEY (from_state, to_state)
      ) WITHOUT ROWID;
      INSERT INTO slot_transitions (from_state, to_state) VALUES ('started', 'started'), ('started', 'skipped'), ('started', 'missed');
      CREATE TRIGGER schedule_slots_state_insert BEFORE INSERT ON schedule_slots
        WHEN NEW.state IS NULL OR NEW.state NOT IN ('started', 'skipped', 'missed')
      BEGIN
        SELECT RAISE(ABORT, 'illegal slot state: ' || coalesce(NEW.state, 'NULL') || ' (a slot is started, skipped or missed)');
      END;
      CREATE TRIGGER schedule_slots_state_move BEFORE UPDATE OF state ON schedule_slots
        WHEN NOT EXISTS (SELECT 1 FROM slot_transitions WHERE from_state = OLD.state AND to_state = NEW.state)
      BEGIN
        SELECT RAISE(ABORT, 'illegal slot move: job ' || OLD.job_name || ' slot ' || OLD.slot || ' is ' || OLD.state || ' and cannot become ' || coalesce(NEW.state, 'NULL'));
      END;
    `,
  },
  {
    version: 12,
    name: 'texts stored as their template values, senders once per run',
    sql: `
      -- A templated row's rendered text was most of its bytes (issue 17: 178 bytes a row before sending, at
      -- 10M rows). A row now may keep only the values its template placed (vars, joined by U+001F) with
      -- text NULL, and '' for the run's own sender; run_texts keeps the template's literal pieces and that
      -- sender once. Rows written before keep their text and sender (ledger/message-text.ts reads both).
      ALTER TABLE messages ADD COLUMN vars TEXT;
      CREATE TABLE run_texts (
        rid           INTEGER PRIMARY KEY,     -- runs.rid
        literals      TEXT NOT NULL,           -- JSON array: the template's text around its {{fields}}
        sender        TEXT                     -- what '' in messages.sender stands for (NULL: no run-wide sender)
      );
    `,
  },
  {
    version: 13,
    name: 'ingest counts its own rows into the totals',
    sql: `
      -- The insert trigger of migration 10 upserted run_status_totals once per ingested row: a quarter of
      -- ingest's ledger time (issue 17). Ingest (ledger/message-insert.ts) now counts a batch's rows by status
      -- and code itself, one upsert per group, and switches the trigger off for its own inserts with a row
      -- in this table, written and deleted inside its transaction: no other connection ever sees the row,
      -- and a failed batch rolls it back with the rows. Every other insert is still counted by the trigger.
      CREATE TABLE messages_insert_counted (
        id            INTEGER PRIMARY KEY CHECK (id = 1)
      );
      DROP TRIGGER messages_totals_insert;
      CREATE TRIGGER messages_totals_insert AFTER INSERT ON messages
        WHEN NOT EXISTS (SELECT 1 FROM messages_insert_counted) BEGIN${COUNT_INSERTED_ROW}      END;
      -- From here a row as ingested stores updated_at 0 (ledger/message-insert.ts INGESTED_AT): 6 bytes a
      -- row less, and its run's started_at says when it was written. Every later write sets the real time.
    `,
  },
  {
    version: 14,
    name: 'the scheduler leader lease',
    sql: `
      -- One row at most: the schedule daemon that leads (fires slots) and until when (ms, this host's clock).
      -- Renewed by its holder every couple of seconds; another daemon takes it only once it has expired
      -- (ledger/leader-store.ts).
      CREATE TABLE scheduler_leader (
        id            INTEGER PRIMARY KEY CHECK (id = 1),
        daemon_id     TEXT NOT NULL,
        acquired_at   INTEGER NOT NULL,
        expires_at    INTEGER NOT NULL
      );
    `,
  },
];
