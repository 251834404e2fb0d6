/**
 * The webhook receiver: a node:http server that takes Telnyx messaging webhooks and writes what they say
 * into the ledger.
 *
 * The request path does no network I/O and nothing slow: read a bounded body, verify the Ed25519
 * signature over the raw bytes (before parsing or writing anything), parse with zod, then store and apply
 * in one synchronous SQLite transaction, and answer. Telnyx allows 2 s; this takes milliseconds (one
 * fsync). Any failure to store answers 500, so Telnyx delivers again and nothing is lost.
 *
 * A timer re-applies events that could not be applied when they came (their row was still in flight, or
 * later became `unknown`): see `retryWaitingEvents`.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliveryStoreFor, type DeliveryStore } from '../ledger/delivery-store.js';
import type { Ledger } from '../ledger/ledger.js';
import { AppError } from '../shared/errors.js';
import {
  parseWebhookBody,
  receiveEvent,
  retryWaitingEvents,
  type EventOutcome,
  type IncomingEvent,
  type ReceiveResult,
  type RetriedEvent,
} from './apply-event.js';
import { parsePublicKey, verifyWebhook } from './verify.js';

export interface WebhookReceiverOptions {
  ledger: Ledger;
  /** Telnyx's webhook public key: base64 of the 32 raw Ed25519 bytes. */
  publicKey: string;
  /** @default 0 (any free port) */
  port?: number;
  /** @default "127.0.0.1" (put a reverse proxy or tunnel in front to expose it) */
  host?: string;
  /** The one path that accepts events. @default "/telnyx" */
  path?: string;
  /** Bodies larger than this get 413. @default 262144 (256 KiB) */
  maxBodyBytes?: number;
  /** Wall clock in ms (signature age, received_at). @default Date.now */
  now?: () => number;
  /** How often waiting events are re-applied; 0 turns it off. @default 2000 */
  retryIntervalMs?: number;
  /** Told about every request, for logging. Must not throw. */
  onLog?: (entry: ReceiverLog) => void;
  /**
   * Commit each event with an fsync before answering 2xx (Telnyx does not send an acknowledged event
   * again). Only the sandbox turns it off: its receipts are the simulator's, not Telnyx's records, and an
   * fsync per event (two per message) held a sandbox run to the disk's fsync rate. @default true
   */
  durable?: boolean;
}

export type ReceiverLog =
  | { type: 'event'; eventId: string; eventType: string; duplicate: boolean; outcome: EventOutcome | undefined }
  | { type: 'retried'; eventId: string; eventType: string; outcome: EventOutcome }
  | { type: 'rejected'; status: number; reason: string; remote: string | undefined }
  | { type: 'error'; detail: string };

export interface WebhookReceiver {
  /** The address and port actually bound, as `host:port` (`0.0.0.0:8080`, `[::]:8080`): what a banner shows. */
  readonly listening: string;
  /** Where to point Telnyx (or the simulator): `http://host:port/path`. */
  readonly url: string;
  readonly port: number;
  /** Re-applies waiting events now (the timer does this too). */
  retryWaiting(): number;
  close(): Promise<void>;
}

export const defaultMaxBodyBytes = 256 * 1024;

/** The log entry of an event stored (or found stored already). */
export function eventLog(event: IncomingEvent, result: ReceiveResult): ReceiverLog {
  return { type: 'event', eventId: event.eventId, eventType: event.eventType, duplicate: result.duplicate, outcome: result.duplicate ? undefined : result.outcome };
}

/**
 * Re-applies waiting events every `intervalMs` (0: only when `retryWaiting` is called), logging each
 * one applied. `pass` runs each pass (all of its events' transactions) and returns what it returns: the
 * receipt intake makes it one transaction without an fsync. @default intervalMs 2000
 */
export function retryWaitingOften(
  store: DeliveryStore,
  now: () => number,
  log: (entry: ReceiverLog) => void,
  intervalMs = 2000,
  pass: (retry: () => RetriedEvent[]) => RetriedEvent[] = (retry) => retry(),
): { retryWaiting: () => number; stop: () => void } {
  function retryWaiting(): number {
    let retried: RetriedEvent[];
    try {
      retried = pass(() => retryWaitingEvents(store, now()));
    } catch (err) {
      log({ type: 'error', detail: `re-applying waiting events failed: ${(err as Error).message}` });
      return 0;
    }
    for (const r of retried) log({ type: 'retried', eventId: r.eventId, eventType: r.eventType, outcome: r.outcome });
    return retried.length;
  }
  const timer = intervalMs > 0 ? setInterval(retryWaiting, intervalMs) : undefined;
  timer?.unref();
  return { retryWaiting, stop: () => clearInterval(timer) };
}

function send(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...extra });
  res.end(body);
}

/**
 * Starts the receiver. The ledger stays the caller's: `close()` stops the server, not the ledger.
 * @throws AppError ERR_WEBHOOK_KEY for a key that is not 32 base64 bytes; ERR_USAGE if it cannot listen
 */
export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const key = parsePublicKey(options.publicKey);
  const store = deliveryStoreFor(options.ledger);
  const route = options.path ?? '/telnyx';
  const maxBody = options.maxBodyBytes ?? defaultMaxBodyBytes;
  const now = options.now ?? Date.now;
  const log = options.onLog ?? (() => {});
  const host = options.host ?? '127.0.0.1';

  function reject(req: IncomingMessage, res: ServerResponse, status: number, reason: string, extra?: Record<string, string>): void {
    log({ type: 'rejected', status, reason, remote: req.socket.remoteAddress });
    send(res, status, JSON.stringify({ error: reason }), extra);
  }

  function onBody(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const verdict = verifyWebhook(
      key,
      { timestamp: req.headers['telnyx-timestamp'], signature: req.headers['telnyx-signature-ed25519'] },
      body,
      now(),
    );
    if (!verdict.ok) {
      reject(req, res, verdict.reason === 'missing' ? 401 : 403, verdict.detail);
      return;
    }
    const raw = body.toString('utf8');
    const parsed = parseWebhookBody(raw);
    if (!parsed.ok) {
      reject(req, res, 400, parsed.detail);
      return;
    }
    let result: ReceiveResult;
    try {
      const event = parsed.event;
      result = options.durable === false ? options.ledger.withoutFsync(() => receiveEvent(store, event, raw, now())) : receiveEvent(store, event, raw, now());
    } catch (err) {
      // Not stored: a 5xx makes Telnyx deliver it again.
      log({ type: 'error', detail: `cannot store event ${parsed.event.eventId}: ${(err as Error).message}` });
      send(res, 500, JSON.stringify({ error: 'event not stored; retry' }));
      return;
    }
    send(res, 200, '{"ok":true}');
    log(eventLog(parsed.event, result));
  }

  const server = http.createServer((req, res) => {
    req.on('error', () => res.destroy());
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path !== route) {
      req.resume();
      reject(req, res, 404, `no route ${path}`);
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      reject(req, res, 405, `method ${req.method ?? '?'} not allowed`, { allow: 'POST' });
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBody) {
      // Close rather than drain: the sender said it will send more than we will read.
      reject(req, res, 413, `body over ${maxBody} bytes`, { connection: 'close' });
      res.on('finish', () => req.destroy());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > maxBody) {
        over = true;
        chunks.length = 0;
        reject(req, res, 413, `body over ${maxBody} bytes`, { connection: 'close' });
        res.on('finish', () => req.destroy());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) onBody(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
  });
  // Slow or stalled senders must not hold sockets: Telnyx sends a few KB and expects an answer in 2 s.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    throw new AppError('ERR_USAGE', `the webhook receiver cannot listen on ${host}:${options.port ?? 0}: ${(err as Error).message}`, { cause: err });
  });

  const { retryWaiting, stop } = retryWaitingOften(store, now, log, options.retryIntervalMs);

  const { port, address: bound } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  let closing: Promise<void> | undefined;
  return {
    listening: `${bound.includes(':') ? `[${bound}]` : bound}:${port}`,
    url: `http://${shownHost}:${port}${route}`,
    port,
    retryWaiting,
    close: () => {
      closing ??= (async () => {
        stop();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        // Requests in flight finish (each is one synchronous transaction); then the rest are cut.
        setTimeout(() => server.closeAllConnections(), 1000).unref();
        await closed;
      })();
      return closing;
    },
  };
}
