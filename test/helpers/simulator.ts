/**
 * The in-process simulator over a temp ledger, with a Telnyx client on it and, when asked, the webhook
 * receiver the simulator posts its signed receipts to. `useSimulator()` registers the file's hooks: a
 * fresh ledger before each test, everything closed after it. Each test (or a `beforeEach`) calls
 * `start()` with the simulator it needs.
 */
import { afterEach, beforeEach } from 'vitest';
import type { Ledger } from '../../src/ledger/ledger.js';
import { createTelnyxClient, type TelnyxClient } from '../../src/telnyx/client.js';
import { startSimulator, type InProcessSimulator, type SimulatorOptions } from '../../src/telnyx/simulator/index.js';
import { startWebhookReceiver, type ReceiverLog, type WebhookReceiver } from '../../src/webhooks/receiver.js';
import { tempLedger, type TempLedger } from './ledger.js';

export interface SimulatorStart {
  simulator: SimulatorOptions;
  /**
   * Start a webhook receiver on the ledger and point the simulator's webhooks at it, retried every
   * 50 ms unless `webhooks` says otherwise.
   */
  receiver?: { retryIntervalMs: number; webhooks?: NonNullable<SimulatorOptions['webhooks']> };
  /** The client's request timeout, ms. @default 5000 */
  clientTimeoutMs?: number;
}

export interface SimulatorEnv {
  readonly ledger: Ledger;
  /** The ledger's file. */
  readonly file: string;
  readonly sim: InProcessSimulator;
  readonly client: TelnyxClient;
  readonly receiver: WebhookReceiver;
  /** What the receiver logged, in order. */
  readonly logs: ReceiverLog[];
  start(options: SimulatorStart): Promise<void>;
}

export function useSimulator(): SimulatorEnv {
  let t: TempLedger | undefined;
  let sim: InProcessSimulator | undefined;
  let client: TelnyxClient | undefined;
  let receiver: WebhookReceiver | undefined;
  let logs: ReceiverLog[] = [];

  beforeEach(() => {
    t = tempLedger();
    logs = [];
  });

  afterEach(async () => {
    await client?.close();
    await sim?.close();
    await receiver?.close();
    t?.cleanup();
    t = sim = client = receiver = undefined;
  });

  const started = <T>(what: string, value: T | undefined): T => {
    if (value === undefined) throw new Error(`the ${what} exists only in a test that started it`);
    return value;
  };

  return {
    get ledger() {
      return started('ledger', t).ledger;
    },
    get file() {
      return started('ledger', t).file;
    },
    get sim() {
      return started('simulator', sim);
    },
    get client() {
      return started('client', client);
    },
    get receiver() {
      return started('receiver', receiver);
    },
    get logs() {
      return logs;
    },
    async start(options) {
      const ledger = started('ledger', t).ledger;
      sim = await startSimulator(options.simulator);
      if (options.receiver !== undefined) {
        receiver = await startWebhookReceiver({ ledger, publicKey: sim.publicKey, retryIntervalMs: options.receiver.retryIntervalMs, onLog: (e) => logs.push(e) });
        await sim.configure({ webhooks: { defaultWebhookUrl: receiver.url, retryDelayMs: 50, ...options.receiver.webhooks } });
      }
      client = createTelnyxClient({ apiKey: 'test-key', baseUrl: sim.url, timeoutMs: options.clientTimeoutMs ?? 5000 });
    },
  };
}
