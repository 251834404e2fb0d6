/**
 * The ledger is sealed (issue 15): outside src/ledger/ no module holds the SQLite connection or prepares
 * SQL, so a second backend has one seam to implement. Read from the source files themselves.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sources(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

const outside = sources(src).filter((f) => !f.startsWith(path.join(src, 'ledger') + path.sep));

describe('the sealed ledger', () => {
  it('finds the modules it checks', () => {
    expect(outside.some((f) => f.endsWith(path.join('scheduler', 'daemon.ts')))).toBe(true);
    expect(outside.some((f) => f.includes(`${path.sep}ledger${path.sep}`))).toBe(false);
  });

  it('has no module outside src/ledger/ that imports better-sqlite3, takes the connection or prepares SQL', () => {
    const offenders = outside.filter((f) => {
      const text = readFileSync(f, 'utf8');
      return /from 'better-sqlite3'|\bconnectionOf\b|\.db\.(prepare|exec|pragma|transaction)\(|\.prepare\(\s*`/.test(text);
    });
    expect(offenders.map((f) => path.relative(src, f))).toEqual([]);
  });

  // Issue 15: ledger.ts is the connection holder; what the ledger holds is read and written by the stores
  // beside it. Ingest's writes (insertRows/insertColumns through message-insert.ts, setRunTexts) are the last writes it keeps.
  const ledgerTs = readFileSync(path.join(src, 'ledger', 'ledger.ts'), 'utf8');

  it('keeps ledger.ts to the connection: open, close, transactions, durability and ingest writes', () => {
    const methods = [...ledgerTs.slice(ledgerTs.indexOf('export class Ledger')).matchAll(/^ {2}(?:(?:get|static|async) )?(\w+)(?:<[^>]*>)?\(/gm)].map((m) => m[1]);
    expect(new Set(methods)).toEqual(new Set(['constructor', 'synchronous', 'isOpen', 'close', 'exclusively', 'setRunTexts', 'insertRows', 'insertColumns', 'withoutFsync']));
  });

  it('has no store statement in ledger.ts: it only writes and reads run texts (message rows go in through message-insert.ts)', () => {
    const tables = new Set([...ledgerTs.matchAll(/\b(?:FROM|INTO|(?<!DO )UPDATE|JOIN)\s+(\w+)/g)].map((m) => m[1]));
    expect(tables).toEqual(new Set(['run_texts']));
    expect(ledgerTs).not.toMatch(/\bDELETE\s|(?<!DO )\bUPDATE\s/);
  });
});
