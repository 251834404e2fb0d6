/**
 * Whether better-sqlite3's native binary loads here: for `bulktext doctor`. It is a compiled addon, so
 * a wrong Node ABI, a skipped install script or a missing build toolchain shows up only when it is
 * first used; this opens an in-memory database to find out before a run does.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import Database from 'better-sqlite3';

export interface NativeCheck {
  /** better-sqlite3's version. */
  driver: string;
  /** The SQLite library compiled into it. */
  sqlite: string;
  dir: string;
}

const require = createRequire(import.meta.url);

/** Where better-sqlite3 is installed: the directory to rebuild it in. Needs no native code. */
export function sqliteDriverDir(): string {
  return path.dirname(require.resolve('better-sqlite3/package.json'));
}

export function checkNativeSqlite(): NativeCheck {
  const dir = sqliteDriverDir();
  const { version } = require(path.join(dir, 'package.json')) as { version: string };
  const db = new Database(':memory:');
  try {
    const row = db.prepare('SELECT sqlite_version() AS v').get() as { v: string };
    return { driver: version, sqlite: row.v, dir };
  } finally {
    db.close();
  }
}
