/**
 * Bulk writes into the PostgreSQL ledger with COPY … FROM STDIN: rows become COPY text lines, sent in
 * chunks through a stream pipeline, so a producer (ingest, a SQLite ledger being moved) is paused while
 * the server is behind — memory stays a few chunks, whatever the row count. The caller owns the
 * transaction: a failed COPY writes nothing, and a COPY inside BEGIN commits with the rest.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { NewMessageRow } from '../types.js';

export type CopyValue = string | number | bigint | boolean | null | undefined;

type Rows<T> = Iterable<T> | AsyncIterable<T>;

/** One value in COPY's text format: \N for NULL, and the four characters that would break a line escaped. */
function field(v: CopyValue): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v !== 'string') return String(v);
  return /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => escapes[c]!) : v;
}
const escapes: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Joins lines into chunks of about this many characters: one stream write each, not one per row. */
const chunkChars = 64 * 1024;

async function* lines(rows: Rows<readonly CopyValue[]>): AsyncGenerator<string> {
  let chunk = '';
  for await (const row of rows) {
    chunk += row.map(field).join('\t') + '\n';
    if (chunk.length >= chunkChars) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

/**
 * COPYs `rows` (values in `columns` order) into `table` on `client`; resolves with the number of rows
 * written. `table` and `columns` are this module's callers' own names, never input.
 */
export async function copyInto(client: pg.ClientBase, table: string, columns: readonly string[], rows: Rows<readonly CopyValue[]>): Promise<number> {
  const sink = client.query(copyStreams.from(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  // Readable.from pulls the next chunk only when the COPY stream has room: that is the backpressure.
  await pipeline(Readable.from(lines(rows), { objectMode: false }), sink);
  return sink.rowCount;
}

const messageColumns = ['rid', 'row', 'line', 'to_number', 'sender', 'text', 'vars', 'subject', 'parts', 'encoding', 'tz', 'status', 'error_code', 'error_detail', 'updated_at'];

/** Ingested rows of run `rid` into messages (the form the SQLite ledger's insertRows takes). */
export async function copyMessages(client: pg.ClientBase, rid: number, rows: Rows<NewMessageRow>, now = Date.now()): Promise<number> {
  async function* values(): AsyncGenerator<CopyValue[]> {
    for await (const r of rows) {
      yield [rid, r.row, r.line, r.to, r.sender, r.text, r.vars, r.subject, r.parts, r.encoding, r.tz, r.status, r.errorCode, r.errorDetail, now];
    }
  }
  return copyInto(client, 'messages', messageColumns, values());
}
