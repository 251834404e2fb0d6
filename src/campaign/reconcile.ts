/**
 * Reconcile: for a run's rows that Telnyx accepted but whose final delivery status never arrived (no
 * webhook receiver, a receiver that was down, receipts lost), ask Telnyx with GET /messages/{id} and
 * record what it says. Webhooks push the same facts as they happen; reconcile pulls them afterwards,
 * and both go through the same rank rule, so running it twice, or after webhooks, changes nothing wrong.
 *
 * Telnyx keeps messages retrievable for 10 days: older rows are reported as too old, not fetched.
 * GETs pass a RateGate (they count against the same API request limit as sends); a GET is idempotent,
 * so a throttled or failed one is simply tried again a few times.
 */
import { sleep } from '../shared/clock.js';
import { claimWire, RateGate } from '../dispatch/rate-gate.js';
import { deliveryStoreFor, type AwaitingRow } from '../ledger/delivery-store.js';
import type { Ledger } from '../ledger/ledger.js';
import type { TelnyxClient } from '../telnyx/client.js';
import { TelnyxAbortedError, TelnyxApiError, TelnyxNetworkError } from '../telnyx/errors.js';
import type { Message } from '../telnyx/wire.js';
import { applyObservation, observeMessage } from '../webhooks/apply-event.js';
import { runStoreOf } from '../ledger/run-store.js';

/** Telnyx's retrieval horizon for GET /messages/{id}. */
export const retrievableForMs = 10 * 24 * 3600_000;

export interface ReconcileOptions {
  client: Pick<TelnyxClient, 'retrieve'>;
  /** GETs per second at most. */
  ratePerSecond: number;
  /** Wall clock in ms. @default Date.now */
  now?: () => number;
  signal?: AbortSignal;
  /** GETs in flight at once. @default 4 */
  concurrency?: number;
  /** Tries per GET for throttling, 5xx and network errors. @default 3 */
  attempts?: number;
}

export interface ReconcileChange {
  row: number;
  messageId: string;
  from: string | null;
  to: string;
}

export interface ReconcileResult {
  runId: string;
  /** Rows fetched from Telnyx. */
  checked: number;
  updated: ReconcileChange[];
  /** Rows sent more than 10 days ago: Telnyx no longer returns them. */
  tooOld: { row: number; messageId: string; sentAt: string | null }[];
  failed: { row: number; messageId: string; code: string | null; detail: string }[];
}

const pageSize = 256;

function retryable(err: unknown): { wait: number | undefined } | undefined {
  if (err instanceof TelnyxApiError && (err.status === 429 || err.status >= 500)) return { wait: err.retryAfterMs };
  if (err instanceof TelnyxNetworkError) return { wait: undefined };
  if (err instanceof TelnyxAbortedError && err.reason === 'timeout') return { wait: undefined };
  return undefined;
}

function failureOf(err: unknown): { code: string | null; detail: string } {
  if (err instanceof TelnyxApiError) return { code: err.firstCode ?? String(err.status), detail: err.message };
  if (err instanceof TelnyxNetworkError) return { code: err.causeCode ?? null, detail: err.message };
  return { code: null, detail: err instanceof Error ? err.message : String(err) };
}

export async function reconcileRun(ledger: Ledger, runId: string, options: ReconcileOptions): Promise<ReconcileResult> {
  const run = runStoreOf(ledger).getRun(runId);
  const store = deliveryStoreFor(ledger);
  const now = options.now ?? Date.now;
  const attempts = options.attempts ?? 3;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const gate = new RateGate({ ratePerSecond: options.ratePerSecond });
  const result: ReconcileResult = { runId, checked: 0, updated: [], tooOld: [], failed: [] };

  async function fetchWithRetry(id: string): Promise<Message> {
    for (let attempt = 1; ; attempt++) {
      const permit = await gate.take(1, options.signal);
      if (!(await claimWire([permit], options.signal))) throw options.signal?.reason;
      const answer = await options.client.retrieve(id, options.signal === undefined ? {} : { signal: options.signal }).then(
        (message) => ({ message }),
        (error: unknown) => ({ error }),
      );
      permit.done();
      if ('message' in answer) return answer.message;
      const retry = retryable(answer.error);
      if (retry === undefined || attempt >= attempts || options.signal?.aborted) throw answer.error;
      await sleep(retry.wait ?? 500 * 2 ** (attempt - 1), options.signal);
    }
  }

  async function check(r: AwaitingRow): Promise<void> {
    const sentAt = r.sentAt ?? r.sendingAt;
    if (sentAt !== null && now() - sentAt > retrievableForMs) {
      result.tooOld.push({ row: r.row, messageId: r.messageId, sentAt: new Date(sentAt).toISOString() });
      return;
    }
    let message: Message;
    try {
      message = await fetchWithRetry(r.messageId);
    } catch (err) {
      if (options.signal?.aborted) throw err;
      result.failed.push({ row: r.row, messageId: r.messageId, ...failureOf(err) });
      return;
    }
    result.checked++;
    const change = store.transaction(() => {
      const state = store.byMessageId(r.messageId);
      if (state === undefined) return undefined;
      return applyObservation(store, state, observeMessage(message, 'retrieve', null), 'reconcile', now());
    });
    if (change?.changed === true && change.to !== null) result.updated.push({ row: r.row, messageId: r.messageId, from: change.from, to: change.to });
  }

  try {
    let after = 0;
    for (;;) {
      const page = store.awaitingDelivery(run.rid, after, pageSize);
      if (page.length === 0) break;
      after = page.at(-1)!.row;
      let next = 0;
      const worker = async () => {
        while (next < page.length) await check(page[next++]!);
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, page.length) }, worker));
    }
  } finally {
    gate.close(new Error('reconcile finished'));
  }
  result.updated.sort((a, b) => a.row - b.row);
  result.failed.sort((a, b) => a.row - b.row);
  return result;
}
