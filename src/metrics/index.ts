/** Prometheus metrics (prom-client) and the /metrics + /healthz endpoint, for the scheduler and `run`. */
export { createMetricsRegistry, type MetricsRegistry } from './registry.js';
export {
  attemptClassifications,
  createRunMetrics,
  messageOutcomes,
  type AttemptClassification,
  type MessageOutcome,
  type RateSource,
  type RunMetrics,
  type RunMetricsOptions,
} from './run-metrics.js';
export { createLedgerMetrics } from './ledger-metrics.js';
export { createSchedulerMetrics, type SchedulerMetricsSource } from './scheduler-metrics.js';
export { startMetricsServer, type Health, type MetricsServer, type MetricsServerOptions } from './server.js';
export { startRunMetricsServer, type RunMetricsServer } from './run-metrics-server.js';
