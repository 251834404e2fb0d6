/**
 * Runs: one row per `bulktext run` (or scheduled firing), its job, source, state and owner. A run's state
 * moves only as states.ts's run table allows, compiled into each UPDATE's `WHERE state IN (…)` (and
 * migration 11's trigger refuses any other move). Statements prepared once per ledger, like every store here.
 */
import type Database from 'better-sqlite3';
import { AppError } from '../shared/errors.js';
import { connectionOf, internalsOf, type Ledger, type LedgerInternals } from './ledger.js';
import { sqliteMemoryStoreOf, type SqliteMemoryStore } from './memory-store.js';
import { perLedger } from './per-ledger.js';
import { runSourcesOf, runStates, sqlList, type RunState } from './states.js';
import { onPg } from './backend.js';
import type { PgLedger } from './pg/pg-ledger.js';
import { pgRunStoreOf, type PgRunStore } from './pg/run-store.js';

export type Trigger = 'manual' | 'schedule';

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

export interface RunRow {
  rid: number;
  run_id: string;
  job_name: string;
  job_file: string;
  job_spec: string;
  spec_hash: string;
  source_path: string;
  source_sha256: string;
  /** 0/1 in SQLite, a boolean in PostgreSQL. */
  sandbox: number | boolean;
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

/** A runs row as either backend reads it (PostgreSQL's job_spec read back as its text). */
export function toRun(r: RunRow): RunRecord {
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
    sandbox: r.sandbox === 1 || r.sandbox === true,
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

/** How a run's state may be moved: its stop fields, all null unless given. */
export interface RunStateChange {
  finishedAt?: number | null;
  stopCode?: string | null;
  stopDetail?: string | null;
}

/**
 * The seam a second backend implements. On PostgreSQL each method is a round trip and would return a
 * Promise; only `cancelRequested` is polled while a run sends (about once a second).
 */
export interface RunStore {
  /** Creates the run (state `ingesting`) and its campaign if it has none yet. */
  createRun(run: NewRun): RunRecord;
  findRun(runId: string): RunRecord | undefined;
  /** @throws AppError ERR_RUN_NOT_FOUND */
  getRun(runId: string): RunRecord;
  /** Runs, newest first. */
  listRuns(): RunRecord[];
  /**
   * Runs of a job that have neither completed nor been cancelled, of one kind (sandbox or real runs never
   * block each other), newest first. Test runs (`--test-to`) never count.
   */
  unfinishedRuns(jobName: string, sandbox: boolean): RunRecord[];
  /** Moves a run to `state`; a move the run-state table does not allow (e.g. out of `cancelled`) throws ERR_LEDGER_TRANSITION. */
  setRunState(rid: number, state: RunState, extra?: RunStateChange): void;
  /**
   * `bulktext cancel` on a run a process is sending: records the request, which the owner polls and obeys
   * as it would a SIGINT. Returns false when the run has already ended.
   */
  requestCancel(rid: number, at: number): boolean;
  /** Whether a cancel was requested for the run (polled by its owner: one indexed row). */
  cancelRequested(rid: number): boolean;
  /** Records which process is sending this run (cleared with `null`), so a second one can refuse. */
  setOwner(rid: number, owner: { pid: number; host: string } | null): void;
  /** The run's row count, once ingest has counted them. */
  setRunTotal(rid: number, total: number): void;
  /** Removes a run that never got past ingest (a structural error in the source): nothing was sent. */
  deleteRun(rid: number): void;
  /** Deletes a run's message rows (a run that died while ingesting is ingested again; nothing was sent). */
  clearRows(rid: number): void;
}

export class SqliteRunStore implements RunStore {
  readonly #db: Database.Database;
  readonly #path: string;
  readonly #internals: LedgerInternals;
  readonly #memory: SqliteMemoryStore;
  readonly #insertRun: Database.Statement;
  readonly #byRunId: Database.Statement;
  readonly #all: Database.Statement;
  readonly #unfinished: Database.Statement;
  /** One UPDATE per target state, its legal sources compiled in. */
  readonly #moveTo: ReadonlyMap<RunState, Database.Statement>;
  readonly #stateOf: Database.Statement;
  readonly #requestCancel: Database.Statement;
  readonly #cancelRequested: Database.Statement;
  readonly #setOwner: Database.Statement;
  readonly #setTotal: Database.Statement;
  readonly #clearRows: Database.Statement;
  readonly #rowsPastPending: Database.Statement;
  readonly #deleteRun: Database.Statement[];

  constructor(ledger: Ledger) {
    const db = connectionOf(ledger);
    this.#db = db;
    this.#path = ledger.path;
    this.#internals = internalsOf(ledger);
    this.#memory = sqliteMemoryStoreOf(ledger);
    this.#insertRun = db.prepare(
      `INSERT INTO runs (run_id, job_name, job_file, job_spec, spec_hash, source_path, source_sha256, sandbox, state, trigger, slot, started_at,
         test_to, owner_pid, owner_host, cid)
       VALUES (@runId, @jobName, @jobFile, @jobSpec, @specHash, @sourcePath, @sourceSha256, @sandbox, 'ingesting', @trigger, @slot, @startedAt,
         @testTo, @ownerPid, @ownerHost, @cid)`,
    );
    this.#byRunId = db.prepare(`SELECT * FROM runs WHERE run_id = ?`);
    this.#all = db.prepare(`SELECT * FROM runs ORDER BY started_at DESC, rid DESC`);
    this.#unfinished = db.prepare(
      `SELECT * FROM runs WHERE job_name = ? AND sandbox = ? AND state NOT IN ('completed', 'cancelled') AND test_to IS NULL ORDER BY rid DESC`,
    );
    this.#moveTo = new Map(
      runStates.map((state) => [
        state,
        db.prepare(`UPDATE runs SET state = ?, finished_at = ?, stop_code = ?, stop_detail = ? WHERE rid = ? AND state IN (${sqlList(runSourcesOf(state))})`),
      ]),
    );
    this.#stateOf = db.prepare(`SELECT state FROM runs WHERE rid = ?`).pluck();
    this.#requestCancel = db.prepare(`UPDATE runs SET cancel_requested_at = ? WHERE rid = ? AND state NOT IN ('completed', 'cancelled')`);
    this.#cancelRequested = db.prepare(`SELECT cancel_requested_at IS NOT NULL FROM runs WHERE rid = ?`).pluck();
    this.#setOwner = db.prepare(`UPDATE runs SET owner_pid = ?, owner_host = ? WHERE rid = ?`);
    this.#setTotal = db.prepare(`UPDATE runs SET total = ? WHERE rid = ?`);
    this.#clearRows = db.prepare(`DELETE FROM messages WHERE rid = ? AND status IN ('pending', 'skipped')`);
    this.#rowsPastPending = db.prepare(`SELECT count(*) AS n FROM messages WHERE rid = ? AND status NOT IN ('pending', 'skipped')`).pluck();
    this.#deleteRun = ['attempts', 'messages', 'run_texts', 'runs'].map((table) => db.prepare(`DELETE FROM ${table} WHERE rid = ?`));
  }

  createRun(run: NewRun): RunRecord {
    const { owner, testTo, ...fields } = run;
    this.#db.transaction(() => {
      this.#insertRun.run({
        ...fields,
        sandbox: run.sandbox ? 1 : 0,
        trigger: run.trigger ?? 'manual',
        slot: run.slot ?? null,
        testTo: testTo === undefined ? null : testTo.join(','),
        ownerPid: owner?.pid ?? null,
        ownerHost: owner?.host ?? null,
        cid: this.#memory.campaignFor(run.jobName, run.jobSpec, run.sandbox),
      });
    })();
    return this.getRun(run.runId);
  }

  findRun(runId: string): RunRecord | undefined {
    const row = this.#byRunId.get(runId) as RunRow | undefined;
    return row === undefined ? undefined : toRun(row);
  }

  getRun(runId: string): RunRecord {
    const run = this.findRun(runId);
    if (run === undefined) throw new AppError('ERR_RUN_NOT_FOUND', `no run ${runId} in ledger ${this.#path}`);
    return run;
  }

  listRuns(): RunRecord[] {
    return (this.#all.all() as RunRow[]).map(toRun);
  }

  unfinishedRuns(jobName: string, sandbox: boolean): RunRecord[] {
    return (this.#unfinished.all(jobName, sandbox ? 1 : 0) as RunRow[]).map(toRun);
  }

  setRunState(rid: number, state: RunState, extra: RunStateChange = {}): void {
    const changes = this.#moveTo.get(state)!.run(state, extra.finishedAt ?? null, extra.stopCode ?? null, extra.stopDetail ?? null, rid).changes;
    if (changes !== 1) {
      const now = this.#stateOf.get(rid) as RunState | undefined;
      throw new AppError(
        'ERR_LEDGER_TRANSITION',
        now === undefined
          ? `no run with rid ${rid}`
          : `illegal run move: run ${rid} is ${now} and cannot become ${state} (allowed only from ${runSourcesOf(state).join(', ')})`,
      );
    }
  }

  requestCancel(rid: number, at: number): boolean {
    return this.#requestCancel.run(at, rid).changes === 1;
  }

  cancelRequested(rid: number): boolean {
    return this.#cancelRequested.get(rid) === 1;
  }

  setOwner(rid: number, owner: { pid: number; host: string } | null): void {
    this.#setOwner.run(owner?.pid ?? null, owner?.host ?? null, rid);
  }

  setRunTotal(rid: number, total: number): void {
    this.#setTotal.run(total, rid);
  }

  deleteRun(rid: number): void {
    this.#db.transaction(() => {
      if ((this.#rowsPastPending.get(rid) as number) > 0) {
        throw new AppError('ERR_LEDGER_TRANSITION', `run ${rid} has rows past pending; refusing to delete it`);
      }
      for (const del of this.#deleteRun) del.run(rid);
      this.#internals.forgetTexts(rid);
    })();
  }

  clearRows(rid: number): void {
    this.#clearRows.run(rid);
  }
}

/** The run store of an open ledger: one per ledger, so its statements are prepared once. */
const sqliteRunStoreOf: (ledger: Ledger) => RunStore = perLedger((ledger) => new SqliteRunStore(ledger));

/** The run store of either backend's handle: SQLite's answers now, PostgreSQL's with Promises. */
export function runStoreOf(ledger: Ledger): RunStore;
export function runStoreOf(ledger: PgLedger): PgRunStore;
export function runStoreOf(ledger: Ledger | PgLedger): RunStore | PgRunStore;
export function runStoreOf(ledger: Ledger | PgLedger): RunStore | PgRunStore {
  return onPg(ledger) ? pgRunStoreOf(ledger) : sqliteRunStoreOf(ledger);
}
