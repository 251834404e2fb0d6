/**
 * Send metrics fed by the dispatcher's events, for `run --metrics-port` and the scheduler alike:
 * messages by outcome, attempts by classification (one `attempt` event per HTTP attempt, classified by
 * telnyx/classify.ts), the current send rate and requests in flight.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DispatchEvent } from '../dispatch/dispatcher.js';

export type AttemptClassification = 'accepted' | 'rejected' | 'fatal' | 'throttled' | 'retryable' | 'unreachable' | 'in_doubt';

export const attemptClassifications: readonly AttemptClassification[] = ['accepted', 'rejected', 'fatal', 'throttled', 'retryable', 'unreachable', 'in_doubt'];

export type MessageOutcome = 'sent' | 'failed' | 'unknown' | 'deferred' | 'expired';

export const messageOutcomes: readonly MessageOutcome[] = ['sent', 'failed', 'unknown', 'deferred', 'expired'];

/** What the dispatcher exposes for gauges read at scrape time. */
export interface RateSource {
  /** The run ceiling in force (msg/s), lowered while Telnyx throttles. */
  readonly effectiveRate: number;
  /** Requests in flight now. */
  readonly inFlight: number;
}

export interface RunMetrics {
  /** Feed every DispatchEvent (from executeRun's `onEvent`). */
  onEvent(event: DispatchEvent): void;
  /** Read a dispatcher's in-flight count and rate limit on every scrape (from `onStart`); returns detach. */
  attach(source: RateSource): () => void;
}

/** Width of the window the current send rate is averaged over. */
const RATE_WINDOW_S = 10;

export interface RunMetricsOptions {
  /** Monotonic milliseconds for the send-rate window. @default performance.now */
  monotonicNow?: () => number;
}

export function createRunMetrics(registry: Registry, options: RunMetricsOptions = {}): RunMetrics {
  const clock = options.monotonicNow ?? (() => performance.now());
  const sources = new Set<RateSource>();
  // Messages accepted per whole second of the monotonic clock, the last RATE_WINDOW_S seconds.
  const buckets = new Array<number>(RATE_WINDOW_S).fill(0);
  let bucketSecond = Math.floor(clock() / 1000);
  const startedSecond = bucketSecond;
  const roll = (): void => {
    const now = Math.floor(clock() / 1000);
    for (let s = bucketSecond + 1; s <= now && s <= bucketSecond + RATE_WINDOW_S; s++) buckets[s % RATE_WINDOW_S] = 0;
    bucketSecond = Math.max(bucketSecond, now);
  };

  const messages = new Counter({
    name: 'bulktext_messages_total',
    help: 'Message rows by outcome: sent (Telnyx accepted), failed, unknown (in doubt), deferred (held for the send window; a row deferred and later sent counts in both), expired',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const attempts = new Counter({
    name: 'bulktext_attempts_total',
    help: 'HTTP send attempts by classification: accepted, rejected, fatal, throttled, retryable, unreachable, in_doubt',
    labelNames: ['classification'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'bulktext_send_rate_per_second',
    help: `Messages Telnyx accepted per second, averaged over the last ${RATE_WINDOW_S} s`,
    registers: [registry],
    collect() {
      roll();
      const elapsed = Math.min(RATE_WINDOW_S, Math.max(1, bucketSecond - startedSecond + 1));
      this.set(buckets.reduce((a, b) => a + b, 0) / elapsed);
    },
  });
  // Gauges summed over the runs sending in this process, read from the dispatchers at scrape time.
  const summed = (name: string, help: string, pick: (s: RateSource) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        let sum = 0;
        for (const s of sources) sum += pick(s);
        this.set(sum);
      },
    });
  summed(
    'bulktext_send_rate_limit_per_second',
    'The send ceiling in force now, summed over the runs sending (lower than configured while Telnyx throttles)',
    (s) => s.effectiveRate,
  );
  summed('bulktext_requests_in_flight', 'Send requests written and not yet answered', (s) => s.inFlight);
  // Every label value exists from the start, so rate() and alerts see a 0 rather than no series.
  for (const o of messageOutcomes) messages.inc({ outcome: o }, 0);
  for (const c of attemptClassifications) attempts.inc({ classification: c }, 0);

  return {
    onEvent(event) {
      switch (event.type) {
        case 'attempt':
          // The dispatcher reports every HTTP attempt, retried or final, classified.
          attempts.inc({ classification: event.kind });
          return;
        case 'outcome':
          messages.inc({ outcome: event.status });
          if (event.status === 'sent') {
            roll();
            buckets[bucketSecond % RATE_WINDOW_S]! += 1;
          }
          return;
        case 'deferred':
          messages.inc({ outcome: 'deferred' });
          return;
        case 'expired':
          messages.inc({ outcome: 'expired' });
          return;
        case 'rate':
        case 'waiting':
        case 'odd_answer':
          return;
      }
    },
    attach(source) {
      sources.add(source);
      return () => {
        sources.delete(source);
      };
    },
  };
}
