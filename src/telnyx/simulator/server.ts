/**
 * The simulator's HTTP face: Telnyx's /v2 message endpoints plus an inspection API under /__sim.
 * Built for load: keep-alive, headers as flat arrays, one JSON.parse and one JSON.stringify per
 * request, no scans (every lookup is a Map), and webhooks off the request path.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError, isAppError } from '../../shared/errors.js';
import { sendPaths, type SendKind, type TelnyxErrorObject } from '../wire.js';
import { SimulatorEngine, type SimulatorStats, type StatsQuery } from './engine.js';
import { parseConfigPatch, parseSimulatorOptions, type SimulatorConfigPatch, type SimulatorOptions } from './options.js';
import type { OutboundMessagePayload } from './render.js';
import { resolveScenario } from './scenario.js';
import type { SimRecord } from './store.js';
import { telnyxError } from './telnyx-errors.js';
import type { SendEndpoint } from './validate.js';
import type { ReceiptSink, WebhookDelivery } from './webhooks.js';

/** What both the in-process and the worker simulator offer. */
export interface SimulatorHandle {
  /** Base URL of the API, ending in /v2: give it to bulktext or the SDK as TELNYX_BASE_URL. */
  readonly url: string;
  /** The server origin (`http://127.0.0.1:port`); the inspection API lives under `${origin}/__sim`. */
  readonly origin: string;
  readonly port: number;
  /** Webhook signing key: base64 of the 32 raw Ed25519 public-key bytes, as Telnyx publishes it. */
  readonly publicKey: string;
  /** Counters; see GET /__sim/stats. */
  stats(query?: StatsQuery): Promise<SimulatorStats>;
  /** Forgets messages, counters, queues and pending webhooks; keeps the configuration. */
  reset(): Promise<void>;
  /** Changes options at run time (faults, outcomes, rates, limits…): given keys replace current ones. */
  configure(patch: SimulatorConfigPatch): Promise<void>;
  close(): Promise<void>;
}

/** The in-process simulator: the handle plus direct accessors for tests. */
export interface InProcessSimulator extends SimulatorHandle {
  readonly messages: {
    /** Every accepted message as GET /v2/messages/{id} would show it now. */
    all(): OutboundMessagePayload[];
    /** Accepted messages to `to` (group MMS included), oldest first. */
    byRecipient(to: string): OutboundMessagePayload[];
    get(id: string): OutboundMessagePayload | undefined;
    count(): number;
  };
  /** Accept times, epoch ms with sub-ms precision (a copy). */
  acceptedTimestamps(): Float64Array;
  webhookDeliveries(): WebhookDelivery[];
  /** Resolves when no webhook is scheduled or in flight. */
  webhooksIdle(): Promise<void>;
  /** The engine itself, for tests that need more than the accessors. */
  readonly engine: SimulatorEngine;
}

const JSON_TYPE = 'application/json';
const MAX_BODY = 1024 * 1024;
const KEEP_ALIVE_MS = 65_000;
const RETRIEVE_DAYS = 10;

/** The client's send paths (wire.ts), so the two cannot drift apart, plus scheduling. */
const sendRoutes: ReadonlyMap<string, SendEndpoint> = new Map<string, SendEndpoint>([
  ...Object.entries(sendPaths).map(([kind, path]) => [`/v2${path}`, kind as SendKind] as const),
  ['/v2/messages/schedule', 'schedule'],
]);

function gatewayPage(status: 502 | 504): string {
  const title = status === 502 ? '502 Bad Gateway' : '504 Gateway Time-out';
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`;
}
const BAD_GATEWAY_PAGE = gatewayPage(502);
const GATEWAY_TIMEOUT_PAGE = gatewayPage(504);

function write(res: ServerResponse, status: number, body: string, type: string, extra?: Record<string, string>): void {
  const headers: string[] = ['content-type', type, 'content-length', String(Buffer.byteLength(body))];
  if (extra !== undefined) for (const key in extra) headers.push(key, extra[key]!);
  res.writeHead(status, headers);
  res.end(body);
}

function writeJson(res: ServerResponse, status: number, value: unknown, extra?: Record<string, string>): void {
  write(res, status, JSON.stringify(value), JSON_TYPE, extra);
}

function writeError(res: ServerResponse, status: number, error: TelnyxErrorObject, extra?: Record<string, string>): void {
  writeJson(res, status, { errors: [error] }, extra);
}

/** Reads the whole body as text; `undefined` when it is over MAX_BODY. */
function readBody(req: IncomingMessage, done: (body: string | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > MAX_BODY) done(undefined);
    else done(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
  });
}

/**
 * Starts the simulator in this thread. With `receipts`, every delivery receipt goes to that function
 * and none is posted (see ReceiptSink).
 * @throws AppError ERR_USAGE for invalid options or an unreadable scenario file
 */
export async function startSimulator(options: SimulatorOptions = {}, receipts?: ReceiptSink): Promise<InProcessSimulator> {
  const resolved = await resolveScenario(parseSimulatorOptions(options));
  const engine = new SimulatorEngine(resolved, receipts);
  const apiKey = resolved.apiKey;
  const hung = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();

  function api(req: IncomingMessage, res: ServerResponse, path: string): void {
    // The gateway counts every request against the limit, authenticated or not.
    const { headers, limited } = engine.countRequest(Date.now());
    if (limited) {
      req.resume();
      writeError(res, 429, telnyxError('10011', 'The API request rate limit was exceeded.'), headers);
      return;
    }
    const auth = req.headers.authorization;
    const token = auth !== undefined && auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
    if (token === '' || (apiKey !== undefined && token !== apiKey)) {
      engine.countRejection('10009');
      req.resume();
      writeError(
        res,
        401,
        telnyxError('10009', 'The API key is missing or invalid. Send it as Authorization: Bearer <key>.'),
        headers,
      );
      return;
    }
    const method = req.method;
    if (method === 'POST') {
      const endpoint = sendRoutes.get(path);
      if (endpoint !== undefined) {
        readBody(req, (text) => onSendBody(res, endpoint, text, headers));
        return;
      }
    }
    req.resume();
    if ((method === 'GET' || method === 'DELETE') && path.startsWith('/v2/messages/')) {
      const id = path.slice('/v2/messages/'.length);
      if (id !== '' && !id.includes('/')) {
        if (method === 'GET') getMessage(res, decodeURIComponent(id), headers);
        else cancelMessage(res, decodeURIComponent(id), headers);
        return;
      }
    }
    writeError(res, 404, telnyxError('10005', `No route for ${method} ${path}.`), headers);
  }

  function onSendBody(res: ServerResponse, endpoint: SendEndpoint, text: string | undefined, headers: Record<string, string> | undefined): void {
    if (text === undefined) {
      writeError(res, 413, telnyxError('10015', 'The request body is larger than 1 MB.', '/'), headers);
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      engine.countRejection('10015');
      writeError(res, 400, telnyxError('10015', 'The request body is not valid JSON.', '/'), headers);
      return;
    }
    const to = (body as { to?: unknown } | null)?.to;
    const faultKey = typeof to === 'string' ? to : Array.isArray(to) && typeof to[0] === 'string' ? to[0] : undefined;
    const fault = engine.decideFault(faultKey);
    switch (fault) {
      case undefined:
        processSend(res, endpoint, body, headers);
        return;
      case 'server_error':
        engine.countRejection('10007');
        writeError(res, 500, telnyxError('10007', 'An unexpected error occurred.'), headers);
        return;
      case 'service_unavailable':
        engine.countRejection('10037');
        writeError(res, 503, telnyxError('10037', 'The service is temporarily unavailable.'), headers);
        return;
      case 'bad_gateway':
        write(res, 502, BAD_GATEWAY_PAGE, 'text/html');
        return;
      case 'gateway_timeout':
        write(res, 504, GATEWAY_TIMEOUT_PAGE, 'text/html');
        return;
      case 'rate_limited': {
        engine.countRejection('10011');
        const limit = engine.config.apiLimit?.requests ?? 1;
        writeError(res, 429, telnyxError('10011', 'The API request rate limit was exceeded.'), {
          ...headers,
          'x-ratelimit-limit': String(limit),
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': '1',
          'retry-after': '1',
        });
        return;
      }
      case 'queue_full':
        engine.countRejection('40318');
        writeError(res, 429, telnyxError('40318', 'The sender queue is full.'), headers);
        return;
      case 'latency': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) processSend(res, endpoint, body, headers);
        }, engine.config.latencyMs);
        timers.add(timer);
        return;
      }
      case 'hang':
        hold(res);
        return;
      case 'accept_then_reset':
      case 'accept_then_hang':
      case 'accept_then_bad_gateway': {
        const result = engine.send(endpoint, body);
        if (!result.ok) {
          // Nothing was accepted, so there is nothing in doubt: answer the refusal as usual.
          writeError(res, result.status, result.error, headers);
        } else if (fault === 'accept_then_reset') {
          res.socket?.destroy();
        } else if (fault === 'accept_then_hang') {
          hold(res);
        } else {
          write(res, 502, BAD_GATEWAY_PAGE, 'text/html');
        }
        return;
      }
    }
  }

  function hold(res: ServerResponse): void {
    hung.add(res);
    res.on('close', () => hung.delete(res));
  }

  function processSend(res: ServerResponse, endpoint: SendEndpoint, body: unknown, headers: Record<string, string> | undefined): void {
    const result = engine.send(endpoint, body);
    if (result.ok) writeJson(res, 200, { data: engine.render(result.record, result.record.receivedAt, true) }, headers);
    else writeError(res, result.status, result.error, headers);
  }

  function getMessage(res: ServerResponse, id: string, headers: Record<string, string> | undefined): void {
    const record = engine.get(id);
    // Like Telnyx, retrieve only finds messages younger than 10 days.
    if (record === undefined || Date.now() - record.receivedAt > RETRIEVE_DAYS * 86_400_000) {
      writeError(res, 404, telnyxError('10005', `No message with id ${id} in the last ${RETRIEVE_DAYS} days.`), headers);
      return;
    }
    writeJson(res, 200, { data: engine.render(record) }, headers);
  }

  function cancelMessage(res: ServerResponse, id: string, headers: Record<string, string> | undefined): void {
    const result = engine.cancel(id);
    if (result.ok) {
      // The spec answers a cancel with the message itself, not wrapped in `data` (the SDK agrees).
      writeJson(res, 200, engine.render(result.record), headers);
      return;
    }
    // The spec gives DELETE's 403/404 a bare messaging_Error body while every other error is
    // {"errors":[…]}; this body is both, so a client written for either reads it.
    writeJson(res, result.status, { ...result.error, errors: [result.error] }, headers);
  }

  function inspect(req: IncomingMessage, res: ServerResponse, path: string, query: string): void {
    const method = req.method;
    if (method === 'GET' && path === '/__sim/stats') {
      req.resume();
      const q = new URLSearchParams(query);
      writeJson(res, 200, engine.stats({ recipients: q.get('recipients') !== '0', timestamps: q.get('timestamps') !== '0' }));
      return;
    }
    if (method === 'GET' && path === '/__sim/messages') {
      req.resume();
      const q = new URLSearchParams(query);
      const to = q.get('to');
      const limit = Number(q.get('limit') ?? Infinity);
      const now = Date.now();
      const data: OutboundMessagePayload[] = [];
      const records = to === null ? engine.store.all() : engine.store.byRecipient(to);
      for (const record of records) {
        if (data.length >= limit) break;
        data.push(engine.render(record, now));
      }
      writeJson(res, 200, { data });
      return;
    }
    if (method === 'GET' && path === '/__sim/webhooks') {
      req.resume();
      writeJson(res, 200, { data: engine.webhooks.deliveries(), counts: engine.webhooks.counts() });
      return;
    }
    if (method === 'POST' && path === '/__sim/reset') {
      req.resume();
      engine.reset();
      writeJson(res, 200, { ok: true });
      return;
    }
    if (method === 'POST' && path === '/__sim/config') {
      readBody(req, (text) => {
        try {
          const patch = parseConfigPatch(JSON.parse(text ?? ''));
          engine.configure(patch);
          writeJson(res, 200, { ok: true, config: engine.config.source });
        } catch (err) {
          const detail = isAppError(err) ? err.message : `invalid JSON: ${(err as Error).message}`;
          writeJson(res, 400, { ok: false, error: detail });
        }
      });
      return;
    }
    req.resume();
    writeJson(res, 404, { ok: false, error: `No inspection route ${method} ${path}.` });
  }

  const server = http.createServer({ keepAliveTimeout: KEEP_ALIVE_MS }, (req, res) => {
    req.on('error', () => res.destroy());
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path.startsWith('/v2/')) api(req, res, path);
    else if (path.startsWith('/__sim/')) inspect(req, res, path, q === -1 ? '' : url.slice(q + 1));
    else {
      req.resume();
      writeError(res, 404, telnyxError('10005', `The API lives under /v2; no route for ${path}.`));
    }
  });
  // A hung request must stay hung until the client gives up, not until Node's 5-minute default.
  server.requestTimeout = 0;
  server.on('clientError', (_err, socket) => socket.destroy());

  const host = resolved.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: resolved.port ?? 0, host, backlog: 1024 }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (err: unknown) => {
    await engine.close();
    throw new AppError('ERR_USAGE', `the simulator cannot listen on ${host}:${resolved.port ?? 0}: ${(err as Error).message}`, { cause: err });
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  const render = (records: Iterable<SimRecord>): OutboundMessagePayload[] => {
    const now = Date.now();
    return Array.from(records, (record) => engine.render(record, now));
  };

  return {
    url: `${origin}/v2`,
    origin,
    port,
    publicKey: engine.publicKey,
    engine,
    messages: {
      all: () => render(engine.store.all()),
      byRecipient: (to) => render(engine.store.byRecipient(to)),
      get: (id) => {
        const record = engine.get(id);
        return record === undefined ? undefined : engine.render(record);
      },
      count: () => engine.store.count,
    },
    acceptedTimestamps: () => engine.store.acceptedTimestamps(),
    webhookDeliveries: () => engine.webhooks.deliveries(),
    webhooksIdle: () => engine.webhooks.idle(),
    stats: async (query) => engine.stats(query),
    reset: async () => engine.reset(),
    configure: async (patch) => engine.configure(parseConfigPatch(patch)),
    close: () => {
      closing ??= (async () => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        for (const res of hung) res.destroy();
        await Promise.all([closed, engine.close()]);
      })();
      return closing;
    },
  };
}
