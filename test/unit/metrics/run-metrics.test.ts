import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../../src/metrics/registry.js';
import { createRunMetrics } from '../../../src/metrics/run-metrics.js';
import { series, seriesValue } from './support.js';

describe('run metrics', () => {
  it('counts messages by outcome and attempts by classification, as the dispatcher reports them', async () => {
    const registry = createMetricsRegistry();
    const m = createRunMetrics(registry, { monotonicNow: () => 5_000 });
    // Every series exists before anything happens.
    expect(await series(registry, 'bulktext_messages_total')).toEqual({
      'outcome=sent': 0, 'outcome=failed': 0, 'outcome=unknown': 0, 'outcome=deferred': 0, 'outcome=expired': 0,
    });
    // The dispatcher's order: each attempt, then the retry or the outcome it led to.
    m.onEvent({ type: 'attempt', row: 1, kind: 'throttled' });
    m.onEvent({ type: 'retry', row: 1, attempt: 1, kind: 'throttled', code: '10011' });
    m.onEvent({ type: 'attempt', row: 1, kind: 'accepted' });
    m.onEvent({ type: 'outcome', row: 1, status: 'sent', parts: 1, code: null });
    m.onEvent({ type: 'attempt', row: 2, kind: 'accepted' });
    m.onEvent({ type: 'outcome', row: 2, status: 'sent', parts: 2, code: null });
    m.onEvent({ type: 'attempt', row: 3, kind: 'retryable' });
    m.onEvent({ type: 'attempt', row: 3, kind: 'unreachable' });
    m.onEvent({ type: 'odd_answer', row: 3, fields: ['cost.amount'] });
    m.onEvent({ type: 'retry', row: 3, attempt: 1, kind: 'retryable', code: '10007' });
    m.onEvent({ type: 'attempt', row: 3, kind: 'in_doubt' });
    m.onEvent({ type: 'outcome', row: 3, status: 'unknown', parts: 1, code: null });
    m.onEvent({ type: 'attempt', row: 4, kind: 'rejected' });
    m.onEvent({ type: 'outcome', row: 4, status: 'failed', parts: 1, code: '40310' });
    m.onEvent({ type: 'deferred', row: 5, until: Date.now() + 1000 });
    m.onEvent({ type: 'expired', row: 6 });
    m.onEvent({ type: 'rate', ratePerSecond: 5 });
    m.onEvent({ type: 'waiting', until: undefined });
    expect(await series(registry, 'bulktext_messages_total')).toEqual({
      'outcome=sent': 2, 'outcome=failed': 1, 'outcome=unknown': 1, 'outcome=deferred': 1, 'outcome=expired': 1,
    });
    expect(await series(registry, 'bulktext_attempts_total')).toEqual({
      'classification=accepted': 2,
      'classification=rejected': 1,
      'classification=fatal': 0,
      'classification=throttled': 1,
      'classification=retryable': 1,
      'classification=unreachable': 1,
      'classification=in_doubt': 1,
    });
    // Two accepted within the first second: 2 msg/s.
    expect(await seriesValue(registry, 'bulktext_send_rate_per_second')).toBe(2);
  });

  it('counts a row that gave up after throttling as throttled attempts, and a fatal attempt without an outcome', async () => {
    const registry = createMetricsRegistry();
    const m = createRunMetrics(registry);
    m.onEvent({ type: 'attempt', row: 1, kind: 'throttled' });
    m.onEvent({ type: 'retry', row: 1, attempt: 1, kind: 'throttled', code: '10011' });
    m.onEvent({ type: 'attempt', row: 1, kind: 'throttled' });
    m.onEvent({ type: 'outcome', row: 1, status: 'failed', parts: 1, code: '10011' });
    m.onEvent({ type: 'attempt', row: 2, kind: 'fatal' });
    expect(await series(registry, 'bulktext_attempts_total')).toMatchObject({
      'classification=throttled': 2,
      'classification=rejected': 0,
      'classification=fatal': 1,
    });
    expect(await seriesValue(registry, 'bulktext_messages_total', { outcome: 'failed' })).toBe(1);
  });

  it('reads in-flight requests and the rate limit from attached dispatchers at scrape time', async () => {
    const registry = createMetricsRegistry();
    const m = createRunMetrics(registry);
    const a = { effectiveRate: 50, inFlight: 3 };
    const b = { effectiveRate: 12.5, inFlight: 1 };
    const detachA = m.attach(a);
    m.attach(b);
    expect(await seriesValue(registry, 'bulktext_requests_in_flight')).toBe(4);
    expect(await seriesValue(registry, 'bulktext_send_rate_limit_per_second')).toBe(62.5);
    a.inFlight = 7;
    expect(await seriesValue(registry, 'bulktext_requests_in_flight')).toBe(8);
    detachA();
    expect(await seriesValue(registry, 'bulktext_requests_in_flight')).toBe(1);
    expect(await seriesValue(registry, 'bulktext_send_rate_limit_per_second')).toBe(12.5);
  });

  it('averages the send rate over the last 10 seconds', async () => {
    let now = 100_000;
    const registry = createMetricsRegistry();
    const m = createRunMetrics(registry, { monotonicNow: () => now });
    const sent = (n: number) => {
      for (let i = 0; i < n; i++) m.onEvent({ type: 'outcome', row: i, status: 'sent', parts: 1, code: null });
    };
    sent(10);
    now += 1000;
    sent(30);
    // 40 accepted over the 2 seconds since the run's metrics began.
    expect(await seriesValue(registry, 'bulktext_send_rate_per_second')).toBe(20);
    now += 8000;
    // Ten seconds in: 40 over 10 s.
    expect(await seriesValue(registry, 'bulktext_send_rate_per_second')).toBe(4);
    now += 1000;
    // The first second's 10 left the window.
    expect(await seriesValue(registry, 'bulktext_send_rate_per_second')).toBe(3);
    // Failures are not sends.
    m.onEvent({ type: 'outcome', row: 99, status: 'failed', parts: 1, code: '40310' });
    expect(await seriesValue(registry, 'bulktext_send_rate_per_second')).toBe(3);
    now += 60_000;
    expect(await seriesValue(registry, 'bulktext_send_rate_per_second')).toBe(0);
  });

  it('keeps each registry separate (no global registry)', async () => {
    const r1 = createMetricsRegistry();
    const r2 = createMetricsRegistry();
    createRunMetrics(r1).onEvent({ type: 'outcome', row: 1, status: 'sent', parts: 1, code: null });
    createRunMetrics(r2);
    expect(await seriesValue(r1, 'bulktext_messages_total', { outcome: 'sent' })).toBe(1);
    expect(await seriesValue(r2, 'bulktext_messages_total', { outcome: 'sent' })).toBe(0);
  });
});
