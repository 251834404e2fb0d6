/**
 * The dispatcher: takes pending rows from the ledger and sends each exactly once, as fast as the limits
 * allow and never faster.
 *
 * One row's path:  sender gate → connection slot → run gate → mark `sending` (durable) → wire check → request.
 * - The sender gate comes first so a row waiting for a slow sender (0.1 msg/s) holds no connection slot.
 * - The run gate comes last before the durable mark, so a permit is spent soon after it is granted; and
 *   because the mark's wait varies (an fsync), both gates check their sliding windows again at the wire
 *   (`wireWait`) and log the write itself, so the ceilings hold where Telnyx counts, not only on average.
 * - p-retry owns retries; every attempt passes both gates again, and backoff waits happen outside them.
 * - Only `throttled`, `retryable` and `unreachable` answers are retried: each proves no message was
 *   created. An `in_doubt` answer makes the row `unknown` and is never retried here (Telnyx has no
 *   idempotency key).
 * - An answer that proves nothing was sent never ends a row: a throttled row is retried for as long as
 *   the run lasts (the run slows down instead), and a row that runs out of `retry.attempts` on 503s or
 *   connect failures stops the run (fatal) with the row still `pending`, as does an API that cannot be
 *   reached for UNREACHABLE_ATTEMPTS attempts or UNREACHABLE_MS in a row: nothing can be sent then, and
 *   failing rows would lose them.
 */
import { setMaxListeners } from 'node:events';
import Bottleneck from 'bottleneck';
import pRetry, { AbortError } from 'p-retry';
import { AdaptiveRate } from './adaptive-rate.js';
import { LedgerWriter } from './ledger-writer.js';
import type { Admission, AdmissionDecision, DispatchLedger, MessageSender, Outcome, PendingMessage, SendResult } from './ports.js';
import { sleepUnlessAborted } from '../shared/clock.js';
import { isPromise, type MaybePromise } from '../shared/maybe-promise.js';
import { claimWire, RateGate, TICK_MS, type Permit } from './rate-gate.js';
import { Semaphore } from './semaphore.js';
import type { LimitGates } from './shared-limits.js';

/** Per-sender gates at or below this rate keep strict spacing between a sender's messages. */
const EXCLUSIVE_BELOW = 50;
/** The run stops when this many attempts in a row, or attempts over this long, could not reach the API. */
export const UNREACHABLE_ATTEMPTS = 20;
export const UNREACHABLE_MS = 30_000;

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
  | { type: 'retry'; row: number; attempt: number; kind: RetriedKind; code: string | null }
  /** Every HTTP attempt, classified (for metrics). */
  | { type: 'attempt'; row: number; kind: SendResult['kind'] }
  /** Telnyx accepted the row, but some fields of its answer were missing or unreadable (recorded as absent). */
  | { type: 'odd_answer'; row: number; fields: readonly string[] }
  | { type: 'rate'; ratePerSecond: number }
  | { type: 'deferred'; row: number; until: number; reason?: string }
  | { type: 'expired'; row: number }
  | { type: 'skipped'; row: number; code: string }
  /** Nothing can go until `until` (every remaining row is outside its send window); undefined when sending again. */
  | { type: 'waiting'; until: number | undefined };

/** Answers that prove nothing was created, and are tried again. */
export type RetriedKind = 'throttled' | 'retryable' | 'unreachable';

export interface DispatchSummary {
  /**
   * `deferred`: rows are left waiting for their send window and the run was told not to wait.
   * `expired`: the run's deadline passed; rows not yet sent are left for the caller to mark expired.
   */
  stop: 'completed' | 'fatal' | 'interrupted' | 'deferred' | 'expired';
  /** Why a `fatal` stop happened: Telnyx's answer, or `code: 'unreachable'` when the API could not be reached. */
  fatal?: { code: string | null; detail: string; httpStatus: number | null };
  sent: number;
  failed: number;
  unknown: number;
  /** Sent rows whose answer had missing or unreadable fields (see the `odd_answer` event). */
  oddAnswers: number;
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
  /** Send windows and deadlines; without it every row may go at once. */
  admission?: Admission;
  /** Wall clock for ledger timestamps and send windows. @default Date.now */
  now?: () => number;
  /** Names the API in the stop reason when it cannot be reached, e.g. `TELNYX_BASE_URL https://…`. @default 'the API' */
  endpoint?: string;
  /** Limits shared with other processes (account, sender, campaign): caps the gates at this process's share. */
  limits?: LimitGates;
}

class StopError extends Error {}

/** Internal: a result that p-retry may retry. */
class RetryableResult extends Error {
  constructor(readonly result: Exclude<SendResult, { kind: 'accepted' }> & { kind: RetriedKind }) {
    super(result.detail);
  }
}

export class Dispatcher {
  readonly #o: DispatcherOptions;
  readonly #runGate: RateGate;
  readonly #senderGates = new Map<string, RateGate>();
  /** Gates a sender's rows pass besides its own (its 10DLC campaign's minute), from the shared limits. */
  readonly #moreGates = new Map<string, RateGate[]>();
  readonly #senderGroup: Bottleneck.Group;
  readonly #slots: Semaphore;
  readonly #writer: LedgerWriter;
  readonly #adaptive: AdaptiveRate;
  readonly #stop = new AbortController();
  readonly #now: () => number;
  #summary: DispatchSummary = { stop: 'completed', sent: 0, failed: 0, unknown: 0, oddAnswers: 0 };
  #internalError: unknown = undefined;
  /** Attempts in a row that could not reach the API, and when the first of them was answered. */
  #unreachable = 0;
  #unreachableSince = 0;

  constructor(options: DispatcherOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    // Every row waiting at a gate listens for the stop: thousands of listeners are expected here.
    setMaxListeners(0, this.#stop.signal);
    this.#runGate = new RateGate({ ratePerSecond: options.rate.messagesPerSecond });
    options.limits?.runGate(this.#runGate);
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
      // What Telnyx accepted so far: at a throttle the run slows to what it drains.
      () => this.#summary.sent,
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
    const deadline = this.#o.admission?.deadline;
    const deadlineIn = deadline === undefined ? undefined : deadline - this.#now();
    // Past the deadline nothing may go: stop at once rather than expire queued rows one permit at a time.
    const deadlineTimer =
      deadlineIn === undefined || deadlineIn > 2 ** 31 - 1 ? undefined : setTimeout(() => this.#halt('expired'), Math.max(0, deadlineIn));
    try {
      await this.#feed();
      if (this.#internalError !== undefined) throw this.#internalError;
      return this.#summary;
    } finally {
      if (deadlineTimer !== undefined) clearTimeout(deadlineTimer);
      external?.removeEventListener('abort', onAbort);
      this.#adaptive.stop();
      await this.#writer.drain();
    }
  }

  /**
   * Admits rows a bounded window at a time: first every pending row in row order, then deferred rows
   * as their send windows open (waiting for the next opening when nothing else is left, unless told not
   * to wait), until none are left or the run stops.
   */
  #feed(): Promise<void> {
    // Enough rows waiting that every slot and every sender always has one, and no more: a row admitted
    // early sits in memory until a slot frees, and at full speed a window of a thousand rows kept each
    // one waiting long enough (~0.2 s) to be promoted to V8's old space — about 4 KB of garbage per
    // message there, which is what set the run's peak RSS.
    const window = Math.min(100_000, Math.max(256, 4 * this.#o.rate.maxConcurrent, 3 * (this.#o.senderCount ?? 1)));
    const page = Math.min(1000, window);
    const ledger = this.#o.ledger;
    const admission = this.#o.admission;
    let buffer: PendingMessage[] = [];
    let next = 0;
    let cursor = 0;
    let pendingDone = false;
    const active = new Set<number>();

    return new Promise<void>((resolve) => {
      let settleTimer: NodeJS.Timeout | undefined;
      let waitTimer: NodeJS.Timeout | undefined;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        if (settleTimer !== undefined) clearTimeout(settleTimer);
        if (waitTimer !== undefined) clearTimeout(waitTimer);
        resolve();
      };
      const stopSignal = this.#stop.signal;
      stopSignal.addEventListener(
        'abort',
        () => {
          if (waitTimer !== undefined) clearTimeout(waitTimer);
          if (active.size === 0) return finish();
          // Requests in flight settle on their own; do not wait on them forever.
          settleTimer = setTimeout(finish, this.#o.settleMs ?? 15_000);
          settleTimer.unref();
        },
        { once: true },
      );
      // At most one read of the ledger is in flight: two claims of the same rows never are, and the cursor
      // moves in order. A synchronous ledger answers within the call, and the pump goes on without a turn.
      let reading = false;
      /** Rows that finished while a `nextDue` was in flight: its answer may still show them deferred. */
      let finishedWhileReading: Set<number> | undefined;
      const read = <T, U>(answer: MaybePromise<T>, then: (value: T) => MaybePromise<U>): MaybePromise<U> => {
        if (!isPromise(answer)) return then(answer);
        reading = true;
        return answer.then(
          (value) => {
            reading = false;
            return then(value);
          },
          (err: unknown) => {
            reading = false;
            throw err;
          },
        );
      };
      const takePending = (rows: PendingMessage[]): MaybePromise<boolean> => {
        buffer = rows;
        next = 0;
        if (rows.length > 0) {
          cursor = rows[rows.length - 1]!.row;
          return true;
        }
        pendingDone = true;
        return refillDue();
      };
      const refillDue = (): MaybePromise<boolean> => {
        if (ledger.nextDue === undefined) return false;
        const done = new Set<number>();
        finishedWhileReading = done;
        // Rows already being worked on are still `deferred` in the ledger until marked sending.
        return read(ledger.nextDue(this.#now(), page + active.size), (rows) => {
          finishedWhileReading = undefined;
          buffer = rows.filter((m) => !active.has(m.row) && !done.has(m.row));
          next = 0;
          return buffer.length > 0;
        });
      };
      const refill = (): MaybePromise<boolean> => (pendingDone ? refillDue() : read(ledger.nextPending(cursor, page), takePending));
      /** A read of the ledger failed: the run stops with its error, as a failed commit stops it. */
      const readFailed = (err: unknown) => {
        finishedWhileReading = undefined;
        this.#internalError ??= err;
        this.#halt('interrupted');
        idle();
      };
      const idle = () => {
        if (active.size > 0 || finished || reading) return;
        if (stopSignal.aborted) return finish();
        const waiting = read(ledger.nextDeferral?.(), waitFor);
        if (isPromise(waiting)) waiting.catch(readFailed);
      };
      const waitFor = (opensAt: number | undefined) => {
        if (active.size > 0 || finished) return;
        if (stopSignal.aborted) return finish();
        if (opensAt === undefined) return finish();
        if (admission?.wait === false) {
          if (this.#summary.stop === 'completed') this.#summary.stop = 'deferred';
          return finish();
        }
        this.#o.onEvent?.({ type: 'waiting', until: opensAt });
        // Re-check at least every minute: a long sleep must not outlive a changed clock.
        waitTimer = setTimeout(() => {
          waitTimer = undefined;
          this.#o.onEvent?.({ type: 'waiting', until: undefined });
          pump();
        }, Math.min(60_000, Math.max(0, opensAt - this.#now()) + 5));
      };
      const pump = (): void => {
        if (reading) return;
        while (!stopSignal.aborted && active.size < window) {
          if (next >= buffer.length) {
            let more: MaybePromise<boolean>;
            try {
              more = refill();
            } catch (err) {
              // A synchronous ledger's refusal stops the run as an asynchronous one's does (not as an
              // unhandled rejection from the row that happened to call the pump).
              return readFailed(err);
            }
            if (more === false) break;
            if (more !== true) {
              more.then((got) => (got ? pump() : idle()), readFailed);
              return;
            }
          }
          const msg = buffer[next++]!;
          active.add(msg.row);
          void this.#processRow(msg).finally(() => {
            active.delete(msg.row);
            finishedWhileReading?.add(msg.row);
            if (active.size === 0 || !stopSignal.aborted) pump();
          });
        }
        idle();
      };
      pump();
    });
  }

  #halt(stop: 'fatal' | 'interrupted' | 'expired'): void {
    if (this.#stop.signal.aborted) return;
    this.#summary.stop = stop;
    const reason = new StopError(stop);
    this.#stop.abort(reason);
    this.#runGate.close(reason);
    for (const gate of this.#senderGates.values()) gate.close(reason);
    this.#o.limits?.halt(reason);
  }

  #senderGate(sender: string | null): RateGate {
    const key = sender ?? '';
    let gate = this.#senderGates.get(key);
    if (gate === undefined) {
      const rate = this.#o.limits?.senderCeiling(key) ?? this.#o.rate.perSenderPerSecond;
      gate = new RateGate({ ratePerSecond: rate, exclusive: rate <= EXCLUSIVE_BELOW, limiter: this.#senderGroup.key(key) });
      this.#senderGates.set(key, gate);
      const more = this.#o.limits?.senderGate(key, gate);
      if (more !== undefined && more.length > 0) this.#moreGates.set(key, more);
    }
    return gate;
  }

  async #processRow(msg: PendingMessage): Promise<void> {
    const { attempts, minDelayMs, maxDelayMs } = this.#o.retry;
    if (!this.#admit(msg)) return;
    try {
      // The first attempt runs outside p-retry, which costs ~7 µs a call: a measurable share of a message's
      // CPU at thousands a second, when nearly every row goes through first time. A retryable first answer
      // is handed to p-retry as its own first failure, so backoff and retry events are exactly as before.
      let first: unknown;
      try {
        await this.#attempt(msg, 1);
        return;
      } catch (err) {
        if (!(err instanceof RetryableResult)) throw err;
        first = err;
      }
      // Throttled answers do not count against `retry.attempts`: the run slows down and the row waits its turn.
      let counted = 0;
      await pRetry((attempt) => (attempt === 1 ? Promise.reject(first) : this.#attempt(msg, attempt)), {
        retries: Infinity,
        minTimeout: minDelayMs,
        maxTimeout: maxDelayMs,
        factor: 2,
        randomize: true,
        signal: this.#stop.signal,
        shouldRetry: ({ error }) => error instanceof RetryableResult,
        onFailedAttempt: async ({ error, attemptNumber }) => {
          if (!(error instanceof RetryableResult)) return;
          const { result } = error;
          if (result.kind !== 'throttled' && ++counted >= attempts) {
            // Still not sent, and provably never created: the row stays pending and the run stops, resumable.
            this.#stopFatal(this.#giveUpReason(result, counted));
            throw new StopError('fatal');
          }
          this.#o.onEvent?.({ type: 'retry', row: msg.row, attempt: attemptNumber, kind: result.kind, code: result.code });
          // Honour the server's hint on top of our own backoff; waits happen outside every gate.
          if (result.retryAfterMs !== undefined && result.retryAfterMs > 0) {
            await sleepUnlessAborted(Math.min(result.retryAfterMs, 5 * 60_000), this.#stop.signal);
          }
        },
      });
    } catch (thrown) {
      // p-retry unwraps an AbortError; a first attempt outside it does not.
      const err = thrown instanceof AbortError ? thrown.originalError : thrown;
      if (err instanceof StopError || err instanceof RetryableResult || this.#stop.signal.aborted) return; // row stays pending
      this.#internalError ??= err;
      this.#halt('interrupted');
    }
  }

  #stopFatal(fatal: NonNullable<DispatchSummary['fatal']>): void {
    this.#summary.fatal ??= fatal;
    this.#halt('fatal');
  }

  #giveUpReason(result: RetryableResult['result'], tries: number): NonNullable<DispatchSummary['fatal']> {
    if (result.kind === 'unreachable') return this.#unreachableReason(result, `${tries} attempts for one row`);
    return {
      code: result.code,
      detail: `gave up after ${tries} attempts of one row: ${result.detail}; no message was created and the row is still pending`,
      httpStatus: result.httpStatus,
    };
  }

  #unreachableReason(result: RetryableResult['result'], how: string): NonNullable<DispatchSummary['fatal']> {
    return {
      code: 'unreachable',
      detail: `cannot reach ${this.#o.endpoint ?? 'the API'} (${how}): ${result.detail}; nothing was sent for the rows still pending`,
      httpStatus: null,
    };
  }

  /** Counts attempts in a row that could not reach the API; stops the run when they last. */
  #noteUnreachable(result: RetryableResult['result']): void {
    const now = performance.now();
    if (this.#unreachable++ === 0) this.#unreachableSince = now;
    const lasted = now - this.#unreachableSince;
    if (this.#unreachable >= UNREACHABLE_ATTEMPTS || lasted >= UNREACHABLE_MS) {
      this.#stopFatal(this.#unreachableReason(result, `${this.#unreachable} attempts in a row over ${(lasted / 1000).toFixed(1)} s`));
    }
  }

  /** One attempt: gates, durable `sending` mark, request, outcome. */
  async #attempt(msg: PendingMessage, attempt: number): Promise<void> {
    const stop = this.#stop.signal;
    const units = this.#o.rate.countParts ? Math.max(1, msg.parts) : 1;
    const permit = await this.#senderGate(msg.sender).take(units, stop).catch(rethrowAsStop);
    const permits = [permit];
    for (const gate of this.#moreGates.get(msg.sender ?? '') ?? []) {
      try {
        permits.push(await gate.take(units, stop));
      } catch (err) {
        for (const p of permits) p.release();
        rethrowAsStop(err);
      }
    }
    let runPermit: Permit | undefined;
    await this.#slots.acquire();
    try {
      if (stop.aborted) throw new AbortError(new StopError('stopped'));
      runPermit = await this.#runGate.take(units, stop).catch(rethrowAsStop);
      // The send window may have closed while this row queued behind the limits.
      if (!this.#admit(msg)) throw new AbortError(new StopError('deferred'));
      const startedAt = this.#now();
      await this.#writer.markSending(msg.row, startedAt);
      // Rows granted apart may come out of the same commit together: wait (rarely, briefly) until the write
      // keeps every sliding window within its ceiling. The row is already durably `sending` here. From the
      // claim on, the request counts in both gates' windows until a window after its answer, and an
      // exclusive sender gate times its next permit from that answer (see rate-gate.ts).
      const run = runPermit;
      const claimed = claimWire(permits.length === 1 ? [permit, run] : [...permits, run], stop);
      if (claimed !== true && !(await claimed)) {
        // Nothing was written: the row goes back to pending rather than becoming in doubt.
        this.#writer.outcome({ row: msg.row, status: 'pending', errorCode: null, errorDetail: 'the run stopped before this request was written', at: this.#now() });
        throw new AbortError(new StopError('stopped'));
      }
      const t0 = performance.now();
      let result: SendResult;
      try {
        result = await this.#o.sender.send(msg);
      } finally {
        for (const p of permits) p.done();
        run.done();
      }
      this.#record(msg, attempt, startedAt, Math.round(performance.now() - t0), result);
    } finally {
      // A permit not written gives its exclusive slot back; after sent() this does nothing.
      for (const p of permits) p.release();
      runPermit?.release();
      this.#slots.release();
    }
  }

  /** Applies send windows and deadlines; false when the row was deferred or expired instead. */
  #admit(msg: PendingMessage): boolean {
    const admission = this.#o.admission;
    if (admission === undefined) return true;
    const at = this.#now();
    const decision: AdmissionDecision = admission.decide(msg, at);
    if (decision.action === 'send') return true;
    if (decision.action === 'defer') {
      this.#writer.outcome({ row: msg.row, status: 'deferred', until: decision.until, errorDetail: decision.reason, at });
      this.#o.onEvent?.({ type: 'deferred', row: msg.row, until: decision.until, reason: decision.reason });
    } else if (decision.action === 'expire') {
      this.#writer.outcome({ row: msg.row, status: 'expired', errorDetail: decision.reason, at });
      this.#o.onEvent?.({ type: 'expired', row: msg.row });
    } else {
      this.#writer.outcome({ row: msg.row, status: 'skipped', errorCode: decision.code, errorDetail: decision.reason, at });
      this.#o.onEvent?.({ type: 'skipped', row: msg.row, code: decision.code });
    }
    return false;
  }

  #record(msg: PendingMessage, attempt: number, startedAt: number, latencyMs: number, result: SendResult): void {
    const at = this.#now();
    this.#o.onEvent?.({ type: 'attempt', row: msg.row, kind: result.kind });
    if (result.kind !== 'unreachable') this.#unreachable = 0;
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
      case 'accepted': {
        const sent: Outcome = {
          row: msg.row,
          status: 'sent',
          messageId: result.messageId,
          fromNumber: result.fromNumber,
          parts: result.parts,
          cost: result.cost,
          currency: result.currency,
          at,
        };
        const odd = result.oddFields;
        if (odd !== undefined) {
          // Sent all the same (the id proves it): what the answer lacked is recorded as absent, and counted.
          sent.note = `sent; Telnyx's answer lacked or garbled ${odd.join(', ')} (recorded as absent)`;
          this.#summary.oddAnswers++;
          this.#o.onEvent?.({ type: 'odd_answer', row: msg.row, fields: odd });
        }
        this.#writer.outcome(sent, attemptRecord);
        emit('sent', null, result.parts ?? msg.parts);
        return;
      }
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
        this.#stopFatal({ code: result.code, detail: result.detail, httpStatus: result.httpStatus });
        throw new AbortError(new StopError('fatal'));
      case 'throttled':
      case 'retryable':
      case 'unreachable': {
        // Nothing was created: the row is pending again until its next attempt (or a resume).
        this.#writer.outcome({ row: msg.row, status: 'pending', errorCode: result.code, errorDetail: result.detail, at }, attemptRecord);
        const retried = new RetryableResult({ ...result, kind: result.kind });
        if (result.kind === 'throttled') this.#adaptive.throttled();
        else if (result.kind === 'unreachable') this.#noteUnreachable(retried.result);
        throw retried;
      }
    }
  }
}

function rethrowAsStop(err: unknown): never {
  throw new AbortError(err instanceof Error ? err : new StopError(String(err)));
}
