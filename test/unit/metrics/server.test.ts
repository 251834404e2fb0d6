import { afterEach, describe, expect, it } from 'vitest';
import { Counter } from 'prom-client';
import { createMetricsRegistry } from '../../../src/metrics/registry.js';
import { startMetricsServer, type Health, type MetricsServer } from '../../../src/metrics/server.js';
import { isAppError } from '../../../src/shared/errors.js';

const servers: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(health: () => Health) {
  const registry = createMetricsRegistry();
  const counter = new Counter({ name: 'test_things_total', help: 'things', registers: [registry] });
  const server = await startMetricsServer({ port: 0, registry, health });
  servers.push(server);
  return { registry, counter, server };
}

describe('metrics server', () => {
  it('serves /metrics in the Prometheus text format on 127.0.0.1', async () => {
    const { counter, server } = await serve(() => ({ ok: true, detail: {} }));
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    counter.inc(3);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const body = await res.text();
    expect(body).toContain('# TYPE test_things_total counter');
    expect(body).toMatch(/^test_things_total 3$/m);
  });

  it('answers /healthz 200 with the detail when healthy and 503 when not', async () => {
    let health: Health = { ok: true, detail: { jobs: 2, ledger: { writable: true } } };
    const { server } = await serve(() => health);
    const ok = await fetch(`${server.url}/healthz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, jobs: 2, ledger: { writable: true } });
    health = { ok: false, detail: { ledger: { writable: false, error: 'disk I/O error' } } };
    const bad = await fetch(`${server.url}/healthz`);
    expect(bad.status).toBe(503);
    expect(await bad.json()).toEqual({ ok: false, ledger: { writable: false, error: 'disk I/O error' } });
  });

  it('reports a health check that throws as unhealthy', async () => {
    const { server } = await serve(() => {
      throw new Error('ledger is closed');
    });
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ok: false, error: 'ledger is closed' });
  });

  it('answers 404 elsewhere and 405 to other methods', async () => {
    const { server } = await serve(() => ({ ok: true, detail: {} }));
    expect((await fetch(`${server.url}/`)).status).toBe(404);
    const post = await fetch(`${server.url}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('fails with ERR_USAGE naming the port when it is taken', async () => {
    const { server } = await serve(() => ({ ok: true, detail: {} }));
    const port = Number(new URL(server.url).port);
    const err = await startMetricsServer({ port, registry: createMetricsRegistry(), health: () => ({ ok: true, detail: {} }) }).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_USAGE')).toBe(true);
    expect((err as Error).message).toContain(`cannot serve metrics on 127.0.0.1:${port}`);
  });
});
