/**
 * The dispatcher: takes pending rows from the ledger and sends each exactly once, as fast as the limits
 * allow and never faster.
 *
 * One row's path:  sender gate → connection slot → run gate → mark `sending` (committed) → request.
 * - The sender gate comes first so a row waiting for a slow sender (0.1 msg/s) holds no connection slot.
 * - The run gate comes last, right before the request, so a permit is spent the moment it is granted and
 *   the ceiling holds at the wire, not only on average.
 * - p-retry owns retries; every attempt passes both gates again, and backoff waits happen outside them.
 * - Only `throttled` and `retryable` answers are retried: both prove no message was created. An
 *   `in_doubt` answer makes the row `unknown` and is never retried here (Telnyx has no idempotency key).
 */
import Bottleneck from 'bottleneck';
import pRetry, { AbortError } from 'p-retry';
import { AdaptiveRate } from './adaptive-rate.js';
import { LedgerWriter } from './ledger-writer.js';
import type { DispatchLedger, MessageSender, PendingMessage, SendResult } from './ports.js';
import { RateGate, TICK_MS } from './rate-gate.js';
import { Semaphore } from './semaphore.js';

/** Per-sender gates at or below this rate keep strict spacing between a sender's messages. */
const EXCLUSIVE_BELOW = 50;

export interface DispatchRate {
  /** Ceiling for the whole run (units/s). */
  messagesPerSecond: number;
  /** Ceiling for each sender (units/s). */
  perSenderPerSecond: number;
  maxConcurrent: number;
  /** A message's parts count as that many units of every limit. */
  countParts: boolean;
}

export interface DispatchRetry {
  attempts: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export type DispatchEvent =
  | { type: 'outcome'; row: number; status: 'sent' | 'failed' | 'unknown'; parts: number; code: string | null }
  | { type: 'retry'; row: number; attempt: number; kind: 'throttled' | 'retryable'; code: string | null }
  | { type: 'rate'; ratePerSecond: number };

export interface DispatchSummary {
  stop: 'completed' | 'fatal' | 'interrupted';
  fatal?: { code: string | null; detail: string; httpStatus: number | null };
  sent: number;
  failed: number;
  unknown: number;
}

export interface DispatcherOptions {
  ledger: DispatchLedger;
  sender: MessageSender;
  rate: DispatchRate;
  retry: DispatchRetry;
  /** Distinct senders in the run; sizes the admission window so every sender can be kept busy. @default 1 */
  senderCount?: number;
  /** Aborting stops taking new rows and lets requests in flight settle. */
  signal?: AbortSignal;
  /** How long requests in flight may settle after a stop before the run returns anyway. @default 15000 */
  settleMs?: number;
  onEvent?: (event: DispatchEvent) => void;
  /** Wall clock for ledger timestamps. @default Date.now */
  now?: () => number;
}

class StopError extends Error {}

/** Internal: a result that p-retry may retry. */
class RetryableResult extends Error {
  constructor(readonly result: Exclude<SendResult, { kind: 'accepted' }> & { kind: 'throttled' | 'retryable' }) {
    super(result.detail);
  }
}

export class Dispatcher {
  readonly #o: DispatcherOptions;
  readonly #runGate: RateGate;
  readonly #senderGates = new Map<string, RateGate>();
  readonly #senderGroup: Bottleneck.Group;
  readonly #slots: Semaphore;
  readonly #writer: LedgerWriter;
  readonly #adaptive: AdaptiveRate;
  readonly #stop = new AbortController();
  readonly #now: () => number;
  #summary: DispatchSummary = { stop: 'completed', sent: 0, failed: 0, unknown: 0 };
  #internalError: unknown = undefined;

  constructor(options: DispatcherOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#runGate = new RateGate({ ratePerSecond: options.rate.messagesPerSecond });
    this.#senderGroup = new Bottleneck.Group({ maxConcurrent: 1, minTime: TICK_MS });
    this.#slots = new Semaphore(options.rate.maxConcurrent);
    this.#writer = new LedgerWriter(options.ledger);
    this.#writer.onError = (err) => {
      this.#internalError ??= err;
      this.#halt('interrupted');
    };
    this.#adaptive = new AdaptiveRate(
      {
        setRate: (r) => {
          this.#runGate.setRate(r);
          options.onEvent?.({ type: 'rate', ratePerSecond: r });
        },
      },
      options.rate.messagesPerSecond,
    );
  }

  /** The run ceiling currently in force (lower than configured while Telnyx is throttling us). */
  get effectiveRate(): number {
    return this.#adaptive.current;
  }

  get inFlight(): number {
    return this.#slots.inUse;
  }

  async run(): Promise<DispatchSummary> {
    const external = this.#o.signal;
    const onAbort = () => this.#halt('interrupted');
    if (external?.aborted) this.#halt('interrupted');
    external?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.#feed();
      if (this.#internalError !== undefined) throw this.#internalError;
      return this.#summary;
    } finally {
      external?.removeEventListener('abort', onAbort);
      this.#adaptive.stop();
      this.#writer.flush();
    }
  }

  /** Admits pending rows, a bounded window at a time, until none are left or the run stops. */
  #feed(): Promise<void> {
    const window = Math.min(
      100_000,
      Math.max(1024, 8 * this.#o.rate.maxConcurrent, 3 * (this.#o.senderCount ?? 1)),
    );
    const page = 1000;
    let buffer: PendingMessage[] = [];
    let next = 0;
    let cursor = 0;
    let exhausted = false;
    let active = 0;

    return new Promise<void>((resolve) => {
      let settleTimer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (settleTimer !== undefined) clearTimeout(settleTimer);
        resolve();
      };
      const stopSignal = this.#stop.signal;
      stopSignal.addEventListener(
        'abort',
        () => {
          if (active === 0) return finish();
          // Requests in flight settle on their own; do not wait on them forever.
          settleTimer = setTimeout(finish, this.#o.settleMs ?? 15_000);
          settleTimer.unref();
        },
        { once: true },
      );
      const pump = () => {
        while (!stopSignal.aborted && active < window) {
          if (next >= buffer.length) {
            if (exhausted) break;
            buffer = this.#o.ledger.nextPending(cursor, page);
            next = 0;
            if (buffer.length === 0) {
              exhausted = true;
              break;
            }
            cursor = buffer[buffer.length - 1]!.row;
          }
          const msg = buffer[next++]!;
          active++;
          void this.#processRow(msg).finally(() => {
            active--;
            if (active === 0 && (exhausted || stopSignal.aborted)) finish();
            else pump();
          });
        }
        if (active === 0 && (exhausted || stopSignal.aborted)) finish();
      };
      pump();
    });
  }

  #halt(stop: 'fatal' | 'interrupted'): void {
    if (this.#stop.signal.aborted) return;
    this.#summary.stop = stop;
    const reason = new StopError(stop);
    this.#stop.abort(reason);
    this.#runGate.close(reason);
    for (const gate of this.#senderGates.values()) gate.close(reason);
  }

  #senderGate(sender: string | null): RateGate {
    const key = sender ?? '';
    let gate = this.#senderGates.get(key);
    if (gate === undefined) {
      const rate = this.#o.rate.perSenderPerSecond;
      gate = new RateGate({ ratePerSecond: rate, exclusive: rate <= EXCLUSIVE_BELOW, limiter: this.#senderGroup.key(key) });
      this.#senderGates.set(key, gate);
    }
    return gate;
  }

  async #processRow(msg: PendingMessage): Promise<void> {
    const { attempts, minDelayMs, maxDelayMs } = this.#o.retry;
    try {
      await pRetry((attempt) => this.#attempt(msg, attempt, attempt >= attempts), {
        retries: attempts - 1,
        minTimeout: minDelayMs,
        maxTimeout: maxDelayMs,
        factor: 2,
        randomize: true,
        signal: this.#stop.signal,
        shouldRetry: ({ error }) => error instanceof RetryableResult,
        onFailedAttempt: async ({ error, retriesLeft, attemptNumber }) => {
          if (!(error instanceof RetryableResult) || retriesLeft <= 0) return;
          const { result } = error;
          this.#o.onEvent?.({ type: 'retry', row: msg.row, attempt: attemptNumber, kind: result.kind, code: result.code });
          // Honour the server's hint on top of our own backoff; waits happen outside every gate.
          if (result.retryAfterMs !== undefined && result.retryAfterMs > 0) {
            await sleepUnlessStopped(Math.min(result.retryAfterMs, 5 * 60_000), this.#stop.signal);
          }
        },
      });
    } catch (err) {
      if (err instanceof StopError || err instanceof RetryableResult || this.#stop.signal.aborted) return; // row stays pending
      this.#internalError ??= err;
      this.#halt('interrupted');
    }
  }

  /** One attempt: gates, durable `sending` mark, request, outcome. */
  async #attempt(msg: PendingMessage, attempt: number, last: boolean): Promise<void> {
    const stop = this.#stop.signal;
    const units = this.#o.rate.countParts ? Math.max(1, msg.parts) : 1;
    const permit = await this.#senderGate(msg.sender).take(units, stop).catch(rethrowAsStop);
    await this.#slots.acquire();
    try {
      if (stop.aborted) {
        permit.release();
        throw new AbortError(new StopError('stopped'));
      }
      await this.#runGate.take(units, stop).catch((err: unknown) => {
        permit.release();
        rethrowAsStop(err);
      });
      permit.sent();
      const startedAt = this.#now();
      await this.#writer.markSending(msg.row, startedAt);
      const t0 = performance.now();
      const result = await this.#o.sender.send(msg);
      this.#record(msg, attempt, last, startedAt, Math.round(performance.now() - t0), result);
    } finally {
      this.#slots.release();
    }
  }

  #record(msg: PendingMessage, attempt: number, last: boolean, startedAt: number, latencyMs: number, result: SendResult): void {
    const at = this.#now();
    const attemptRecord = {
      row: msg.row,
      attempt: msg.attempts + attempt,
      startedAt,
      latencyMs,
      httpStatus: result.httpStatus,
      outcome: result.kind,
      telnyxCode: result.kind === 'accepted' ? null : result.code,
      detail: result.kind === 'accepted' ? result.messageId : result.detail,
    };
    const emit = (status: 'sent' | 'failed' | 'unknown', code: string | null, parts: number) => {
      this.#summary[status]++;
      this.#o.onEvent?.({ type: 'outcome', row: msg.row, status, parts, code });
    };
    switch (result.kind) {
      case 'accepted':
        this.#writer.outcome(
          {
            row: msg.row,
            status: 'sent',
            messageId: result.messageId,
            fromNumber: result.fromNumber,
            parts: result.parts,
            cost: result.cost,
            currency: result.currency,
            at,
          },
          attemptRecord,
        );
        emit('sent', null, result.parts ?? msg.parts);
        return;
      case 'rejected':
        this.#writer.outcome({ row: msg.row, status: 'failed', errorCode: result.code, errorDetail: result.detail, at }, attemptRecord);
        emit('failed', result.code, msg.parts);
        return;
      case 'in_doubt':
        // The request may have created a message: record it, never resend it blindly.
        this.#writer.outcome(
          { row: msg.row, status: 'unknown', errorCode: result.code ?? 'in_doubt', errorDetail: result.detail, at },
          attemptRecord,
        );
        emit('unknown', result.code, msg.parts);
        return;
      case 'fatal':
        // Nothing was sent for this row either: it stays pending for `resume`.
        this.#writer.outcome({ row: msg.row, status: 'pending', errorCode: result.code, errorDetail: result.detail, at }, attemptRecord);
        this.#summary.fatal ??= { code: result.code, detail: result.detail, httpStatus: result.httpStatus };
        this.#halt('fatal');
        throw new AbortError(new StopError('fatal'));
      case 'throttled':
      case 'retryable': {
        if (result.kind === 'throttled') this.#adaptive.throttled();
        if (last && !this.#stop.signal.aborted) {
          const detail = `gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${result.detail}`;
          this.#writer.outcome({ row: msg.row, status: 'failed', errorCode: result.code, errorDetail: detail, at }, attemptRecord);
          emit('failed', result.code, msg.parts);
          return;
        }
        this.#writer.outcome({ row: msg.row, status: 'pending', errorCode: result.code, errorDetail: result.detail, at }, attemptRecord);
        throw new RetryableResult({ ...result, kind: result.kind });
      }
    }
  }
}

function rethrowAsStop(err: unknown): never {
  throw new AbortError(err instanceof Error ? err : new StopError(String(err)));
}

function sleepUnlessStopped(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      signal.removeEventListener('abort', done);
      clearTimeout(timer);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
