/** Rows the PostgreSQL ledger tests write straight into the schema, below the stores (schema and COPY tests). */
import type pg from 'pg';

/** A minimal run row, as a new run is inserted (`ingesting` unless a test wants the trigger to refuse another); its rid. */
export async function insertRun(db: pg.Pool, runId: string, state = 'ingesting'): Promise<number> {
  const { rows } = await db.query<{ rid: string }>(
    `INSERT INTO runs (run_id, job_name, job_file, job_spec, spec_hash, source_path, source_sha256, state, started_at)
     VALUES ($1, 'job', 'job.yaml', '{}', 'h', 'in.csv', 's', $2, 0) RETURNING rid`,
    [runId, state],
  );
  return Number(rows[0]!.rid);
}
