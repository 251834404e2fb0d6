/**
 * Ingest's write: a batch of message columns into `messages`, with the run's totals counted here.
 *
 * The totals trigger (migration 10) counted each inserted row with its own upsert of run_status_totals:
 * a quarter of ingest's ledger time. So this write counts the batch's rows by (status, code) in JS and
 * applies one upsert per group, in the same transaction, with the trigger switched off for its own
 * inserts (migration 13: a row in `messages_insert_counted`, written and deleted inside the transaction,
 * so no other connection or later write ever sees it). Any other insert still fires the trigger.
 */
import type Database from 'better-sqlite3';
import type { MessageColumns } from './message-columns.js';

/** Rows per multi-row INSERT (15 parameters each, far under SQLite's 32,766). */
const INSERT_CHUNK = 50;

const COLUMNS = 'rid, row, line, to_number, sender, text, vars, subject, parts, encoding, tz, status, error_code, error_detail, updated_at';
const ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

/**
 * A row as ingested stores updated_at 0, which costs no byte in the record (an integer 0 is a type
 * code alone) where a millisecond time costs 6: when it was written is its run's started_at, and every
 * later write to the row sets the real time.
 */
export const INGESTED_AT = 0;

/** A transaction that inserts `c`'s rows into run `rid` and adds them to the run's totals. */
export function createMessageInsert(db: Database.Database): (rid: number, c: MessageColumns) => void {
  const one = db.prepare(`INSERT INTO messages (${COLUMNS}) VALUES ${ROW}`);
  // One bind-and-step per chunk instead of per row.
  const many = db.prepare(`INSERT INTO messages (${COLUMNS}) VALUES ${Array.from({ length: INSERT_CHUNK }, () => ROW).join(', ')}`);
  const countsItself = db.prepare(`INSERT INTO messages_insert_counted (id) VALUES (1)`);
  const countedAgain = db.prepare(`DELETE FROM messages_insert_counted`);
  const addStatus = db.prepare(
    `INSERT INTO run_status_totals (rid, status, code, n) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n`,
  );
  const params: unknown[] = new Array(INSERT_CHUNK * 15);
  const bind = (p: number, rid: number, c: MessageColumns, j: number): number => {
    params[p++] = rid;
    params[p++] = c.row[j];
    params[p++] = c.line[j];
    params[p++] = c.to[j];
    params[p++] = c.sender[j];
    params[p++] = c.text[j];
    params[p++] = c.vars[j];
    params[p++] = c.subject[j];
    params[p++] = c.parts[j];
    params[p++] = c.encoding[j];
    params[p++] = c.tz[j];
    params[p++] = c.status[j];
    params[p++] = c.errorCode[j];
    params[p++] = c.errorDetail[j];
    params[p++] = INGESTED_AT;
    return p;
  };
  return db.transaction((rid: number, c: MessageColumns) => {
    countsItself.run();
    let i = 0;
    for (; i + INSERT_CHUNK <= c.count; i += INSERT_CHUNK) {
      let p = 0;
      for (let j = i; j < i + INSERT_CHUNK; j++) p = bind(p, rid, c, j);
      many.run(params);
    }
    for (; i < c.count; i++) {
      bind(0, rid, c, i);
      one.run(params.slice(0, 15));
    }
    countedAgain.run();
    // Ingested rows are pending or skipped, never sent nor delivered: run_status_totals is all they move.
    let pending = 0;
    const skipped = new Map<string, number>();
    for (let j = 0; j < c.count; j++) {
      if (c.status[j] === 'pending' && c.errorCode[j] === null) pending++;
      else {
        const key = `${c.status[j]}\u0000${c.errorCode[j] ?? ''}`;
        skipped.set(key, (skipped.get(key) ?? 0) + 1);
      }
    }
    if (pending !== 0) addStatus.run(rid, 'pending', '', pending);
    for (const [key, n] of skipped) {
      const [status, code] = key.split('\u0000') as [string, string];
      addStatus.run(rid, status, code, n);
    }
  });
}
