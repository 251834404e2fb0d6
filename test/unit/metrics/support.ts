import type { Registry } from 'prom-client';

/** The value of one series, or undefined when the registry does not have it. */
export async function seriesValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const hit = metric?.values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want) && Object.keys(v.labels).length === Object.keys(labels).length);
  return hit?.value;
}

/** Every series of a metric as "label=value,…" → value. */
export async function series(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const out: Record<string, number> = {};
  for (const v of metric?.values ?? []) {
    const key = Object.entries(v.labels).map(([k, l]) => `${k}=${l}`).join(',');
    out[key] = v.value;
  }
  return out;
}
