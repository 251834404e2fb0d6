/**
 * A real node:http server on 127.0.0.1:0 whose every answer the test scripts (as undici's
 * test/retry-agent.js does). It reads each request body completely before calling the script, so
 * "the server had the whole request" is a fact the test can rely on, and it counts sockets.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Script = (req: RecordedRequest, res: http.ServerResponse, socket: Socket) => void;

export interface ScriptedServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly requests: RecordedRequest[];
  /** Sockets accepted so far. */
  readonly connectionCount: number;
  /** Most requests being handled at one moment. */
  readonly maxInFlight: number;
  /** Replaces the script for the requests that follow. */
  script(fn: Script): void;
  close(): Promise<void>;
}

export async function startScriptedServer(initial?: Script): Promise<ScriptedServer> {
  let current: Script = initial ?? ((_req, res) => reply(res, 500, 'no script'));
  const requests: RecordedRequest[] = [];
  let connectionCount = 0;
  let inFlight = 0;
  let maxInFlight = 0;

  const server = http.createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let done = false;
    const finish = (): void => {
      if (!done) {
        done = true;
        inFlight--;
      }
    };
    res.on('close', finish);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      current(recorded, res, req.socket);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', () => {
    connectionCount++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    get connectionCount() {
      return connectionCount;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    script(fn) {
      current = fn;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

export function reply(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const contentType = typeof body === 'string' ? 'text/html' : 'application/json';
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function telnyxErrors(...codes: string[]): { errors: { code: string; title: string; detail: string }[] } {
  return { errors: codes.map((code) => ({ code, title: `Title ${code}`, detail: `Detail for ${code}` })) };
}

/** A port that was free a moment ago and has nothing listening now. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
