/**
 * Runs on PostgreSQL: the same RunStore as SQLite's (run-store.ts), each method a round trip. A run's state
 * moves as states.ts's run table allows, compiled into each UPDATE's WHERE like SQLite's, and the
 * runs_state_move trigger refuses any other move whatever code wrote it.
 */
import { AppError } from '../../shared/errors.js';
import { perLedger } from '../per-ledger.js';
import { toRun, type NewRun, type RunRecord, type RunRow, type RunStateChange } from '../run-store.js';
import { runSourcesOf, sqlList, type RunState } from '../states.js';
import type { PgLedger, PgTx } from './pg-ledger.js';

// job_spec as its text: the SQLite ledger hands it back as the JSON it stored, and callers parse it.
const RUN_COLUMNS = `rid, cid, run_id, job_name, job_file, job_spec::text AS job_spec, spec_hash, source_path, source_sha256, sandbox, state,
  trigger, slot, total, started_at, finished_at, stop_code, stop_detail, owner_pid, owner_host, test_to, cancel_requested_at, pruned_at`;

/** A campaign is the job's name, its message template and sandbox-or-real (as SQLite's migration 6 keys it). */
export const PG_TEMPLATE = `jsonb_build_array($2::jsonb -> 'message' -> 'text', $2::jsonb -> 'message' -> 'subject', $2::jsonb -> 'message' -> 'media_urls')`;

export class PgRunStore {
  readonly #pg: PgLedger;

  constructor(pg: PgLedger) {
    this.#pg = pg;
  }

  /** Creates the run (state `ingesting`) and its campaign if it has none yet, in one transaction. */
  async createRun(run: NewRun): Promise<RunRecord> {
    const rid = await this.#pg.transaction(async (tx) => {
      const cid = await campaignFor(tx, run.jobName, run.jobSpec, run.sandbox);
      const { rows } = await tx.query<{ rid: number }>(
        `INSERT INTO runs (run_id, job_name, job_file, job_spec, spec_hash, source_path, source_sha256, sandbox, state, trigger, slot, started_at,
           test_to, owner_pid, owner_host, cid)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, 'ingesting', $9, $10, $11, $12, $13, $14, $15) RETURNING rid`,
        [
          run.runId,
          run.jobName,
          run.jobFile,
          run.jobSpec,
          run.specHash,
          run.sourcePath,
          run.sourceSha256,
          run.sandbox,
          run.trigger ?? 'manual',
          run.slot ?? null,
          run.startedAt,
          run.testTo === undefined ? null : run.testTo.join(','),
          run.owner?.pid ?? null,
          run.owner?.host ?? null,
          cid,
        ],
      );
      return rows[0]!.rid;
    });
    return (await this.#byRid(rid))!;
  }

  async findRun(runId: string): Promise<RunRecord | undefined> {
    const { rows } = await this.#pg.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = $1`, [runId]);
    return rows[0] === undefined ? undefined : toRun(rows[0]);
  }

  /** @throws AppError ERR_RUN_NOT_FOUND */
  async getRun(runId: string): Promise<RunRecord> {
    const run = await this.findRun(runId);
    if (run === undefined) throw new AppError('ERR_RUN_NOT_FOUND', `no run ${runId} in the PostgreSQL ledger ${this.#pg.target}`);
    return run;
  }

  async #byRid(rid: number): Promise<RunRecord | undefined> {
    const { rows } = await this.#pg.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE rid = $1`, [rid]);
    return rows[0] === undefined ? undefined : toRun(rows[0]);
  }

  /** Runs, newest first. */
  async listRuns(): Promise<RunRecord[]> {
    const { rows } = await this.#pg.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs ORDER BY started_at DESC, rid DESC`);
    return rows.map(toRun);
  }

  /** Runs in `state` (workers join the `running` ones), oldest first. */
  async runsIn(state: 'running' | 'ingesting'): Promise<RunRecord[]> {
    const { rows } = await this.#pg.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE state = $1 ORDER BY rid`, [state]);
    return rows.map(toRun);
  }

  /** Unfinished runs of a job and kind, newest first; test runs never count (as SQLite's). */
  async unfinishedRuns(jobName: string, sandbox: boolean): Promise<RunRecord[]> {
    const { rows } = await this.#pg.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE job_name = $1 AND sandbox = $2 AND state NOT IN ('completed', 'cancelled') AND test_to IS NULL ORDER BY rid DESC`,
      [jobName, sandbox],
    );
    return rows.map(toRun);
  }

  /** Moves a run to `state`; a move the table does not allow throws ERR_LEDGER_TRANSITION. */
  async setRunState(rid: number, state: RunState, extra: RunStateChange = {}): Promise<void> {
    if (!(await this.moveRun(rid, state, extra))) {
      const found = await this.#pg.query<{ state: string }>(`SELECT state FROM runs WHERE rid = $1`, [rid]);
      throw new AppError(
        'ERR_LEDGER_TRANSITION',
        `illegal run move: run ${rid} is ${found.rows[0]?.state ?? 'missing'} and cannot become ${state} (allowed only from ${runSourcesOf(state).join(', ')})`,
      );
    }
  }

  /**
   * Moves a run to `state` if it is in one of `from` (default: every state the table allows); false when
   * it is not (another worker moved it first). Many workers close one run: the first to see it drained wins.
   */
  async moveRun(rid: number, state: RunState, extra: RunStateChange = {}, from: readonly RunState[] = runSourcesOf(state)): Promise<boolean> {
    const legal = from.filter((s) => runSourcesOf(state).includes(s));
    if (legal.length === 0) return false;
    const { rowCount } = await this.#pg.query(
      `UPDATE runs SET state = $1, finished_at = $2, stop_code = $3, stop_detail = $4 WHERE rid = $5 AND state IN (${sqlList(legal)})`,
      [state, extra.finishedAt ?? null, extra.stopCode ?? null, extra.stopDetail ?? null, rid],
    );
    return rowCount === 1;
  }

  /** Records a cancel request; false when the run has already ended. */
  async requestCancel(rid: number, at: number): Promise<boolean> {
    const { rowCount } = await this.#pg.query(`UPDATE runs SET cancel_requested_at = $1 WHERE rid = $2 AND state NOT IN ('completed', 'cancelled')`, [at, rid]);
    return rowCount === 1;
  }

  async cancelRequested(rid: number): Promise<boolean> {
    const { rows } = await this.#pg.query<{ asked: boolean }>(`SELECT cancel_requested_at IS NOT NULL AS asked FROM runs WHERE rid = $1`, [rid]);
    return rows[0]?.asked === true;
  }

  async setOwner(rid: number, owner: { pid: number; host: string } | null): Promise<void> {
    await this.#pg.query(`UPDATE runs SET owner_pid = $1, owner_host = $2 WHERE rid = $3`, [owner?.pid ?? null, owner?.host ?? null, rid]);
  }

  async setRunTotal(rid: number, total: number): Promise<void> {
    await this.#pg.query(`UPDATE runs SET total = $1 WHERE rid = $2`, [total, rid]);
  }

  /** Removes a run that never got past ingest: nothing was sent. */
  async deleteRun(rid: number): Promise<void> {
    await this.#pg.transaction(async (tx) => {
      for (const table of ['attempts', 'messages', 'run_texts', 'run_status_totals', 'run_sent_totals', 'run_seconds', 'runs']) {
        await tx.query(`DELETE FROM ${table} WHERE rid = $1`, [rid]);
      }
    });
  }

  /** Deletes a run's ingested rows (a run that died while ingesting is ingested again; nothing was sent). */
  async clearRows(rid: number): Promise<void> {
    await this.#pg.query(`DELETE FROM messages WHERE rid = $1 AND status IN ('pending', 'skipped')`, [rid]);
  }
}

/** The campaign of a job spec and kind, made if no run of it exists yet (inside a new run's transaction). */
async function campaignFor(tx: PgTx, jobName: string, jobSpec: string, sandbox: boolean): Promise<number> {
  await tx.query(`INSERT INTO campaigns (job_name, template, sandbox) VALUES ($1, ${PG_TEMPLATE}, $3) ON CONFLICT DO NOTHING`, [jobName, jobSpec, sandbox]);
  const { rows } = await tx.query<{ cid: number }>(`SELECT cid FROM campaigns WHERE job_name = $1 AND template = ${PG_TEMPLATE} AND sandbox = $3`, [
    jobName,
    jobSpec,
    sandbox,
  ]);
  return rows[0]!.cid;
}

export const pgRunStoreOf = perLedger((ledger: PgLedger) => new PgRunStore(ledger));
