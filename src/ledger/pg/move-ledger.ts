/**
 * Moves a SQLite ledger's history and suppressions into a PostgreSQL ledger (bulktext migrate-ledger):
 * one PostgreSQL transaction, so the target gets all of it or nothing, and only into a database that
 * holds no run yet — merging two histories could give two runs one rid. Rows keep their ids (rid, cid,
 * attempt id), so message ids, campaign memory and attempts still point at their runs. The per-run
 * totals are not copied: the target's triggers count them from the rows as they arrive.
 */
import type pg from 'pg';
import { AppError } from '../../shared/errors.js';
import { exportColumns, exportTables, LedgerExport, type ExportTable } from '../ledger-export.js';
import { copyInto, type CopyValue } from './copy-rows.js';
import { migratePg } from './migrations.js';

export type MovedCounts = Record<ExportTable, number>;

/** Identity columns whose sequence must continue after the moved ids. */
const identities: ReadonlyArray<readonly [table: string, column: string]> = [
  ['runs', 'rid'],
  ['campaigns', 'cid'],
  ['attempts', 'id'],
];

/**
 * Copies the ledger at `sqlitePath` into the database at `pool` (migrated first). @throws AppError
 * ERR_LEDGER_NOT_EMPTY when the target holds runs: nothing is written.
 */
export async function moveLedgerToPg(sqlitePath: string, pool: pg.Pool, target: string): Promise<MovedCounts> {
  await migratePg(pool);
  const source = new LedgerExport(sqlitePath);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      // A second migrate-ledger into the same database waits here, then finds the runs and refuses.
      await client.query('LOCK TABLE runs IN EXCLUSIVE MODE');
      const held = await client.query<{ n: string }>('SELECT count(*) AS n FROM runs');
      const n = Number(held.rows[0]?.n ?? 0);
      if (n > 0) {
        throw new AppError(
          'ERR_LEDGER_NOT_EMPTY',
          `the PostgreSQL ledger ${target} already holds ${n} run(s): migrate-ledger moves a ledger only into one without runs; nothing was written`,
        );
      }
      const moved = {} as MovedCounts;
      const finalStates: [rid: number, state: string][] = [];
      for (const table of exportTables) {
        const rows = table === 'runs' ? asIngesting(source.rows('runs'), finalStates) : (source.rows(table) as Iterable<CopyValue[]>);
        moved[table] = await copyInto(client, table, exportColumns[table].columns, rows);
      }
      // A new run starts as ingesting (the runs trigger enforces it); each then makes its one legal move
      // to where it ended in SQLite.
      if (finalStates.length > 0) {
        await client.query(
          `UPDATE runs SET state = f.state FROM unnest($1::bigint[], $2::text[]) AS f (rid, state) WHERE runs.rid = f.rid`,
          [finalStates.map(([rid]) => rid), finalStates.map(([, state]) => state)],
        );
      }
      await client.query('UPDATE message_index SET last_attempt = $1 WHERE id = 1', [source.indexedUpTo()]);
      for (const [table, column] of identities) {
        await client.query(`SELECT setval(pg_get_serial_sequence('${table}', '${column}'), coalesce((SELECT max(${column}) FROM ${table}), 0) + 1, false)`);
      }
      await client.query('COMMIT');
      return moved;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    client.release();
    source.close();
  }
}

/** The runs as rows whose state is 'ingesting', collecting each non-ingesting run's real state. */
function* asIngesting(rows: Iterable<unknown[]>, finalStates: [number, string][]): Generator<CopyValue[]> {
  const rid = exportColumns.runs.columns.indexOf('rid');
  const state = exportColumns.runs.columns.indexOf('state');
  for (const row of rows) {
    const values = [...row] as CopyValue[];
    if (values[state] !== 'ingesting') finalStates.push([Number(values[rid]), String(values[state])]);
    values[state] = 'ingesting';
    yield values;
  }
}
