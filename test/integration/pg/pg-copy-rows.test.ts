/** COPY into the PostgreSQL ledger on a real cluster: 100k rows, every value intact, and a producer that waits for the server. */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPg } from '../../../src/ledger/pg/connect.js';
import { copyMessages } from '../../../src/ledger/pg/copy-rows.js';
import { migratePg } from '../../../src/ledger/pg/migrations.js';
import type { NewMessageRow } from '../../../src/ledger/types.js';
import { createDatabase } from '../../helpers/pg-cluster.js';
import { insertRun } from './pg-rows.js';

let pool: pg.Pool;
beforeAll(async () => {
  pool = await connectPg(await createDatabase(), { max: 4 });
  await migratePg(pool);
});
afterAll(async () => {
  await pool.end();
});

const newRun = (runId: string) => insertRun(pool, runId);

/** Row i of a synthetic list: every 7th skipped, every 5th templated (vars instead of text), odd characters in some. */
function rowOf(i: number): NewMessageRow {
  const odd = i % 1000 === 0 ? 'tab\there, line\nbreak, cr\r, back\\slash \\N, ünïcødé 🚀' : '';
  return {
    row: i,
    line: i + 1,
    to: `+1555${String(i).padStart(7, '0')}`,
    sender: i % 3 === 0 ? '' : '+18445550001',
    text: i % 5 === 0 ? null : `Hello ${i}${odd}`,
    vars: i % 5 === 0 ? `name ${i}\u001f${odd}` : null,
    subject: i % 11 === 0 ? 'Subject' : null,
    parts: 1 + (i % 3),
    encoding: i % 2 === 0 ? 'GSM-7' : 'UCS-2',
    tz: i % 13 === 0 ? 'America/New_York' : null,
    status: i % 7 === 0 ? 'skipped' : 'pending',
    errorCode: i % 7 === 0 ? 'duplicate' : null,
    errorDetail: i % 7 === 0 ? `same as line ${i}` : null,
  };
}

function* rows(n: number): Generator<NewMessageRow> {
  for (let i = 1; i <= n; i++) yield rowOf(i);
}

describe('copyMessages', () => {
  it('100k rows in: the count, the totals and a sample of rows equal what went in', async () => {
    const n = 100_000;
    const rid = await newRun('copy-100k');
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      expect(await copyMessages(client, rid, rows(n), 1_700_000_000_000)).toBe(n);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const count = await pool.query('SELECT count(*)::int AS n FROM messages WHERE rid = $1', [rid]);
    expect(count.rows[0].n).toBe(n);
    const skipped = Math.floor(n / 7);
    const totals = await pool.query('SELECT status, code, n::int FROM run_status_totals WHERE rid = $1 ORDER BY 1', [rid]);
    expect(totals.rows).toEqual([
      { status: 'pending', code: '', n: n - skipped },
      { status: 'skipped', code: 'duplicate', n: skipped },
    ]);

    const sample = [1, 2, 3, 5, 7, 1000, 3000, 5000, 14_000, 65_535, 77_777, 99_999, 100_000];
    const got = await pool.query(
      `SELECT row, line, to_number, sender, text, vars, subject, parts, encoding, tz, status, error_code, error_detail, updated_at::text
       FROM messages WHERE rid = $1 AND row = ANY($2) ORDER BY row`,
      [rid, sample],
    );
    expect(got.rows).toEqual(
      sample.map((i) => {
        const r = rowOf(i);
        return {
          row: r.row,
          line: r.line,
          to_number: r.to,
          sender: r.sender,
          text: r.text,
          vars: r.vars,
          subject: r.subject,
          parts: r.parts,
          encoding: r.encoding,
          tz: r.tz,
          status: r.status,
          error_code: r.errorCode,
          error_detail: r.errorDetail,
          updated_at: '1700000000000',
        };
      }),
    );
  });

  it('a producer waits while the server cannot take rows (backpressure), and a failed COPY writes nothing', async () => {
    const rid = await newRun('copy-blocked');
    const holder = await pool.connect();
    const copier = await pool.connect();
    let produced = 0;
    let stop = false;
    function* endless(): Generator<NewMessageRow> {
      for (let i = 1; ; i++) {
        if (stop) throw new Error('producer stopped by the test');
        produced = i;
        yield rowOf(i);
      }
    }
    try {
      // The table is locked by another transaction: the COPY waits for the lock before reading a row.
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE');
      await copier.query('BEGIN');
      const copying = copyMessages(copier, rid, endless()).catch((e: unknown) => e);
      // Wait (at most 10 s) until production has stalled: no new row for 500 ms.
      const deadline = Date.now() + 10_000;
      let last = -1;
      while (produced !== last && Date.now() < deadline) {
        last = produced;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(produced).toBe(last); // stalled, not still running when the deadline came
      // Without backpressure an endless producer would run on; with it, only what fits in the buffers left.
      expect(produced).toBeGreaterThan(0);
      expect(produced).toBeLessThan(200_000);
      stop = true;
      await holder.query('ROLLBACK');
      const err = await copying;
      expect((err as Error).message).toContain('producer stopped by the test');
      await copier.query('ROLLBACK');
    } finally {
      holder.release();
      copier.release();
    }
    const count = await pool.query('SELECT count(*)::int AS n FROM messages WHERE rid = $1', [rid]);
    expect(count.rows[0].n).toBe(0);
  });
});
