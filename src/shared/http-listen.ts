/** Starting and stopping a local HTTP server the same way for every server bulktext runs (metrics, dashboard). */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from './errors.js';

export interface Listening {
  /** `http://host:port` (an IPv6 host in brackets). */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, drops open connections (keep-alive, event streams) and resolves once closed. */
  close(): Promise<void>;
}

/**
 * @param what what is served, for the error ("metrics", "the dashboard")
 * @throws AppError ERR_USAGE when the address cannot be listened on (a port in use, an unknown host)
 */
export async function listen(server: http.Server, port: number, host: string, what: string): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(new AppError('ERR_USAGE', `cannot serve ${what} on ${host}:${port}: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
