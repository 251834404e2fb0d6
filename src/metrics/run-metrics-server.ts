/**
 * Everything `run --metrics-port` (and `resume --metrics-port`) needs in one call: a registry with
 * the send metrics and the ledger gauges, served on 127.0.0.1.
 */
import type { Ledger } from '../ledger/ledger.js';
import { createLedgerMetrics } from './ledger-metrics.js';
import { createMetricsRegistry, type MetricsRegistry } from './registry.js';
import { createRunMetrics, type RunMetrics } from './run-metrics.js';
import { startMetricsServer } from './server.js';

export interface RunMetricsServer extends RunMetrics {
  readonly url: string;
  readonly registry: MetricsRegistry;
  close(): Promise<void>;
}

export async function startRunMetricsServer(options: { port: number; host?: string; ledger: Ledger }): Promise<RunMetricsServer> {
  const registry = createMetricsRegistry();
  const metrics = createRunMetrics(registry);
  createLedgerMetrics(registry, options.ledger);
  const server = await startMetricsServer({
    port: options.port,
    ...(options.host === undefined ? {} : { host: options.host }),
    registry,
    // A single run has no loop of its own to watch: it is healthy while its ledger is open.
    // No file paths: /healthz may be reachable by more people than the ledger should be known to.
    health: () => ({ ok: options.ledger.isOpen, detail: { ledger: options.ledger.isOpen ? 'open' : 'closed' } }),
  });
  return {
    url: server.url,
    registry,
    onEvent: (e) => metrics.onEvent(e),
    attach: (s) => metrics.attach(s),
    close: () => server.close(),
  };
}
