/**
 * The metrics endpoint: `GET /metrics` (Prometheus text format from the given registry) and
 * `GET /healthz` (200 with JSON when healthy, 503 otherwise), on 127.0.0.1 unless told otherwise.
 */
import http from 'node:http';
import type { Registry } from 'prom-client';
import { listen } from '../shared/http-listen.js';

export interface Health {
  ok: boolean;
  detail: Record<string, unknown>;
}

export interface MetricsServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** @default "127.0.0.1" — metrics are not for the whole network unless the operator says so */
  host?: string;
  registry: Registry;
  health: () => Health;
}

export interface MetricsServer {
  /** `http://host:port` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(head ? undefined : body);
}

/** @throws AppError ERR_USAGE when the port cannot be listened on */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const server = http.createServer((req, res) => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', false);
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => send(res, 200, options.registry.contentType, text, head),
        (err: unknown) => send(res, 500, 'text/plain; charset=utf-8', `collecting metrics failed: ${(err as Error).message}\n`, head),
      );
      return;
    }
    if (path === '/healthz') {
      let health: Health;
      try {
        health = options.health();
      } catch (err) {
        health = { ok: false, detail: { error: (err as Error).message } };
      }
      send(res, health.ok ? 200 : 503, 'application/json', `${JSON.stringify({ ok: health.ok, ...health.detail })}\n`, head);
      return;
    }
    send(res, 404, 'text/plain; charset=utf-8', 'not found: try /metrics or /healthz\n', head);
  });
  return listen(server, options.port, host, 'metrics');
}
