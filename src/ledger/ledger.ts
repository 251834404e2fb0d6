/**
 * The SQLite ledger: every run, every message row, every HTTP attempt.
 *
 * Modelled on undici's sqlite-cache-store: WAL, prepared statements kept in private fields, a
 * synchronous API. Transactions never span an `await` (better-sqlite3 cannot, and we would not want it).
 *
 * Durability: WAL with synchronous=FULL, every commit fsynced, except the dispatcher's batches when it
 * defers their fsync (durability.ts has the rule and the machinery). The cost is paid per transaction,
 * not per row, because the dispatcher commits all the marks and outcomes of one event-loop turn together
 * (see dispatch/ledger-writer.ts).
 */
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { AppError, isAppError } from '../shared/errors.js';
import { ledgerStorageError, storageCode, writingTo } from './storage-error.js';
import { migrations } from './migrations.js';
import { sqliteMemoryStoreOf } from './memory-store.js';
import { runSourcesOf, type RunState } from './states.js';
import { columnsOf, type MessageColumns } from './message-columns.js';
import { WalDurability } from './durability.js';
import { messageIdStoreOf } from './message-id-store.js';
import { registerMessageText, type StoredTexts } from './message-text.js';
import type { AttemptRecord, DeferrableBatch, NewMessageRow, Outcome, PendingMessage, WriteBatch } from './types.js';

export type { AttemptRecord, DeferrableBatch, MessageColumns, NewMessageRow, Outcome, PendingMessage, WriteBatch };

export type Trigger = 'manual' | 'schedule';

export interface LedgerOptions {
  /**
   * Open for reading only (status, report, plan): never writes, and works on a read-only file in a
   * read-only folder. @default false
   */
  readonly?: boolean;
  /**
   * Test only: PRAGMA max_page_count for this connection, so a test can make the disk "full" at a chosen
   * size without mounting anything. The limit is per connection, which is why the process under test sets it.
   */
  maxPageCount?: number;
}

export interface NewRun {
  runId: string;
  jobName: string;
  jobFile: string;
  jobSpec: string;
  specHash: string;
  sourcePath: string;
  sourceSha256: string;
  sandbox: boolean;
  trigger?: Trigger;
  slot?: string;
  startedAt: number;
  /** A test run (`run --test-to`): the numbers it sends the first rows' messages to. */
  testTo?: readonly string[];
  /** The process that creates the run owns it from that moment, ingest included. */
  owner?: { pid: number; host: string };
}

export interface RunRecord extends Omit<NewRun, 'trigger' | 'slot' | 'testTo' | 'owner'> {
  rid: number;
  /** The run's campaign (job, message template, sandbox or real): what campaign memory is keyed by. */
  cid: number;
  state: RunState;
  trigger: Trigger;
  slot: string | null;
  total: number;
  finishedAt: number | null;
  stopCode: string | null;
  stopDetail: string | null;
  ownerPid: number | null;
  ownerHost: string | null;
  /** A test run's numbers (`run --test-to`); null for a real run. */
  testTo: string[] | null;
  /** When `bulktext cancel` asked the owning process to stop. */
  cancelRequestedAt: number | null;
  /** When `bulktext prune` deleted the run's texts and receipt payloads. */
  prunedAt: number | null;
}

/** What `prune` did. */
export interface PruneResult {
  runs: number;
  /** Rows whose text was deleted. */
  stripped: number;
  /** Rows deleted outright (never became a message; only without keepCounts). */
  deletedRows: number;
  attempts: number;
  webhookEvents: number;
}

interface RunRow {
  rid: number;
  run_id: string;
  job_name: string;
  job_file: string;
  job_spec: string;
  spec_hash: string;
  source_path: string;
  source_sha256: string;
  sandbox: number;
  state: RunState;
  trigger: Trigger;
  slot: string | null;
  total: number;
  started_at: number;
  finished_at: number | null;
  stop_code: string | null;
  stop_detail: string | null;
  owner_pid: number | null;
  owner_host: string | null;
  test_to: string | null;
  cancel_requested_at: number | null;
  pruned_at: number | null;
  cid: number;
}

function toRun(r: RunRow): RunRecord {
  return {
    rid: r.rid,
    cid: r.cid,
    runId: r.run_id,
    jobName: r.job_name,
    jobFile: r.job_file,
    jobSpec: r.job_spec,
    specHash: r.spec_hash,
    sourcePath: r.source_path,
    sourceSha256: r.source_sha256,
    sandbox: r.sandbox === 1,
    state: r.state,
    trigger: r.trigger,
    slot: r.slot,
    total: r.total,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    stopCode: r.stop_code,
    stopDetail: r.stop_detail,
    ownerPid: r.owner_pid,
    ownerHost: r.owner_host,
    testTo: r.test_to === null ? null : r.test_to.split(','),
    cancelRequestedAt: r.cancel_requested_at,
    prunedAt: r.pruned_at,
  };
}

/** Rows per multi-row INSERT during ingest (15 parameters each, far under SQLite's 32,766). */
const INSERT_CHUNK = 50;

const placeholders = (states: readonly string[]) => states.map((s) => `'${s}'`).join(', ');

/**
 * The ledger's connection, for the stores in this folder only (slot-store, delivery-store, …): outside
 * src/ledger/ nothing prepares SQL, so a second backend has one seam to implement (issue 15). Set by
 * Ledger's static block, the one place that may read its private connection.
 */
export let connectionOf: (ledger: Ledger) => Database.Database;

/** What the stores in this folder share with the Ledger beyond its connection; read once, in a store's constructor. */
export interface LedgerInternals {
  readonly durability: WalDurability;
  /** What a run's rows stored in short form stand for (message-text.ts), read once per run and kept. */
  textsOf(rid: number): StoredTexts | null;
  /** Drops a run's kept texts (the run is gone). */
  forgetTexts(rid: number): void;
}

/** Set by Ledger's static block, like `connectionOf`. */
export let internalsOf: (ledger: Ledger) => LedgerInternals;

export class Ledger {
  readonly path: string;
  /** Private: the stores in this folder reach it through `connectionOf`, nothing else does. */
  private readonly db: Database.Database;
  /** Opened with `readonly` (see LedgerOptions). */
  readonly readonly: boolean;
  #insertRun;
  #insertMessage;
  #insertRows;
  #insertMany;
  #cancelRequested: Database.Statement | undefined;
  readonly #durability: WalDurability;
  /** run_texts by rid, read once (before a statement iterates: the connection cannot run two at once). */
  readonly #runTexts = new Map<number, StoredTexts | null>();

  static {
    connectionOf = (ledger) => ledger.db;
    internalsOf = (ledger) => ({
      durability: ledger.#durability,
      textsOf: (rid) => ledger.#textsOf(rid),
      forgetTexts: (rid) => ledger.#runTexts.delete(rid),
    });
  }

  constructor(path: string, options: LedgerOptions = {}) {
    this.path = path;
    this.readonly = options.readonly === true;
    let db: Database.Database | undefined;
    try {
      db = this.readonly ? openReadOnly(path) : openReadWrite(path);
      if (options.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.trunc(options.maxPageCount)}`);
      if (this.readonly && schemaVersion(db) < latestVersion) {
        // An older ledger is upgraded once by a writer; a reader then sees the current schema.
        db.close();
        openReadWrite(path).close();
        db = openReadOnly(path);
      }
      if (!this.readonly) migrate(db);
      else checkVersion(db);
    } catch (err) {
      if (db?.open === true) db.close();
      if (isAppError(err)) throw err;
      const storage = ledgerStorageError(err, path, 'before-sending');
      if (storage !== err) throw storage;
      throw new AppError('ERR_LEDGER_SCHEMA', `cannot open ledger ${path}: ${(err as Error).message}`, { cause: err });
    }
    this.db = db;
    registerMessageText(db);
    this.#durability = new WalDurability(db, path, !this.readonly);

    this.#insertRun = this.db.prepare(
      `INSERT INTO runs (run_id, job_name, job_file, job_spec, spec_hash, source_path, source_sha256, sandbox, state, trigger, slot, started_at,
         test_to, owner_pid, owner_host, cid)
       VALUES (@runId, @jobName, @jobFile, @jobSpec, @specHash, @sourcePath, @sourceSha256, @sandbox, 'ingesting', @trigger, @slot, @startedAt,
         @testTo, @ownerPid, @ownerHost, @cid)`,
    );
    this.#insertMessage = this.db.prepare(
      `INSERT INTO messages (rid, row, line, to_number, sender, text, vars, subject, parts, encoding, tz, status, error_code, error_detail, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // Ingest inserts INSERT_CHUNK rows per statement: one bind-and-step per chunk instead of per row.
    this.#insertMany = this.db.prepare(
      `INSERT INTO messages (rid, row, line, to_number, sender, text, vars, subject, parts, encoding, tz, status, error_code, error_detail, updated_at)
       VALUES ${Array.from({ length: INSERT_CHUNK }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    );
    const params: unknown[] = new Array(INSERT_CHUNK * 15);
    this.#insertRows = this.db.transaction((rid: number, c: MessageColumns, now: number) => {
      let i = 0;
      for (; i + INSERT_CHUNK <= c.count; i += INSERT_CHUNK) {
        let p = 0;
        for (let j = i; j < i + INSERT_CHUNK; j++) {
          params[p++] = rid;
          params[p++] = c.row[j];
          params[p++] = c.line[j];
          params[p++] = c.to[j];
          params[p++] = c.sender[j];
          params[p++] = c.text[j];
          params[p++] = c.vars[j];
          params[p++] = c.subject[j];
          params[p++] = c.parts[j];
          params[p++] = c.encoding[j];
          params[p++] = c.tz[j];
          params[p++] = c.status[j];
          params[p++] = c.errorCode[j];
          params[p++] = c.errorDetail[j];
          params[p++] = now;
        }
        this.#insertMany.run(params);
      }
      for (; i < c.count; i++) {
        this.#insertMessage.run(
          rid, c.row[i], c.line[i], c.to[i], c.sender[i], c.text[i], c.vars[i], c.subject[i], c.parts[i], c.encoding[i], c.tz[i], c.status[i],
          c.errorCode[i], c.errorDetail[i], now,
        );
      }
    });
  }

  /** This connection's PRAGMA synchronous: `full` for every write but the deferred ones (see durability.ts). */
  synchronous(): 'off' | 'normal' | 'full' | 'extra' {
    const level = this.db.pragma('synchronous', { simple: true }) as number;
    return (['off', 'normal', 'full', 'extra'] as const)[level] ?? 'off';
  }

  /** False once closed (a metrics scrape or health check after shutdown reads nothing). */
  get isOpen(): boolean {
    return this.db.open;
  }

  close(): void {
    if (this.db.open) this.db.close();
    this.#durability.close();
  }

  createRun(run: NewRun): RunRecord {
    const { owner, testTo, ...fields } = run;
    this.db.transaction(() => {
      this.#insertRun.run({
        ...fields,
        sandbox: run.sandbox ? 1 : 0,
        trigger: run.trigger ?? 'manual',
        slot: run.slot ?? null,
        testTo: testTo === undefined ? null : testTo.join(','),
        ownerPid: owner?.pid ?? null,
        ownerHost: owner?.host ?? null,
        cid: sqliteMemoryStoreOf(this).campaignFor(run.jobName, run.jobSpec, run.sandbox),
      });
    })();
    return this.getRun(run.runId);
  }

  findRun(runId: string): RunRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM runs WHERE run_id = ?`).get(runId) as RunRow | undefined;
    return row === undefined ? undefined : toRun(row);
  }

  getRun(runId: string): RunRecord {
    const run = this.findRun(runId);
    if (run === undefined) throw new AppError('ERR_RUN_NOT_FOUND', `no run ${runId} in ledger ${this.path}`);
    return run;
  }

  /** Runs, newest first. */
  listRuns(): RunRecord[] {
    return (this.db.prepare(`SELECT * FROM runs ORDER BY started_at DESC, rid DESC`).all() as RunRow[]).map(toRun);
  }

  /**
   * Runs of a job that have neither completed nor been cancelled, of one kind (sandbox or real runs never
   * block each other), newest first. Test runs (`--test-to`) never count.
   */
  unfinishedRuns(jobName: string, sandbox: boolean): RunRecord[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM runs WHERE job_name = ? AND sandbox = ? AND state NOT IN ('completed', 'cancelled') AND test_to IS NULL ORDER BY rid DESC`,
        )
        .all(jobName, sandbox ? 1 : 0) as RunRow[]
    ).map(toRun);
  }

  /** Moves a run to `state`; a move the run-state table does not allow (e.g. out of `cancelled`) throws. */
  setRunState(rid: number, state: RunState, extra: { finishedAt?: number | null; stopCode?: string | null; stopDetail?: string | null } = {}): void {
    const from = runSourcesOf(state);
    const changes = this.db
      .prepare(`UPDATE runs SET state = ?, finished_at = ?, stop_code = ?, stop_detail = ? WHERE rid = ? AND state IN (${placeholders(from)})`)
      .run(state, extra.finishedAt ?? null, extra.stopCode ?? null, extra.stopDetail ?? null, rid).changes;
    if (changes !== 1) {
      const now = this.db.prepare(`SELECT state FROM runs WHERE rid = ?`).pluck().get(rid) as RunState | undefined;
      throw new AppError(
        'ERR_LEDGER_TRANSITION',
        now === undefined ? `no run with rid ${rid}` : `illegal run move: run ${rid} is ${now} and cannot become ${state} (allowed only from ${from.join(', ')})`,
      );
    }
  }

  /**
   * `bulktext cancel` on a run a process is sending: records the request, which the owner polls and obeys
   * as it would a SIGINT. Returns false when the run has already ended.
   */
  requestCancel(rid: number, at: number): boolean {
    return this.db.prepare(`UPDATE runs SET cancel_requested_at = ? WHERE rid = ? AND state NOT IN ('completed', 'cancelled')`).run(at, rid).changes === 1;
  }

  /** Runs `fn` in one IMMEDIATE transaction: what it reads cannot change under it before it writes. */
  exclusively<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Whether a cancel was requested for the run (polled by its owner about once a second: one indexed row). */
  cancelRequested(rid: number): boolean {
    this.#cancelRequested ??= this.db.prepare(`SELECT cancel_requested_at IS NOT NULL FROM runs WHERE rid = ?`).pluck();
    return this.#cancelRequested.get(rid) === 1;
  }

  /**
   * `bulktext prune`: for finished runs (completed or cancelled) that ended before `before`, deletes what
   * only an investigation needs — message texts and subjects, error details, the HTTP attempts log and the
   * delivery receipts' payloads — and keeps what the ledger must remember: each row's number, status,
   * send time, parts, cost and delivery status, and the run itself (job, spec, counts, cost). Without
   * `keepCounts` the rows that never became a message (skipped, expired, failed) are deleted too.
   * Space is reclaimed by `vacuum()`.
   */
  prune(before: number, options: { keepCounts: boolean; now?: number }): PruneResult {
    // The message-id lookup is filled from the attempts log: catch it up before the log goes.
    messageIdStoreOf(this).indexMessageIds();
    return this.db.transaction(() => {
      const rids = this.db
        .prepare(`SELECT rid FROM runs WHERE state IN ('completed', 'cancelled') AND coalesce(finished_at, started_at) < ? AND pruned_at IS NULL`)
        .pluck()
        .all(before) as number[];
      const result: PruneResult = { runs: rids.length, stripped: 0, deletedRows: 0, attempts: 0, webhookEvents: 0 };
      const events = this.db.prepare(`DELETE FROM webhook_events WHERE message_id IN (SELECT message_id FROM message_ids WHERE rid = ?)`);
      const attempts = this.db.prepare(`DELETE FROM attempts WHERE rid = ?`);
      const never = this.db.prepare(`DELETE FROM messages WHERE rid = ? AND status IN ('skipped', 'expired', 'failed')`);
      const strip = this.db.prepare(
        `UPDATE messages SET text = NULL, vars = NULL, subject = NULL, error_detail = NULL, delivery_error_detail = NULL
         WHERE rid = ? AND (text IS NOT NULL OR vars IS NOT NULL)`,
      );
      const mark = this.db.prepare(`UPDATE runs SET pruned_at = ? WHERE rid = ?`);
      for (const rid of rids) {
        result.webhookEvents += events.run(rid).changes;
        result.attempts += attempts.run(rid).changes;
        if (!options.keepCounts) result.deletedRows += never.run(rid).changes;
        result.stripped += strip.run(rid).changes;
        mark.run(options.now ?? Date.now(), rid);
      }
      return result;
    })();
  }

  /** Rewrites the ledger file without its free pages (after `prune`), and empties the WAL into it. */
  vacuum(): void {
    writingTo(this.path, () => {
      this.db.exec('VACUUM');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    });
  }

  /** The ledger's size on disk: the database file and its WAL. */
  sizeBytes(): number {
    const size = (file: string) => {
      try {
        return statSync(file).size;
      } catch {
        return 0;
      }
    };
    return size(this.path) + size(`${this.path}-wal`);
  }

  /** Records which process is sending this run (cleared with `null`), so a second one can refuse. */
  setOwner(rid: number, owner: { pid: number; host: string } | null): void {
    this.db.prepare(`UPDATE runs SET owner_pid = ?, owner_host = ? WHERE rid = ?`).run(owner?.pid ?? null, owner?.host ?? null, rid);
  }

  /** Deletes a run's message rows (a run that died while ingesting is ingested again; nothing was sent). */
  clearRows(rid: number): void {
    this.db.prepare(`DELETE FROM messages WHERE rid = ? AND status IN ('pending', 'skipped')`).run(rid);
  }

  /** Removes a run that never got past ingest (a structural error in the source): nothing was sent. */
  deleteRun(rid: number): void {
    this.db.transaction(() => {
      const left = (this.db.prepare(`SELECT count(*) AS n FROM messages WHERE rid = ? AND status NOT IN ('pending', 'skipped')`).get(rid) as { n: number }).n;
      if (left > 0) throw new AppError('ERR_LEDGER_TRANSITION', `run ${rid} has rows past pending; refusing to delete it`);
      this.db.prepare(`DELETE FROM attempts WHERE rid = ?`).run(rid);
      this.db.prepare(`DELETE FROM messages WHERE rid = ?`).run(rid);
      this.db.prepare(`DELETE FROM run_texts WHERE rid = ?`).run(rid);
      this.#runTexts.delete(rid);
      this.db.prepare(`DELETE FROM runs WHERE rid = ?`).run(rid);
    })();
  }

  setRunTotal(rid: number, total: number): void {
    this.db.prepare(`UPDATE runs SET total = ? WHERE rid = ?`).run(total, rid);
  }

  /**
   * What a run's rows stored in short form stand for (message-text.ts): the template's literal pieces
   * and the run's own sender (null: none). Set before ingest writes such rows.
   */
  setRunTexts(rid: number, literals: readonly string[], sender: string | null): void {
    this.db
      .prepare(`INSERT INTO run_texts (rid, literals, sender) VALUES (?, ?, ?) ON CONFLICT (rid) DO UPDATE SET literals = excluded.literals, sender = excluded.sender`)
      .run(rid, JSON.stringify(literals), sender);
    this.#runTexts.delete(rid);
  }

  #textsOf(rid: number): StoredTexts | null {
    let texts = this.#runTexts.get(rid);
    if (texts === undefined) {
      const r = this.db.prepare(`SELECT literals, sender FROM run_texts WHERE rid = ?`).get(rid) as { literals: string; sender: string | null } | undefined;
      texts = r === undefined ? null : { literals: JSON.parse(r.literals) as string[], sender: r.sender };
      this.#runTexts.set(rid, texts);
    }
    return texts;
  }

  /** Inserts ingested rows in one transaction. */
  insertRows(rid: number, rows: readonly NewMessageRow[], now = Date.now()): void {
    this.insertColumns(rid, columnsOf(rows), now);
  }

  /**
   * Inserts a batch of ingested rows in one transaction, committed without an fsync of its own: a run
   * that dies while ingesting is ingested again from scratch, and the commit that ends ingest
   * (`setRunTotal`, synchronous=FULL) makes every row before it durable with one fsync of the WAL.
   */
  insertColumns(rid: number, columns: MessageColumns, now = Date.now()): void {
    this.#unsynced(() => this.#insertRows(rid, columns, now));
  }

  /**
   * Runs `write` with its commits made without an fsync (synchronous=NORMAL): for writes that need no
   * durability of their own (the sandbox's receipts). A full disk or an I/O error is still ERR_LEDGER_IO.
   */
  withoutFsync<T>(write: () => T): T {
    let result: T | undefined;
    this.#unsynced(() => {
      result = write();
    });
    return result as T;
  }

  /** Runs a bulk write committed with synchronous=NORMAL (its durability comes later, see its callers). */
  #unsynced(write: () => void): void {
    this.#durability.unsynced(write);
  }

}

const latestVersion = migrations.at(-1)?.version ?? 0;

function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function checkVersion(db: Database.Database, current = schemaVersion(db)): void {
  if (current > latestVersion) {
    throw new AppError(
      'ERR_LEDGER_SCHEMA',
      `the ledger ${db.name} has schema version ${current}, written by a newer bulktext; this bulktext knows versions up to ${latestVersion}: upgrade bulktext`,
    );
  }
}

/**
 * Brings the schema up to date. The version is read again inside the BEGIN IMMEDIATE that migrates, so
 * processes opening a new ledger at once take turns: the first migrates, the others find it done.
 * (Read outside, two of them would both run migration 1: "table runs already exists".)
 */
function migrate(db: Database.Database): void {
  if (schemaVersion(db) === latestVersion) return; // versions only grow: nothing to do, no lock taken
  db.transaction(() => {
    const current = schemaVersion(db);
    checkVersion(db, current);
    for (const m of migrations) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }
  }).immediate();
}

/** Opens (creating if needed) for writing. A new file is created 0600: it holds phone numbers and texts. */
function openReadWrite(path: string): Database.Database {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AppError('ERR_LEDGER_UNUSABLE', `cannot create the ledger ${path}: its folder does not exist`, { cause: err });
    if (code !== 'EEXIST') throw new AppError('ERR_LEDGER_UNUSABLE', `cannot create the ledger ${path}: ${(err as Error).message}`, { cause: err });
  }
  const db = new Database(path, { timeout: 5000 });
  // Set before anything that locks: several processes opening a new file at once wait for each other.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // Checkpoint every ~40 MB of WAL instead of every 4 MB: a page the send path touches again and again
  // (a status-index leaf, a message-id leaf) is copied into the database once per checkpoint, not ten
  // times, and checkpoints (each with an fsync of the database) are a tenth as frequent.
  db.pragma('wal_autocheckpoint = 10000');
  return db;
}

/**
 * Opens for reading. A WAL database needs its -shm file even to read; when that file is absent and the
 * folder is read-only, SQLite cannot create it (SQLITE_READONLY_DIRECTORY / CANTOPEN) and this build has
 * no URI filenames for `immutable=1`. Then the file is read into memory as a snapshot, marked as a
 * rollback-journal database (header bytes 18-19) so SQLite reads it without a WAL: nothing can be writing
 * a file no one may write.
 */
function openReadOnly(path: string): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5000 });
  try {
    schemaVersion(db);
    return db;
  } catch (err) {
    db.close();
    const code = storageCode(err);
    if (code !== 'SQLITE_READONLY_DIRECTORY' && code !== 'SQLITE_CANTOPEN' && code !== 'SQLITE_READONLY_CANTINIT') throw err;
  }
  const image = readFileSync(path);
  if (image.length >= 20 && image[18] === 2 && image[19] === 2) {
    image[18] = 1;
    image[19] = 1;
  }
  return new Database(image, { readonly: true });
}
