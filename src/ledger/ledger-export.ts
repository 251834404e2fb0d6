/**
 * A SQLite ledger's history read out table by table, for moving it to another backend (bulktext
 * migrate-ledger). Everything is read inside one read transaction: a consistent snapshot even if a
 * process writes meanwhile. An older ledger is upgraded first (as any command opening it does), so the
 * columns below are the current schema's.
 */
import { AppError } from '../shared/errors.js';
import { connectionOf, Ledger } from './ledger.js';

/** What moves: history and suppressions, not scheduler or limit state (live state of this host's processes). */
export type ExportTable =
  | 'suppressions'
  | 'campaigns'
  | 'runs'
  | 'run_texts'
  | 'messages'
  | 'attempts'
  | 'webhook_events'
  | 'message_ids'
  | 'campaign_memory';

/** Each table's columns (the same names in every backend) and the order it is read in (its key). */
export const exportColumns: Readonly<Record<ExportTable, { columns: readonly string[]; orderBy: string }>> = {
  suppressions: { columns: ['number', 'source', 'detail', 'added_at'], orderBy: 'number' },
  campaigns: { columns: ['cid', 'job_name', 'template', 'sandbox'], orderBy: 'cid' },
  runs: {
    columns: [
      'rid', 'run_id', 'job_name', 'job_file', 'job_spec', 'spec_hash', 'source_path', 'source_sha256', 'sandbox', 'state', 'trigger', 'slot',
      'total', 'started_at', 'finished_at', 'stop_code', 'stop_detail', 'owner_pid', 'owner_host', 'planned_parts', 'planned_cost',
      'planned_currency', 'plan_hash', 'test_to', 'cancel_requested_at', 'pruned_at', 'cid',
    ],
    orderBy: 'rid',
  },
  run_texts: { columns: ['rid', 'literals', 'sender'], orderBy: 'rid' },
  messages: {
    columns: [
      'rid', 'row', 'line', 'to_number', 'sender', 'from_number', 'text', 'subject', 'parts', 'encoding', 'tz', 'status', 'not_before',
      'message_id', 'cost', 'currency', 'attempts', 'error_code', 'error_detail', 'sending_at', 'sent_at', 'updated_at', 'delivery_status',
      'delivery_error_code', 'delivery_error_detail', 'delivered_at', 'sent_event_at', 'finalized_at', 'final_cost', 'final_currency',
      'delivery_source', 'vars',
    ],
    orderBy: 'rid, row',
  },
  attempts: {
    columns: ['id', 'rid', 'row', 'attempt', 'started_at', 'latency_ms', 'http_status', 'outcome', 'telnyx_code', 'detail'],
    orderBy: 'id',
  },
  webhook_events: {
    columns: ['event_id', 'event_type', 'message_id', 'to_number', 'occurred_at', 'received_at', 'payload', 'applied', 'note'],
    orderBy: 'event_id',
  },
  message_ids: { columns: ['message_id', 'rid', 'row'], orderBy: 'message_id' },
  campaign_memory: { columns: ['cid', 'number', 'at', 'rid'], orderBy: 'cid, number' },
};

export const exportTables = Object.keys(exportColumns) as ExportTable[];

export class LedgerExport {
  readonly #ledger: Ledger;
  readonly #db;

  /** Opens the ledger file at `path` (which must exist) and starts the snapshot. */
  constructor(path: string) {
    this.#ledger = new Ledger(path, { readonly: true });
    this.#db = connectionOf(this.#ledger);
    this.#db.exec('BEGIN');
  }

  /** The table's rows, values in `exportColumns[table].columns` order, read lazily in key order. */
  rows(table: ExportTable): IterableIterator<unknown[]> {
    const { columns, orderBy } = exportColumns[table];
    return this.#db.prepare(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY ${orderBy}`).raw().iterate() as IterableIterator<unknown[]>;
  }

  count(table: ExportTable): number {
    return (this.#db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number);
  }

  /** Every table of the ledger (SQLite's own excluded) with its columns in order: what another backend must mirror. */
  schema(): Record<string, string[]> {
    const tables = this.#db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all() as string[];
    return Object.fromEntries(
      tables.map((t) => [t, this.#db.prepare('SELECT name FROM pragma_table_info(?) ORDER BY cid').pluck().all(t) as string[]]),
    );
  }

  /** How far the attempts log has been read into message_ids (message_index.last_attempt). */
  indexedUpTo(): number {
    const last = this.#db.prepare('SELECT last_attempt FROM message_index WHERE id = 1').pluck().get() as number | undefined;
    if (last === undefined) throw new AppError('ERR_LEDGER_SCHEMA', `the ledger ${this.#ledger.path} has no message index row`);
    return last;
  }

  close(): void {
    try {
      if (this.#db.inTransaction) this.#db.exec('COMMIT');
    } finally {
      this.#ledger.close();
    }
  }
}
