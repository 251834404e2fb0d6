/**
 * The ports the dispatcher owns (as listmonk's manager declares the Store and Messenger it needs).
 * Adapters live outside: telnyx/message-sender.ts implements MessageSender over undici, and the
 * ledger (better-sqlite3) satisfies DispatchLedger. Nothing here imports either library.
 */
import type { AttemptRecord, DeferrableBatch, Outcome, PendingMessage, WriteBatch } from '../ledger/types.js';
import type { MaybePromise } from '../shared/maybe-promise.js';

export type { AttemptRecord, Outcome, PendingMessage, WriteBatch };

/** What a send attempt came to, already classified (see telnyx/classify.ts for the rules). */
export type SendResult =
  | {
      kind: 'accepted';
      messageId: string;
      fromNumber: string | null;
      parts: number | null;
      cost: string | null;
      currency: string | null;
      httpStatus: number;
      /** Fields of the answer that were missing or unreadable, recorded as absent (the message was still sent). */
      oddFields?: readonly string[];
    }
  | {
      kind: 'rejected' | 'fatal' | 'throttled' | 'retryable' | 'unreachable' | 'in_doubt';
      code: string | null;
      detail: string;
      httpStatus: number | null;
      /** Server's hint for when to try again (Retry-After / x-ratelimit-reset). */
      retryAfterMs?: number;
    };

/** A batch as the dispatcher hands it to the ledger (defined with the ledger's row shapes). */
export type DispatchBatch = DeferrableBatch;

export interface MessageSender {
  /** Sends one row. Never throws for an API or network outcome: it classifies it. */
  send(message: PendingMessage, signal?: AbortSignal): Promise<SendResult>;
}

/**
 * The ledger as the dispatcher sees it: the seam a second backend implements (issue 15). Each method may
 * answer now (SQLite: in-process, the hot path, never awaited) or with a Promise (PostgreSQL: a round trip).
 * The dispatcher keeps at most one read (`nextPending`, `nextDue` or `nextDeferral`) and one `commit` in
 * flight, and starts a commit only after the previous one has settled, so a row's mark and its outcome
 * reach the ledger in the order they happened.
 */
export interface DispatchLedger {
  nextPending(afterRow: number, limit: number): MaybePromise<PendingMessage[]>;
  /** Deferred rows whose send window has opened by `now`. */
  nextDue?(now: number, limit: number): MaybePromise<PendingMessage[]>;
  /** When the earliest deferred row may go; undefined when none is deferred. */
  nextDeferral?(): MaybePromise<number | undefined>;
  /**
   * Commits one batch in a single transaction; throws (or rejects) on an illegal state move or a storage
   * failure, and then nothing of the batch may be acted on. Durable once it returns (or its Promise
   * resolves), unless the ledger calls the batch's `deferDurability` before then (see DispatchBatch).
   */
  commit(batch: DispatchBatch): MaybePromise<void>;
}

/** Whether a row may be sent now (send windows, deadlines, opt-outs); see campaign/admission.ts. */
export type AdmissionDecision =
  | { action: 'send' }
  | { action: 'defer'; until: number; reason: string }
  | { action: 'expire'; reason: string }
  /** Never send (e.g. the recipient opted out since the run began). */
  | { action: 'skip'; code: string; reason: string };

export interface Admission {
  decide(message: PendingMessage, now: number): AdmissionDecision;
  /** Wait for deferred rows' windows to open (false: end the run and leave them for `resume`). */
  wait: boolean;
  /** When the run's rows expire (`expires_after`): the dispatcher stops then, instead of draining the queue row by row. */
  deadline?: number;
}
