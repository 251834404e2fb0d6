/**
 * The library's long-running pieces, in-process: the signed webhook receiver over a ledger file, and
 * the Telnyx simulator. `bulktext webhooks` and `bulktext simulator` run exactly these.
 */
import { Ledger } from '../ledger/ledger.js';
import { requireLedgerFile } from '../ledger/require-ledger.js';
import { startWebhookReceiver, type ReceiverLog } from '../webhooks/receiver.js';
import { resolveIn } from './campaign.js';

export { startSimulator, type InProcessSimulator, type SimulatorOptions } from '../telnyx/simulator/index.js';
export type { ReceiverLog };

export interface WebhooksOptions {
  /** The ledger file events are written to. It must exist: only a run creates one, so a STOP never lands in a mistyped path. */
  db: string;
  /** Telnyx's webhook public key: base64 of the 32 raw Ed25519 bytes. */
  publicKey: string;
  /** @default 0 (any free port) */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** @default "/telnyx" */
  path?: string;
  /** Told about every request (events applied, requests rejected, errors). Must not throw. */
  onLog?: (entry: ReceiverLog) => void;
  /** Base for a relative `db`. @default process.cwd() */
  cwd?: string;
}

export interface Webhooks {
  /** Where to point Telnyx: `http://host:port/path`. */
  readonly url: string;
  /** The address actually bound, e.g. `0.0.0.0:8080` (every interface), for banners. */
  readonly listening: string;
  readonly port: number;
  /** The ledger file, resolved. */
  readonly db: string;
  /** Stops the server and closes the ledger. */
  close(): Promise<void>;
}

/**
 * Starts the receiver on its own connection to an existing ledger and applies receipts stored earlier whose rows
 * have since settled. @throws AppError ERR_WEBHOOK_KEY for a malformed key, ERR_LEDGER_NOT_FOUND for a missing ledger
 */
export async function startWebhooks(o: WebhooksOptions): Promise<Webhooks> {
  const db = requireLedgerFile(resolveIn(o.cwd, o.db));
  const ledger = new Ledger(db);
  try {
    const receiver = await startWebhookReceiver({
      ledger,
      publicKey: o.publicKey,
      port: o.port ?? 0,
      ...(o.host === undefined ? {} : { host: o.host }),
      ...(o.path === undefined ? {} : { path: o.path.startsWith('/') ? o.path : `/${o.path}` }),
      ...(o.onLog === undefined ? {} : { onLog: o.onLog }),
    });
    receiver.retryWaiting();
    return {
      url: receiver.url,
      listening: receiver.listening,
      port: receiver.port,
      db,
      close: async () => {
        try {
          await receiver.close();
        } finally {
          ledger.close();
        }
      },
    };
  } catch (err) {
    ledger.close();
    throw err;
  }
}
