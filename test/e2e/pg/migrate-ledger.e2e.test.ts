/**
 * End to end: `bulktext migrate-ledger` spawned against a SQLite ledger written by real sandbox runs and a
 * fresh database of the test cluster: every moved table equal row for row, the totals counted by the
 * target's triggers equal the run's status, a second move refused, and the URL's password never printed.
 */
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { exportColumns, exportTables, LedgerExport } from '../../../src/ledger/ledger-export.js';
import { writeCampaign } from '../../helpers/campaign-files.js';
import { cliEnv, runCli } from '../../helpers/cli.js';
import { statusOf, useE2eEnv } from '../../helpers/e2e-run.js';
import { createDatabase } from '../../helpers/pg-cluster.js';
import { insertRun } from '../../integration/pg/pg-rows.js';

const e2e = useE2eEnv('bulktext-migrate-');
const password = 'pw-Secr3t';

/** A value as both backends can be compared: PostgreSQL's bigint strings, booleans and jsonb as SQLite holds them. */
function comparable(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'object') return v; // jsonb, already parsed
  return typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
}
const jsonColumns = new Set(['job_spec', 'template', 'literals']);

describe('bulktext migrate-ledger', { timeout: 180_000 }, () => {
  it('moves the history of sandbox runs into an empty PostgreSQL ledger, then refuses to move it again', async () => {
    const { job, numbers } = writeCampaign(e2e.dir, { rows: 24 });
    const db = path.join(e2e.dir, 'bulktext.db');
    const first = await runCli(['run', job, '--db', db, '--sandbox', '--json', '--quiet'], { timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    // A second run of the same job skips everyone (campaign memory); a suppression added by hand.
    expect((await runCli(['run', job, '--db', db, '--sandbox', '--json', '--quiet'], { timeoutMs: 60_000 })).code).toBe(0);
    expect((await runCli(['suppressions', '--db', db, '--add', numbers[0]!])).code).toBe(0);

    const url = new URL(await createDatabase());
    url.password = password;
    const moved = await runCli(['migrate-ledger', '--from', db], { env: cliEnv({ BULKTEXT_DB: url.toString() }), timeoutMs: 60_000 });
    expect(moved.code, moved.stderr).toBe(0);
    const target = `postgres@127.0.0.1:${url.port}${url.pathname}`;
    expect(moved.stdout).toContain(`moved ${db} into the PostgreSQL ledger ${target}, in one transaction:\n`);
    expect(moved.stdout).toMatch(/^ {2}runs +2$/m);
    expect(moved.stdout).toMatch(/^ {2}messages +48$/m);
    expect(moved.stdout).toMatch(/^ {2}suppressions +1$/m);

    const source = new LedgerExport(db);
    const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
    try {
      for (const table of exportTables) {
        const { columns, orderBy } = exportColumns[table];
        const want = [...source.rows(table)].map((row) => row.map((v, i) => (jsonColumns.has(columns[i]!) && typeof v === 'string' ? JSON.parse(v) : v)));
        const got = (await pool.query({ text: `SELECT ${columns.join(', ')} FROM ${table} ORDER BY ${orderBy}`, rowMode: 'array' })).rows as unknown[][];
        expect([table, got.map((r) => r.map(comparable))]).toEqual([table, want.map((r) => r.map(comparable))]);
        expect(want.length, table).toBe(source.count(table));
      }
      expect(source.count('webhook_events')).toBeGreaterThanOrEqual(24); // the sandbox's receipts came along

      // The target's triggers counted the moved rows: the same figures `bulktext status` reads in SQLite.
      for (const run of (await pool.query<{ rid: string; run_id: string }>('SELECT rid, run_id FROM runs')).rows) {
        const status = await statusOf(db, run.run_id);
        const totals = await pool.query<{ status: string; n: string }>('SELECT status, sum(n) AS n FROM run_status_totals WHERE rid = $1 AND n <> 0 GROUP BY 1', [
          run.rid,
        ]);
        for (const t of totals.rows) expect([run.run_id, t.status, Number(t.n)]).toEqual([run.run_id, t.status, status.counts[t.status]]);
        expect(totals.rows.reduce((sum, t) => sum + Number(t.n), 0)).toBe(status.counts['total']);
      }
      // New ids continue after the moved ones.
      expect(await insertRun(pool, 'after-move')).toBe(3);
      await pool.query(`DELETE FROM runs WHERE run_id = 'after-move'`);

      const again = await runCli(['migrate-ledger', '--from', db, '--to', url.toString()], { env: cliEnv(), timeoutMs: 60_000 });
      expect(again.code).toBe(2);
      expect(again.stderr).toBe(
        `bulktext: the PostgreSQL ledger ${target} already holds 2 run(s): migrate-ledger moves a ledger only into one without runs; nothing was written\n`,
      );
      const counts = await pool.query<{ n: string }>('SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM suppressions) AS n');
      expect(Number(counts.rows[0]!.n)).toBe(49);
      for (const out of [moved.stdout, moved.stderr, again.stdout, again.stderr]) expect(out).not.toContain(password);

      // Two moves into one new database at once: one moves everything, the other waits for it and refuses.
      const other = new URL(await createDatabase());
      const both = await Promise.all(
        [1, 2].map(() => runCli(['migrate-ledger', '--from', db, '--to', other.toString()], { env: cliEnv(), timeoutMs: 60_000 })),
      );
      expect(both.map((r) => r.code).sort()).toEqual([0, 2]);
      expect(both.find((r) => r.code === 2)!.stderr).toMatch(/already holds 2 run\(s\).*nothing was written\n$/);
      const twice = new pg.Pool({ connectionString: other.toString(), max: 1 });
      try {
        const n = await twice.query<{ runs: string; messages: string }>('SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM messages) AS messages');
        expect(n.rows[0]).toEqual({ runs: '2', messages: '48' });
      } finally {
        await twice.end();
      }
    } finally {
      source.close();
      await pool.end();
    }
  });

  it('without a target it says how to name one; a missing source is named', async () => {
    const none = await runCli(['migrate-ledger', '--from', path.join(e2e.dir, 'bulktext.db')], { env: cliEnv() });
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('bulktext: migrate-ledger needs --to postgres://user@host/database (or BULKTEXT_DB set to one)\n');
    const url = `postgres://postgres:${password}@127.0.0.1:1/nowhere`;
    const missing = await runCli(['migrate-ledger', '--from', path.join(e2e.dir, 'nope.db'), '--to', url], { env: cliEnv() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`bulktext: no ledger at ${path.join(e2e.dir, 'nope.db')}: check --from\n`);
  });
});
