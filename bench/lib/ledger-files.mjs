/** Fresh ledger paths under bench/out/ (a ledger is three files in WAL mode). */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { OUT } from './gen.mjs';

export function freshDb(name) {
  const file = path.join(OUT, `${name}.db`);
  removeDb(file);
  return file;
}

export function removeDb(file) {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
}
