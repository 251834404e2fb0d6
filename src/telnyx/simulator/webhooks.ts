/**
 * Delivery receipts: `message.sent` and `message.finalized`, signed with Ed25519 like Telnyx
 * (`telnyx-timestamp`, `telnyx-signature-ed25519` over "{timestamp}|{raw body}"), tried up to
 * `triesPerUrl` times at the message's URL and then at its failover URL.
 *
 * Every event and every retry waits in one min-heap behind one timer, and at most `concurrency`
 * deliveries are in flight, over a bounded undici Agent: the API path only pushes onto the heap,
 * so a slow or dead receiver never slows sends down.
 *
 * With a `sink` (the sandbox's simulator in its worker thread), an event due is handed to the sink as
 * its JSON body instead, whatever URL the message named: nothing is posted anywhere.
 */
import { sign, type KeyObject } from 'node:crypto';
import { Agent, request } from 'undici';
import type { SimConfig } from './config.js';
import { MinHeap } from './heap.js';
import { uuidFrom, type Rng } from './random.js';
import { renderMessage } from './render.js';
import type { SimRecord } from './store.js';

export type WebhookEventType = 'message.sent' | 'message.finalized';

/**
 * Takes an event's body when it is due, in place of an HTTP delivery. The sandbox's receipts came back
 * to the run's own thread as two signed HTTP requests per message, and verifying, answering and
 * committing them one by one cost that thread more than the sends did; a sink lets them cross in batches.
 */
export type ReceiptSink = (body: string) => void;

/** One delivery attempt, as `webhookDeliveries()` reports it. */
export interface WebhookDelivery {
  eventId: string;
  eventType: WebhookEventType;
  messageId: string;
  url: string;
  /** 1-based, counted over both URLs (meta.attempt of the envelope). */
  attempt: number;
  /** HTTP status of the receiver's answer; absent when it did not answer. */
  status: number | undefined;
  /** The socket or timeout error when the receiver did not answer. */
  error: string | undefined;
  ok: boolean;
  /** A second delivery of an event already scheduled (duplicateProbability). */
  duplicate: boolean;
  /** Epoch ms when the attempt finished. */
  at: number;
}

interface Pending {
  due: number;
  generation: number;
  record: SimRecord;
  eventType: WebhookEventType;
  eventId: string;
  /** When the event happened: the payload shows the message as it was then. */
  occurredAt: number;
  urls: readonly string[];
  tryIndex: number;
  duplicate: boolean;
}

/** Most recent attempts kept for inspection; older ones are dropped (counters keep totals). */
const LOG_LIMIT = 100_000;
/** setTimeout's ceiling; a later event re-arms the timer when it fires. */
const MAX_TIMER_MS = 0x7fff_ffff;

export interface WebhookCounts {
  scheduled: number;
  pending: number;
  inFlight: number;
  attempts: number;
  delivered: number;
  failedAttempts: number;
  abandoned: number;
}

export class WebhookDispatcher {
  readonly #privateKey: KeyObject;
  readonly #config: () => SimConfig;
  readonly #rng: Rng;
  readonly #organizationId: string;
  readonly #heap = new MinHeap<Pending>();
  readonly #ready: Pending[] = [];
  #readyHead = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerDue = Infinity;
  #inFlight = 0;
  #generation = 0;
  #closed = false;
  readonly #abort = new AbortController();
  readonly #agent = new Agent({ connections: 64, keepAliveTimeout: 10_000, pipelining: 1 });
  #log: WebhookDelivery[] = [];
  #counts = { scheduled: 0, attempts: 0, delivered: 0, failedAttempts: 0, abandoned: 0 };
  #idleWaiters: Array<() => void> = [];
  readonly #sink: ReceiptSink | undefined;

  constructor(options: { privateKey: KeyObject; config: () => SimConfig; rng: Rng; organizationId: string; sink?: ReceiptSink | undefined }) {
    this.#privateKey = options.privateKey;
    this.#config = options.config;
    this.#rng = options.rng;
    this.#organizationId = options.organizationId;
    this.#sink = options.sink;
  }

  /** Schedules the two events of an accepted message, if it has somewhere to send them. */
  schedule(record: SimRecord, primaryUrl: string | undefined, failoverUrl: string | undefined): void {
    const config = this.#config();
    const w = config.webhooks;
    if (!w.enabled || this.#closed) return;
    const urls = [primaryUrl, failoverUrl].filter((u): u is string => u !== undefined);
    if (urls.length === 0 && this.#sink === undefined) return;
    let sentDue = record.sentAt + w.delayMs;
    let finalDue = record.finalAt + w.delayMs;
    if (w.outOfOrderProbability > 0 && this.#flip(w.outOfOrderProbability)) {
      // Finalized first, sent a moment later: receivers must not assume order.
      [sentDue, finalDue] = [finalDue + 1, sentDue];
    }
    this.#enqueue(record, 'message.sent', sentDue, record.sentAt, urls, w.duplicateProbability);
    this.#enqueue(record, 'message.finalized', finalDue, record.finalAt, urls, w.duplicateProbability);
  }

  deliveries(): WebhookDelivery[] {
    return [...this.#log];
  }

  counts(): WebhookCounts {
    return {
      ...this.#counts,
      pending: this.#heap.size + (this.#ready.length - this.#readyHead),
      inFlight: this.#inFlight,
    };
  }

  /** Resolves when nothing is scheduled or in flight (for tests and orderly shutdown). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Drops everything scheduled; attempts in flight finish but schedule no retries. */
  clear(): void {
    this.#generation++;
    this.#heap.clear();
    this.#ready.length = 0;
    this.#readyHead = 0;
    this.#log = [];
    this.#counts = { scheduled: 0, attempts: 0, delivered: 0, failedAttempts: 0, abandoned: 0 };
    this.#disarm();
    this.#notifyIdle();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.clear();
    this.#abort.abort();
    await this.#agent.destroy();
  }

  #flip(p: number): boolean {
    return this.#rng() / 0x1_0000_0000 < p;
  }

  #enqueue(
    record: SimRecord,
    eventType: WebhookEventType,
    due: number,
    occurredAt: number,
    urls: readonly string[],
    duplicateProbability: number,
  ): void {
    const eventId = uuidFrom(this.#rng);
    const item: Pending = { due, generation: this.#generation, record, eventType, eventId, occurredAt, urls, tryIndex: 0, duplicate: false };
    this.#push(item);
    this.#counts.scheduled++;
    if (duplicateProbability > 0 && this.#flip(duplicateProbability)) {
      this.#push({ ...item, due: due + 25, duplicate: true });
      this.#counts.scheduled++;
    }
  }

  #push(item: Pending): void {
    this.#heap.push(item);
    if (item.due < this.#timerDue) this.#arm();
  }

  #arm(): void {
    const next = this.#heap.peek();
    this.#disarm();
    if (next === undefined || this.#closed) return;
    this.#timerDue = next.due;
    this.#timer = setTimeout(() => this.#fire(), Math.min(MAX_TIMER_MS, Math.max(0, next.due - Date.now())));
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = Infinity;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerDue = Infinity;
    const now = Date.now();
    for (let top = this.#heap.peek(); top !== undefined && top.due <= now; top = this.#heap.peek()) {
      const item = this.#heap.pop()!;
      // A message cancelled before it was sent has no receipts.
      if (item.record.cancelledAt === undefined) this.#ready.push(item);
    }
    this.#pump();
    this.#arm();
    this.#notifyIdle();
  }

  #pump(): void {
    if (this.#sink !== undefined) {
      this.#handToSink(this.#sink);
      return;
    }
    const limit = this.#config().webhooks.concurrency;
    while (this.#inFlight < limit && this.#readyHead < this.#ready.length) {
      const item = this.#ready[this.#readyHead]!;
      this.#ready[this.#readyHead++] = undefined as unknown as Pending;
      if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
        this.#ready.splice(0, this.#readyHead);
        this.#readyHead = 0;
      }
      this.#inFlight++;
      void this.#attempt(item).finally(() => {
        this.#inFlight--;
        this.#pump();
        this.#notifyIdle();
      });
    }
  }

  /** Every event due, to the sink at once: a hand-over cannot fail, so there is nothing to retry. */
  #handToSink(sink: ReceiptSink): void {
    for (; this.#readyHead < this.#ready.length; this.#readyHead++) {
      const item = this.#ready[this.#readyHead]!;
      sink(this.#body(item, 'sandbox', 1));
      this.#counts.attempts++;
      this.#counts.delivered++;
    }
    this.#ready.length = 0;
    this.#readyHead = 0;
  }

  #body(item: Pending, url: string, attempt: number): string {
    const envelope = {
      data: {
        event_type: item.eventType,
        id: item.eventId,
        occurred_at: new Date(item.occurredAt).toISOString(),
        payload: renderMessage(item.record, this.#organizationId, item.occurredAt),
        record_type: 'event',
      },
      meta: { attempt, delivered_to: url },
    };
    return JSON.stringify(envelope);
  }

  async #attempt(item: Pending): Promise<void> {
    const w = this.#config().webhooks;
    const url = item.urls[Math.min(item.urls.length - 1, Math.floor(item.tryIndex / w.triesPerUrl))]!;
    const attempt = item.tryIndex + 1;
    const body = this.#body(item, url, attempt);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = sign(null, Buffer.from(`${timestamp}|${body}`), this.#privateKey).toString('base64');
    let status: number | undefined;
    let error: string | undefined;
    try {
      const res = await request(url, {
        method: 'POST',
        dispatcher: this.#agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'telnyx-webhooks-simulator',
          'telnyx-timestamp': timestamp,
          'telnyx-signature-ed25519': signature,
        },
        body,
        signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(w.timeoutMs)]),
      });
      status = res.statusCode;
      await res.body.dump();
    } catch (err) {
      error = (err as { code?: string }).code ?? (err as Error).name ?? String(err);
    }
    if (item.generation !== this.#generation) return;
    const ok = status !== undefined && status >= 200 && status < 300;
    this.#counts.attempts++;
    if (ok) this.#counts.delivered++;
    else this.#counts.failedAttempts++;
    this.#record({
      eventId: item.eventId,
      eventType: item.eventType,
      messageId: item.record.id,
      url,
      attempt,
      status,
      error,
      ok,
      duplicate: item.duplicate,
      at: Date.now(),
    });
    if (ok) return;
    if (item.tryIndex + 1 < item.urls.length * w.triesPerUrl && !this.#closed) {
      this.#push({ ...item, tryIndex: item.tryIndex + 1, due: Date.now() + w.retryDelayMs });
    } else {
      this.#counts.abandoned++;
    }
  }

  #record(delivery: WebhookDelivery): void {
    this.#log.push(delivery);
    if (this.#log.length > LOG_LIMIT) this.#log.splice(0, this.#log.length - LOG_LIMIT / 2);
  }

  #isIdle(): boolean {
    return this.#heap.size === 0 && this.#readyHead >= this.#ready.length && this.#inFlight === 0;
  }

  #notifyIdle(): void {
    if (!this.#isIdle() || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
