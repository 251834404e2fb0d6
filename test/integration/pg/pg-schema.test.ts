/** The PostgreSQL ledger's schema on a real cluster: migrations under the advisory lock, state machines in SQL, totals. */
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerExport } from '../../../src/ledger/ledger-export.js';
import { Ledger } from '../../../src/ledger/ledger.js';
import { connectPg } from '../../../src/ledger/pg/connect.js';
import { migratePg, pgMigrations } from '../../../src/ledger/pg/migrations.js';
import { rowStatuses, runStates, runTransitions, slotStates, slotTransitions, transitions } from '../../../src/ledger/states.js';
import { isAppError } from '../../../src/shared/errors.js';
import { createDatabase } from '../../helpers/pg-cluster.js';
import { tempDir } from '../../helpers/temp.js';
import { insertRun } from './pg-rows.js';

const pools: pg.Pool[] = [];
async function pool(url: string): Promise<pg.Pool> {
  const p = await connectPg(url, { max: 4 });
  pools.push(p);
  return p;
}
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
});

const latest = pgMigrations.at(-1)!.version;

describe('migratePg', () => {
  it('applies every migration to an empty database once; a second pass is a no-op', async () => {
    const db = await pool(await createDatabase());
    expect(await migratePg(db)).toEqual({ from: 0, to: latest, applied: pgMigrations.map((m) => m.version) });
    expect(await migratePg(db)).toEqual({ from: latest, to: latest, applied: [] });
    const { rows } = await db.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(pgMigrations.map((m) => m.version));
  });

  it('two processes migrating one new database at once: one applies, the other waits and finds it done', async () => {
    const url = await createDatabase();
    const [a, b] = [await pool(url), await pool(url)];
    const results = await Promise.all([migratePg(a), migratePg(b)]);
    expect(results.flatMap((r) => r.applied).sort()).toEqual(pgMigrations.map((m) => m.version));
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, pgMigrations.length]);
    const { rows } = await a.query('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0].n).toBe(pgMigrations.length);
  });

  it('refuses a database written by a newer bulktext, and changes nothing', async () => {
    const db = await pool(await createDatabase());
    await migratePg(db);
    await db.query(`INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')`, [latest + 1]);
    const err = await migratePg(db).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_LEDGER_SCHEMA')).toBe(true);
    expect((err as Error).message).toMatch(new RegExp(`schema version ${latest + 1}.*knows versions up to ${latest}: upgrade bulktext`));
    const { rows } = await db.query('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0].n).toBe(pgMigrations.length + 1);
  });

  it('a migration that fails is rolled back whole and names itself', async () => {
    const db = await pool(await createDatabase());
    const broken = [...pgMigrations, { version: latest + 1, name: 'broken', sql: 'CREATE TABLE half_done (x int); SELECT no_such_column FROM runs' }];
    const err = await migratePg(db, broken).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_LEDGER_SCHEMA')).toBe(true);
    expect((err as Error).message).toContain(`migration ${latest + 1} (broken)`);
    const { rows } = await db.query(`SELECT to_regclass('half_done') AS t, (SELECT max(version) FROM schema_migrations) AS v`);
    expect(rows[0]).toEqual({ t: null, v: latest });
  });
});

describe('state machines enforced in SQL', () => {
  let db: pg.Pool;
  beforeAll(async () => {
    db = await pool(await createDatabase());
    await migratePg(db);
  });

  const pairs = <S extends string>(states: readonly S[]) => states.flatMap((from) => states.map((to) => [from, to] as const));
  const asRows = <S extends string>(table: Readonly<Record<S, readonly S[]>>) =>
    Object.entries<readonly S[]>(table)
      .flatMap(([from, tos]) => tos.map((to) => `${from}>${to}`))
      .sort();
  const stored = async (table: string) =>
    (await db.query<{ m: string }>(`SELECT from_state || '>' || to_state AS m FROM ${table}`)).rows.map((r) => r.m).sort();

  it('the transition tables are states.ts, move for move', async () => {
    expect(await stored('message_transitions')).toEqual(asRows(transitions));
    expect(await stored('run_transitions')).toEqual(asRows(runTransitions));
    expect(await stored('slot_transitions')).toEqual(asRows(slotTransitions));
  });

  const newRun = (runId: string) => insertRun(db, runId);
  const outcome = (q: Promise<unknown>) =>
    q.then(
      () => 'ok',
      (e: Error) => e.message,
    );

  it('every pair of message states: a legal move passes, an illegal one is refused naming both states', async () => {
    const rid = await newRun('messages-pairs');
    let row = 0;
    for (const [from, to] of pairs(rowStatuses)) {
      row += 1;
      await db.query(`INSERT INTO messages (rid, row, line, to_number, status, updated_at) VALUES ($1, $2, $2, '+15550100', $3, 0)`, [rid, row, from]);
      const got = await outcome(db.query('UPDATE messages SET status = $3 WHERE rid = $1 AND row = $2', [rid, row, to]));
      expect([from, to, got]).toEqual([from, to, transitions[from].includes(to) ? 'ok' : `illegal message move: run ${rid} row ${row} is ${from} and cannot become ${to}`]);
    }
    expect(await outcome(db.query(`INSERT INTO messages (rid, row, line, to_number, status, updated_at) VALUES ($1, 0, 0, '+1', 'lost', 0)`, [rid]))).toMatch(
      /messages_status_check/,
    );
  });

  it('every pair of run states; a new run starts as ingesting', async () => {
    let n = 0;
    for (const [from, to] of pairs(runStates)) {
      const rid = await newRun(`run-${(n += 1)}`);
      if (from !== 'ingesting') await db.query('UPDATE runs SET state = $2 WHERE rid = $1', [rid, from]);
      const got = await outcome(db.query('UPDATE runs SET state = $2 WHERE rid = $1', [rid, to]));
      expect([from, to, got]).toEqual([from, to, runTransitions[from].includes(to) ? 'ok' : `illegal run move: run ${rid} is ${from} and cannot become ${to}`]);
    }
    const inserted = await outcome(insertRun(db, 'born-running', 'running'));
    expect(inserted).toBe('illegal run state: a new run starts as ingesting, not running');
  });

  it('every pair of slot states', async () => {
    let n = 0;
    for (const [from, to] of pairs(slotStates)) {
      const slot = `2026-01-01T00:00:0${(n += 1)}Z`;
      await db.query(`INSERT INTO schedule_slots (job_name, slot, state, recorded_at) VALUES ('nightly', $1, $2, 0)`, [slot, from]);
      const got = await outcome(db.query(`UPDATE schedule_slots SET state = $2 WHERE job_name = 'nightly' AND slot = $1`, [slot, to]));
      expect([from, to, got]).toEqual([from, to, slotTransitions[from].includes(to) ? 'ok' : `illegal slot move: job nightly slot ${slot} is ${from} and cannot become ${to}`]);
    }
  });
});

describe('per-run totals kept by triggers', () => {
  it('equal a count of the rows after inserts, moves, receipts, attempts and deletes', async () => {
    const db = await pool(await createDatabase());
    await migratePg(db);
    const rid = await insertRun(db, 't');
    await db.query(
      `INSERT INTO messages (rid, row, line, to_number, status, parts, updated_at)
       SELECT $1, g, g, '+1555' || g, CASE WHEN g % 10 = 0 THEN 'skipped' ELSE 'pending' END, 1 + g % 3, 0 FROM generate_series(1, 500) g`,
      [rid],
    );
    await db.query(`UPDATE messages SET status = 'sending', attempts = 1 WHERE rid = $1 AND status = 'pending' AND row <= 300`, [rid]);
    await db.query(`UPDATE messages SET status = 'sent', cost = '0.0040', currency = 'USD' WHERE rid = $1 AND status = 'sending' AND row <= 200`, [rid]);
    await db.query(`UPDATE messages SET status = 'unknown', error_code = 'in_doubt' WHERE rid = $1 AND status = 'sending'`, [rid]);
    await db.query(
      `UPDATE messages SET delivery_status = CASE WHEN row % 7 = 0 THEN 'delivery_failed' ELSE 'delivered' END, final_cost = '0.0050', delivered_at = 1700000000000 + row * 10
       WHERE rid = $1 AND status = 'sent' AND row <= 150`,
      [rid],
    );
    await db.query(`INSERT INTO attempts (rid, row, attempt, started_at, outcome) SELECT $1, g, 1, 1700000000000 + g * 7, 'accepted' FROM generate_series(1, 300) g`, [rid]);
    await db.query(`DELETE FROM attempts WHERE rid = $1 AND row > 250`, [rid]);
    await db.query(`DELETE FROM messages WHERE rid = $1 AND status = 'skipped' AND row > 400`, [rid]);

    const q = async (sql: string) => (await db.query(sql, [rid])).rows;
    expect(await q(`SELECT status, code, n::int FROM run_status_totals WHERE rid = $1 AND n <> 0 ORDER BY 1, 2`)).toEqual(
      await q(`SELECT status, coalesce(error_code, '') AS code, count(*)::int AS n FROM messages WHERE rid = $1 GROUP BY 1, 2 ORDER BY 1, 2`),
    );
    expect(await q(`SELECT delivery_status, code, price, currency, n::int, parts::int FROM run_sent_totals WHERE rid = $1 AND n <> 0 ORDER BY 1, 2, 3, 4`)).toEqual(
      await q(`SELECT coalesce(delivery_status, '') AS delivery_status, coalesce(delivery_error_code, '') AS code, coalesce(final_cost, cost, '') AS price,
                 coalesce(final_currency, currency, '') AS currency, count(*)::int AS n, sum(parts)::int AS parts
               FROM messages WHERE rid = $1 AND status = 'sent' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`),
    );
    expect(await q(`SELECT second::text, wire::int, delivered::int FROM run_seconds WHERE rid = $1 AND (wire <> 0 OR delivered <> 0) ORDER BY 1`)).toEqual(
      await q(`SELECT second::text, sum(w)::int AS wire, sum(d)::int AS delivered FROM (
                 SELECT started_at / 1000 AS second, 1 AS w, 0 AS d FROM attempts WHERE rid = $1
                 UNION ALL SELECT delivered_at / 1000, 0, 1 FROM messages WHERE rid = $1 AND delivered_at IS NOT NULL) t
               GROUP BY 1 ORDER BY 1`),
    );
  });
});

describe('schema 1 mirrors the SQLite ledger', () => {
  it('has every table and column of a new SQLite ledger, plus workers and claims', async () => {
    const tmp = tempDir('bulktext-pg-mirror-');
    const file = path.join(tmp.dir, 'bulktext.db');
    new Ledger(file).close();
    const source = new LedgerExport(file);
    let sqlite: Record<string, string[]>;
    try {
      sqlite = source.schema();
    } finally {
      source.close();
      tmp.cleanup();
    }
    const db = await pool(await createDatabase());
    await migratePg(db);
    const { rows } = await db.query<{ t: string; c: string }>(
      `SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
    );
    const postgres: Record<string, string[]> = {};
    for (const r of rows) (postgres[r.t] ??= []).push(r.c);
    // A SQLite migration that adds a table or column needs its PostgreSQL migration: this names what is missing.
    // Tables that are SQLite's own machinery, not data: ingest's switch for the per-row totals trigger
    // (migration 13); PostgreSQL's statement-level triggers count a batch as one statement anyway.
    const sqliteOnly = new Set(['messages_insert_counted']);
    const missing = Object.entries(sqlite)
      .filter(([t]) => !sqliteOnly.has(t))
      .flatMap(([t, cols]) => cols.filter((c) => !postgres[t]?.includes(c)).map((c) => `${t}.${c}`));
    expect(missing).toEqual([]);
    const extra = Object.entries(postgres).flatMap(([t, cols]) => cols.filter((c) => !sqlite[t]?.includes(c)).map((c) => `${t}.${c}`));
    expect(extra.sort()).toEqual(
      [
        'message_transitions.from_state', 'message_transitions.to_state', 'messages.claimed_by', 'schema_migrations.applied_at', 'schema_migrations.name',
        'schema_migrations.version', 'workers.heartbeat_at', 'workers.host', 'workers.id', 'workers.lease_ms', 'workers.pid', 'workers.started_at',
      ].sort(),
    );
  });
});
