/** Row-level data shapes shared by the ledger and the dispatcher's port (no SQLite here). */
export interface NewMessageRow {
  row: number;
  line: number;
  to: string;
  sender: string | null;
  text: string | null;
  /** Instead of `text`: the values its template placed, joined by U+001F (ledger/message-text.ts). */
  vars?: string | null;
  subject: string | null;
  parts: number;
  encoding: string | null;
  /** The row's own IANA time zone (from `window.timezone_field`). */
  tz?: string | null;
  status: 'pending' | 'skipped';
  errorCode?: string | null;
  errorDetail?: string | null;
}

/** What the dispatcher needs to send one row. */
export interface PendingMessage {
  row: number;
  tz: string | null;
  to: string;
  sender: string | null;
  text: string | null;
  subject: string | null;
  parts: number;
  attempts: number;
}

export type Outcome =
  | {
      row: number;
      status: 'sent';
      messageId: string;
      fromNumber: string | null;
      parts: number | null;
      cost: string | null;
      currency: string | null;
      at: number;
      /** Kept as the row's error_detail: e.g. which fields of Telnyx's answer were unreadable. */
      note?: string | null;
    }
  | { row: number; status: 'failed' | 'unknown' | 'pending' | 'skipped'; errorCode: string | null; errorDetail: string; at: number }
  | { row: number; status: 'deferred'; until: number; errorDetail: string; at: number }
  | { row: number; status: 'expired'; errorDetail: string; at: number };

export interface AttemptRecord {
  row: number;
  attempt: number;
  startedAt: number;
  latencyMs: number | null;
  httpStatus: number | null;
  outcome: string;
  telnyxCode: string | null;
  detail: string | null;
}

/** One transaction's worth of dispatcher writes. */
export interface WriteBatch {
  sending: { row: number; at: number }[];
  /** Outcomes of attempts, and deferrals/expiries decided before any attempt. */
  outcomes: Outcome[];
  attempts: AttemptRecord[];
}

/**
 * A batch whose committer can wait for durability. A ledger that makes the commit durable later (an fsync
 * off the event loop) calls `deferDurability` during `commit` with a promise that resolves once the batch is
 * on disk; nothing in the batch is acted on (no request is written) before then. A ledger that never calls
 * it is durable when `commit` returns.
 */
export interface DeferrableBatch extends WriteBatch {
  deferDurability?: (durable: Promise<void>) => void;
}
