/**
 * A fresh prom-client registry per daemon or run (never prom-client's global one): metrics belong
 * to the thing that serves them, and tests can build as many as they like without name clashes.
 */
import { Registry } from 'prom-client';

export type MetricsRegistry = Registry;

export function createMetricsRegistry(): MetricsRegistry {
  return new Registry();
}
