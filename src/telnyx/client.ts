/**
 * The Telnyx Messages API v2 client: one undici Pool, one request per call, no retries.
 *
 * Retrying is the dispatcher's job, and whether a retry is safe depends on one fact this file
 * establishes: did any byte of the request reach a socket? It talks to undici through a dispatch
 * handler rather than `request()` because only the handler sees `onRequestStart`, which undici calls
 * immediately before it writes the request to a connected socket (client-h1.js `writeH1`). A failure
 * before that point (connection refused, connect timeout, aborted or timed out while queued in the
 * pool) provably sent nothing; after it, the request may have reached Telnyx. `onRequestSent` proves
 * nothing more — it fires when the bytes are handed to the kernel, not when Telnyx has them.
 * The handler also skips the Readable stream `request()` builds per response.
 */
import { Pool, type Dispatcher } from 'undici';
import { AppError } from '../shared/errors.js';
import {
  describeCause,
  TelnyxAbortedError,
  TelnyxNetworkError,
  TelnyxRequestInvalidError,
  TelnyxResponseInvalidError,
  telnyxErrorFromResponse,
  type AbortKind,
  type ResponseHeaders,
} from './errors.js';
import {
  message as messageSchema,
  messageCheck,
  messageResponseCheck,
  type MessageResponse,
  sendPaths,
  type AlphanumericRequest,
  type GroupMmsRequest,
  type LongCodeRequest,
  type Message,
  type NumberPoolRequest,
  type SendKind,
  type SendMessageRequest,
  type SendRequestByKind,
  type ShortCodeRequest,
} from './wire.js';

export const defaultBaseUrl = 'https://api.telnyx.com/v2';

/** Telnyx rejects a group MMS to more than eight recipients (spec: "No more than 8 destinations"). */
export const maxGroupMmsRecipients = 8;

export interface TelnyxClientOptions {
  /** Telnyx API v2 key. Held privately: it never appears in an error, a log line or `util.inspect`. */
  apiKey: string;
  /** API root; may carry a path. @default 'https://api.telnyx.com/v2' */
  baseUrl?: string | undefined;
  /** Upper bound on open connections (keep-alive sockets). @default 64 */
  connections?: number | undefined;
  /** Per-request time limit in ms, from the call to the last body byte, queueing included. @default 30000 */
  timeoutMs?: number | undefined;
  /**
   * Requests in flight per connection. Only 1 is allowed: a POST pipelined behind another dies with it
   * when the connection drops, and could not be told apart from one Telnyx has processed. @default 1
   */
  pipelining?: 1 | undefined;
}

export interface TelnyxRequestOptions {
  /** Aborts the request; before it is written that is harmless, after it the send is in doubt. */
  signal?: AbortSignal | undefined;
  /** Overrides the client's timeout for this request. */
  timeoutMs?: number | undefined;
}

export interface TelnyxClient {
  /** Origin and path prefix the client talks to (never the key). */
  readonly baseUrl: string;
  /** Sends through the endpoint for `kind`; resolves with the message Telnyx created. */
  send<K extends SendKind>(kind: K, body: SendRequestByKind[K], opts?: TelnyxRequestOptions): Promise<Message>;
  sendMessage(body: SendMessageRequest, opts?: TelnyxRequestOptions): Promise<Message>;
  sendLongCode(body: LongCodeRequest, opts?: TelnyxRequestOptions): Promise<Message>;
  sendNumberPool(body: NumberPoolRequest, opts?: TelnyxRequestOptions): Promise<Message>;
  sendShortCode(body: ShortCodeRequest, opts?: TelnyxRequestOptions): Promise<Message>;
  /** At most eight recipients, checked before anything is sent. */
  sendGroupMms(body: GroupMmsRequest, opts?: TelnyxRequestOptions): Promise<Message>;
  sendAlphanumeric(body: AlphanumericRequest, opts?: TelnyxRequestOptions): Promise<Message>;
  /** GET /messages/{id}; Telnyx keeps messages retrievable for 10 days. */
  retrieve(id: string, opts?: TelnyxRequestOptions): Promise<Message>;
  /** DELETE /messages/{id}; only for `scheduled` messages more than a minute before `send_at`. */
  cancelScheduled(id: string, opts?: TelnyxRequestOptions): Promise<Message>;
  /** Waits for requests in flight, then closes every connection. */
  close(): Promise<void>;
}

export function createTelnyxClient(options: TelnyxClientOptions): TelnyxClient {
  return new UndiciTelnyxClient(options);
}

/** A Telnyx message response is ~2 KB; anything near this is not one, and must not fill memory. */
const maxResponseBytes = 1024 * 1024;

const redacted = '[REDACTED]';

type Method = 'GET' | 'POST' | 'DELETE';

class UndiciTelnyxClient implements TelnyxClient {
  readonly baseUrl: string;
  // Private fields: util.inspect, JSON.stringify and spreading cannot reach them.
  readonly #apiKey: string;
  readonly #pool: Pool;
  /** Built once: undici copies header values per request, so sharing the object is safe. */
  readonly #jsonHeaders: Readonly<Record<string, string>>;
  readonly #getHeaders: Readonly<Record<string, string>>;
  readonly #paths: ReadonlyMap<SendKind, string>;
  readonly #prefix: string;
  readonly #timeoutMs: number;

  constructor(options: TelnyxClientOptions) {
    const apiKey = options.apiKey;
    // A CR/LF would split the header; undici would refuse it anyway, but later and less clearly.
    if (typeof apiKey !== 'string' || apiKey.trim() === '' || /[\r\n\0]/.test(apiKey)) {
      throw new AppError('ERR_USAGE', 'The Telnyx API key is empty or contains control characters');
    }
    const url = parseBaseUrl(options.baseUrl ?? defaultBaseUrl);
    const connections = options.connections ?? 64;
    if (!Number.isInteger(connections) || connections < 1) {
      throw new AppError('ERR_USAGE', `connections must be a positive integer, got ${String(connections)}`);
    }
    if (options.pipelining !== undefined && options.pipelining !== 1) {
      throw new AppError('ERR_USAGE', 'pipelining must be 1: a pipelined send could not be told apart from a delivered one');
    }
    this.#timeoutMs = checkTimeout(options.timeoutMs ?? 30_000);

    this.#apiKey = apiKey;
    this.#prefix = url.pathname.replace(/\/+$/, '');
    this.baseUrl = url.origin + this.#prefix;
    const common = { authorization: `Bearer ${apiKey}`, accept: 'application/json', 'user-agent': 'bulktext' };
    this.#getHeaders = common;
    this.#jsonHeaders = { ...common, 'content-type': 'application/json' };
    this.#paths = new Map((Object.entries(sendPaths) as [SendKind, string][]).map(([kind, path]) => [kind, this.#prefix + path]));
    this.#pool = new Pool(url.origin, { connections, pipelining: 1 });
  }

  send<K extends SendKind>(kind: K, body: SendRequestByKind[K], opts?: TelnyxRequestOptions): Promise<Message> {
    const path = this.#paths.get(kind);
    if (path === undefined) return Promise.reject(new TelnyxRequestInvalidError(`Unknown send kind ${String(kind)}`));
    if (kind === 'group_mms') {
      const problem = groupMmsProblem(body as GroupMmsRequest);
      if (problem !== undefined) return Promise.reject(new TelnyxRequestInvalidError(problem));
    }
    let json: string;
    try {
      json = JSON.stringify(body);
    } catch (err) {
      return Promise.reject(new TelnyxRequestInvalidError(`The ${kind} request body is not serialisable: ${describeCause(err)}`));
    }
    return this.#exchange('POST', path, json, opts).then((ex) => this.#readMessage(ex, 'send'));
  }

  sendMessage(body: SendMessageRequest, opts?: TelnyxRequestOptions): Promise<Message> {
    return this.send('messages', body, opts);
  }

  sendLongCode(body: LongCodeRequest, opts?: TelnyxRequestOptions): Promise<Message> {
    return this.send('long_code', body, opts);
  }

  sendNumberPool(body: NumberPoolRequest, opts?: TelnyxRequestOptions): Promise<Message> {
    return this.send('number_pool', body, opts);
  }

  sendShortCode(body: ShortCodeRequest, opts?: TelnyxRequestOptions): Promise<Message> {
    return this.send('short_code', body, opts);
  }

  sendGroupMms(body: GroupMmsRequest, opts?: TelnyxRequestOptions): Promise<Message> {
    return this.send('group_mms', body, opts);
  }

  sendAlphanumeric(body: AlphanumericRequest, opts?: TelnyxRequestOptions): Promise<Message> {
    return this.send('alphanumeric', body, opts);
  }

  retrieve(id: string, opts?: TelnyxRequestOptions): Promise<Message> {
    const path = this.#messagePath(id);
    if (path === undefined) return Promise.reject(new TelnyxRequestInvalidError('A message id must be a non-empty string'));
    return this.#exchange('GET', path, null, opts).then((ex) => this.#readMessage(ex, 'wrapped'));
  }

  cancelScheduled(id: string, opts?: TelnyxRequestOptions): Promise<Message> {
    const path = this.#messagePath(id);
    if (path === undefined) return Promise.reject(new TelnyxRequestInvalidError('A message id must be a non-empty string'));
    // The spec (and the SDK's types) give the cancelled message bare, unlike every other endpoint.
    return this.#exchange('DELETE', path, null, opts).then((ex) => this.#readMessage(ex, 'bare-or-wrapped'));
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  #messagePath(id: string): string | undefined {
    if (typeof id !== 'string' || id === '') return undefined;
    return `${this.#prefix}/messages/${encodeURIComponent(id)}`;
  }

  #exchange(method: Method, path: string, body: string | null, opts: TelnyxRequestOptions | undefined): Promise<Exchange> {
    const timeoutMs = opts?.timeoutMs === undefined ? this.#timeoutMs : checkTimeout(opts.timeoutMs);
    const signal = opts?.signal;
    return new Promise<Exchange>((resolve, reject) => {
      const ex = new Exchange(method, path, timeoutMs, signal, resolve, reject);
      if (signal?.aborted) {
        ex.abort('aborted');
        return;
      }
      ex.arm();
      this.#pool.dispatch(
        { method, path, body, headers: body === null ? this.#getHeaders : this.#jsonHeaders },
        ex,
      );
    });
  }

  /**
   * `send`: a 2xx to a send whose message has an id is a sent message, whatever else is odd in it (see
   * `salvageSent`). `wrapped` / `bare-or-wrapped`: the answer must be a whole message.
   */
  #readMessage(ex: Exchange, shape: 'send' | 'wrapped' | 'bare-or-wrapped'): Message {
    const status = ex.status;
    if (status < 200 || status >= 300) {
      throw telnyxErrorFromResponse(status, ex.headers ?? {}, this.#redact(ex.text()));
    }
    let json: unknown;
    try {
      json = JSON.parse(ex.text());
    } catch (err) {
      throw new TelnyxResponseInvalidError({ status, reason: 'not JSON', bodyText: this.#redact(ex.text()), cause: err });
    }
    // Checked, then handed on as JSON.parse built it (see messageCheck): unknown fields pass through.
    if (shape !== 'bare-or-wrapped' || (typeof json === 'object' && json !== null && 'data' in json)) {
      const checked = messageResponseCheck.safeParse(json);
      if (checked.success) return (json as MessageResponse).data;
      const salvaged = shape === 'send' ? salvageSent(json, checked.error.issues) : undefined;
      if (salvaged !== undefined) return salvaged;
      throw this.#invalid(status, ex, checked.error.issues);
    }
    const checked = messageCheck.safeParse(json);
    if (checked.success) return json as Message;
    throw this.#invalid(status, ex, checked.error.issues);
  }

  #invalid(status: number, ex: Exchange, issues: readonly Issue[]): TelnyxResponseInvalidError {
    const first = issues[0];
    const reason = first === undefined ? 'not a message' : `${first.path.map(String).join('.') || '(root)'}: ${first.message}`;
    return new TelnyxResponseInvalidError({ status, reason, bodyText: this.#redact(ex.text()) });
  }

  /** Error paths only: a server that echoes request headers must not put the key into an error. */
  #redact(text: string): string {
    return text.includes(this.#apiKey) ? text.replaceAll(this.#apiKey, redacted) : text;
  }
}

/** The fields a salvaged send answer lacked or had in a form we cannot read (see `oddFieldsOf`). */
const oddFields = new WeakMap<Message, readonly string[]>();

/**
 * For a message a send resolved with: the fields of Telnyx's answer that were missing or unreadable
 * and are therefore absent from it (`["to.0.phone_number", "cost.amount"]`); undefined when none were.
 */
export function oddFieldsOf(message: Message): readonly string[] | undefined {
  return oddFields.get(message);
}

type Issue = { path: readonly PropertyKey[]; message: string };

/**
 * A 2xx to a send whose `data.id` is a string proves the message was created with that id: losing the
 * id over a field the spec does not require (a `to` entry without `phone_number`, `cost.amount: null`)
 * would turn a sent message into an in-doubt one. So each field that failed the check is left out (a
 * `to` list keeps its readable entries) and named, and the message is returned. No id: undefined.
 */
function salvageSent(json: unknown, issues: readonly Issue[]): Message | undefined {
  const data = (json as { data?: unknown } | null)?.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const id = (data as { id?: unknown }).id;
  if (typeof id !== 'string' || id === '') return undefined;
  const copy: Record<string, unknown> = { ...(data as Record<string, unknown>) };
  const odd: string[] = [];
  for (const issue of issues) {
    const [top, key] = issue.path;
    if (top !== 'data' || typeof key !== 'string' || key === 'id') return undefined;
    odd.push(issue.path.slice(1).map(String).join('.'));
    if (key === 'to') {
      const to = copy.to;
      copy.to = Array.isArray(to) ? to.filter((entry) => messageSchema.shape.to.element.safeParse(entry).success) : [];
    } else {
      delete copy[key];
    }
  }
  if (!messageCheck.safeParse(copy).success) return undefined;
  const message = copy as Message;
  oddFields.set(message, odd);
  return message;
}

/**
 * One request's life, as an undici dispatch handler. It settles exactly once: with the complete
 * response, or with a typed error whose `phase` records whether undici had started writing.
 */
class Exchange implements Dispatcher.DispatchHandler {
  status = 0;
  headers: ResponseHeaders | undefined = undefined;
  /** undici called onRequestStart: from here on the request may have reached Telnyx. */
  private started = false;
  private settled = false;
  private controller: Dispatcher.DispatchController | undefined = undefined;
  private chunks: Buffer[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined = undefined;

  constructor(
    private readonly method: Method,
    private readonly path: string,
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (ex: Exchange) => void,
    private readonly reject: (err: Error) => void,
  ) {}

  /**
   * Starts the timer and listens to the caller's signal. A cancellable setTimeout rather than
   * AbortSignal.timeout/any: at 10k requests/s with a 30 s limit those would leave ~300k live timers
   * and signals behind; this one is cleared the moment the response ends.
   */
  arm(): void {
    this.timer = setTimeout(onTimeout, this.timeoutMs, this);
    if (this.signal !== undefined) watchSignal(this.signal).add(this);
  }

  abort(kind: AbortKind): void {
    if (this.settled) return;
    const phase = this.started ? 'after_write' : 'connect';
    const err = new TelnyxAbortedError({
      reason: kind,
      phase,
      method: this.method,
      path: this.path,
      ...(kind === 'timeout' ? { timeoutMs: this.timeoutMs } : {}),
      ...(kind === 'aborted' && this.signal?.reason !== undefined ? { cause: this.signal.reason } : {}),
    });
    this.fail(err);
    // Tear the request down. Still queued in the pool: onRequestStart aborts it before any write.
    this.controller?.abort(err);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.settled) {
      // Timed out or aborted while queued; aborting here makes undici skip the write entirely.
      controller.abort(new Error('request settled before dispatch'));
      return;
    }
    this.controller = controller;
    this.started = true;
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return; // 1xx: the real response follows
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.size += chunk.length;
    if (this.size > maxResponseBytes) {
      const err = new TelnyxResponseInvalidError({
        status: this.status,
        reason: `body larger than ${maxResponseBytes} bytes`,
        bodyText: '',
      });
      this.fail(err);
      controller.abort(err);
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.settled = true;
    this.cleanup();
    this.resolve(this);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.settled) return;
    this.fail(
      new TelnyxNetworkError({
        causeCode: errorCode(error),
        phase: this.started ? 'after_write' : 'connect',
        method: this.method,
        path: this.path,
        cause: error,
      }),
    );
  }

  /** The body as text; a response of one chunk (the usual case) is decoded without copying. */
  text(): string {
    const { chunks } = this;
    if (chunks.length === 1) return (chunks[0] as Buffer).toString('utf8');
    return Buffer.concat(chunks, this.size).toString('utf8');
  }

  private fail(err: Error): void {
    this.settled = true;
    this.cleanup();
    this.reject(err);
  }

  private cleanup(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.signal !== undefined) signalWatches.get(this.signal)?.delete(this);
  }
}

/**
 * The requests in flight under each caller signal. A dispatcher passes one run-wide signal to every
 * send: one listener per signal instead of one per request avoids Node's MaxListenersExceeded warning
 * at 11 and EventTarget's linear-time removeEventListener with thousands in flight.
 */
const signalWatches = new WeakMap<AbortSignal, Set<Exchange>>();

function watchSignal(signal: AbortSignal): Set<Exchange> {
  let watching = signalWatches.get(signal);
  if (watching === undefined) {
    const set = new Set<Exchange>();
    watching = set;
    signalWatches.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        for (const ex of [...set]) ex.abort('aborted');
      },
      { once: true },
    );
  }
  return watching;
}

function onTimeout(ex: Exchange): void {
  ex.abort('timeout');
}

function parseBaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('ERR_USAGE', `The Telnyx base URL is not a URL: ${raw}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AppError('ERR_USAGE', `The Telnyx base URL must be http(s): ${url.origin}`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new AppError('ERR_USAGE', 'The Telnyx base URL must not carry credentials, a query or a fragment');
  }
  return url;
}

function checkTimeout(ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0) throw new AppError('ERR_USAGE', `timeoutMs must be a positive number, got ${String(ms)}`);
  return ms;
}

function groupMmsProblem(body: GroupMmsRequest): string | undefined {
  const to: unknown = body.to;
  if (!Array.isArray(to) || to.length === 0) return 'A group MMS needs a list of at least one recipient';
  if (to.length > maxGroupMmsRecipients) {
    return `A group MMS takes at most ${maxGroupMmsRecipients} recipients, got ${to.length}`;
  }
  return undefined;
}

/** undici and Node put the code on the error; happy-eyeballs connects wrap several in an AggregateError. */
function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const inner = (err as { errors?: unknown }).errors;
  if (Array.isArray(inner)) return errorCode(inner[0]);
  return undefined;
}

