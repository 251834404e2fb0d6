/** The daemon's metrics and health, scraped over HTTP on 127.0.0.1 while it runs scheduled jobs. */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLedgerMetrics } from '../../src/metrics/ledger-metrics.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';
import { createRunMetrics } from '../../src/metrics/run-metrics.js';
import { createSchedulerMetrics } from '../../src/metrics/scheduler-metrics.js';
import { startMetricsServer, type MetricsServer } from '../../src/metrics/server.js';
import { logSink, useSchedulerEnv, waitFor, writeJob } from './scheduler-support.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';
import { runStoreOf } from '../../src/ledger/run-store.js';

const env = useSchedulerEnv(9);
let server: MetricsServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** One sample's value from the text format: `name{labels} value`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('scheduler metrics over HTTP', () => {
  it('serves send, run, slot and schedule series, and /healthz', async () => {
    writeJob(env, 'metered', { cron: '*/1 * * * * *', rows: 3 });
    writeJob(env, 'yearly', { cron: '0 0 1 1 *', base: 5000 });
    const registry = createMetricsRegistry();
    const { ledger, store } = env;
    const daemon = await env.daemon(logSink(), { ledger, metrics: createRunMetrics(registry), heartbeatMs: 100 });
    createLedgerMetrics(registry, ledger);
    createSchedulerMetrics(registry, daemon);
    server = await startMetricsServer({ port: 0, registry, health: () => daemon.health() });

    const slot = await waitFor('a run', () => store.slots('metered').find((s) => s.runId !== null));
    await waitFor('it to complete', () => runStoreOf(ledger).getRun(slot.runId!).state === 'completed');

    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ ok: true, daemon_id: daemon.daemonId, jobs: 2, ledger: { writable: true }, loop: { alive: true } });
    // /healthz names no file: the ledger's path is not for whoever can reach the port.
    expect(JSON.stringify(body)).not.toContain(path.basename(ledger.path));
    const live = await (await fetch(`${server.url}/metrics`)).text();
    expect(sample(live, 'bulktext_scheduler_healthy')).toBe(1);
    expect(sample(live, 'bulktext_schedule_job_running{job="yearly"}')).toBe(0);
    const nextMetered = sample(live, 'bulktext_schedule_next_firing_timestamp_seconds{job="metered"}')!;
    expect(nextMetered - Date.now() / 1000).toBeGreaterThan(-0.5);
    expect(nextMetered - Date.now() / 1000).toBeLessThanOrEqual(1.1);

    // After the stop every run has settled, so the counters must match the ledger exactly.
    await daemon.stop();
    const after = await fetch(`${server.url}/healthz`);
    expect(after.status).toBe(503);
    expect(await after.json()).toMatchObject({ ok: false, stopping: true });

    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const runs = runStoreOf(ledger).listRuns();
    const sentInLedger = runs.reduce((n, r) => n + messageStoreOf(ledger).counts(r.rid).sent, 0);
    expect(sentInLedger).toBeGreaterThanOrEqual(3);
    expect(sentInLedger).toBe(env.sim.messages.count());
    expect(sample(text, 'bulktext_messages_total{outcome="sent"}')).toBe(sentInLedger);
    expect(sample(text, 'bulktext_attempts_total{classification="accepted"}')).toBe(sentInLedger);
    expect(sample(text, 'bulktext_messages_total{outcome="failed"}')).toBe(0);
    expect(sample(text, 'bulktext_requests_in_flight')).toBe(0);
    const completed = runs.filter((r) => r.state === 'completed').length;
    expect(sample(text, 'bulktext_runs{state="completed"}')).toBe(completed);
    expect(sample(text, 'bulktext_schedule_slots{job="metered",state="started"}')).toBe(store.slots('metered').filter((s) => s.state === 'started').length);
    const lastOk = sample(text, 'bulktext_last_successful_run_timestamp_seconds{job="metered"}')!;
    expect(lastOk).toBe(Math.max(...runs.filter((r) => r.state === 'completed').map((r) => r.finishedAt!)) / 1000);
    const nextYearly = sample(text, 'bulktext_schedule_next_firing_timestamp_seconds{job="yearly"}')!;
    expect(new Date(nextYearly * 1000).toISOString()).toMatch(/^\d{4}-01-01T00:00:00\.000Z$/);
    expect(sample(text, 'bulktext_scheduler_healthy')).toBe(0);
  });

  it('reports unhealthy when the ledger stops taking writes', async () => {
    writeJob(env, 'yearly', { cron: '0 0 1 1 *' });
    const { ledger } = env;
    const log = logSink();
    const d = await env.daemon(log, { ledger, heartbeatMs: 50 });
    server = await startMetricsServer({ port: 0, registry: createMetricsRegistry(), health: () => d.health() });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    // Pull the ledger out from under the daemon: its next heartbeat write fails.
    ledger.close();
    await waitFor('the health check to notice', () => !d.health().ok, 5000);
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ok: false, ledger: { writable: false, error: expect.stringMatching(/heartbeat write failed/) } });
    expect(log.text()).toMatch(/error ledger: heartbeat write failed/);
  });
});
