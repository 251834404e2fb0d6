/** Connecting to the PostgreSQL ledger: errors name the target, never the URL's password. */
import { describe, expect, it } from 'vitest';
import { connectPg, pgTarget } from '../../../src/ledger/pg/connect.js';
import { isAppError } from '../../../src/shared/errors.js';
import { createDatabase } from '../../helpers/pg-cluster.js';
import { freePort } from '../../helpers/net.js';

const secret = 's3cr%2Ft-pw';

function withPassword(url: string, database?: string): string {
  const u = new URL(url);
  u.password = secret;
  if (database !== undefined) u.pathname = `/${database}`;
  return u.toString();
}

describe('connectPg', () => {
  it('opens a pool on a reachable database (the password is accepted, trust auth ignores it)', async () => {
    const pool = await connectPg(withPassword(await createDatabase()));
    try {
      expect((await pool.query('SELECT current_user AS u')).rows[0].u).toBe('postgres');
    } finally {
      await pool.end();
    }
  });

  it('a missing database: ERR_LEDGER_UNUSABLE naming user, host, port and database, not the password', async () => {
    const url = withPassword(await createDatabase(), 'no_such_db');
    const err = await connectPg(url).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_LEDGER_UNUSABLE')).toBe(true);
    const { port } = new URL(url);
    expect((err as Error).message).toBe(
      `cannot connect to the PostgreSQL ledger postgres@127.0.0.1:${port}/no_such_db: database "no_such_db" does not exist`,
    );
    expect((err as Error).message).not.toContain('s3cr');
  });

  it('nothing listening: refused quickly, without the password', async () => {
    const url = `postgres://postgres:${secret}@127.0.0.1:${await freePort()}/ledger`;
    const err = await connectPg(url, { connectTimeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_LEDGER_UNUSABLE')).toBe(true);
    expect((err as Error).message).toMatch(/^cannot connect to the PostgreSQL ledger postgres@127\.0\.0\.1:\d+\/ledger: .*ECONNREFUSED/);
    expect((err as Error).message).not.toContain('s3cr');
  });
});

describe('pgTarget', () => {
  it('drops the password and the query string', () => {
    expect(pgTarget(`postgresql://app:${secret}@db.internal:5433/ledger?sslmode=require&password=x`)).toBe('app@db.internal:5433/ledger');
  });
  it('a malformed URL is refused without repeating it', () => {
    const err = (() => {
      try {
        return pgTarget(`postgres://app:${secret}@[bad/ledger`);
      } catch (e) {
        return e;
      }
    })();
    expect(isAppError(err, 'ERR_USAGE')).toBe(true);
    expect((err as Error).message).not.toContain('s3cr');
  });
});
