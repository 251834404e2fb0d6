/**
 * The sandbox ends like a real run: its simulator's receipts go to a webhook receiver on the run's own
 * ledger, and the run waits for them, so a sandbox run (from `run`, `resume` or the scheduler) ends with
 * every delivery status, as the real API's receipts would leave it.
 */
import type { Ledger } from '../ledger/ledger.js';
import { sleepUnlessAborted } from '../shared/clock.js';
import { startSimulatorWorker, type SimulatorHandle, type SimulatorOptions } from '../telnyx/simulator/index.js';
import { startWebhookReceiver, type ReceiverLog, type WebhookReceiver } from '../webhooks/receiver.js';
import { deliveryCounts } from './delivery-report.js';

export interface Sandbox {
  /** The simulator's API base URL. */
  baseUrl: string;
  receiver: WebhookReceiver;
  close(): Promise<void>;
}

/** Starts a simulator (in a worker thread) whose receipts go to a receiver on `ledger`. */
export async function startSandbox(ledger: Ledger, options: SimulatorOptions, onLog?: (entry: ReceiverLog) => void): Promise<Sandbox> {
  // The receiver shares the run's main thread with the sends: under load its answers can take longer than
  // Telnyx's 2 s, and a simulator that gave up after 3 such tries dropped the receipt for good (a 100k-row
  // run ended with 27k rows awaiting). The sandbox waits and retries longer, so every receipt arrives.
  const webhooks = { timeoutMs: 60_000, triesPerUrl: 10, ...options.webhooks };
  const simulator: SimulatorHandle = await startSimulatorWorker({ ...options, webhooks });
  let receiver: WebhookReceiver;
  try {
    // The simulator's receipts need no fsync each (see `durable`): a sandbox run's speed is the run's own.
    receiver = await startWebhookReceiver({ ledger, publicKey: simulator.publicKey, port: 0, durable: false, ...(onLog === undefined ? {} : { onLog }) });
    // Sealed: receipts go to this receiver and nowhere else, whatever a job's webhook_url says (a real address).
    await simulator.configure({ webhooks: { onlyUrl: receiver.url } });
  } catch (err) {
    await simulator.close();
    throw err;
  }
  return {
    baseUrl: simulator.url,
    receiver,
    close: async () => {
      await receiver.close();
      await simulator.close();
    },
  };
}

export interface AwaitReceiptsOptions {
  signal: AbortSignal;
  /** Give up when no receipt has arrived for this long. @default 20000 */
  stallMs?: number;
  /** Give up after this long in all. @default 1800000 (30 min) */
  maxMs?: number;
  /** Called as the wait starts and then every `reportEveryMs` with the number still awaited. */
  onWaiting?: (awaiting: number) => void;
  /** @default 5000 */
  reportEveryMs?: number;
  /** @default 250 */
  pollMs?: number;
}

/**
 * Waits until every sent row of the run has a final delivery status, the receipts stop coming (`stallMs`
 * without one), `maxMs` passes, or `signal` aborts. Returns how many rows are still awaiting.
 */
export async function awaitReceipts(ledger: Ledger, rid: number, o: AwaitReceiptsOptions): Promise<number> {
  const start = Date.now();
  const stallMs = o.stallMs ?? 20_000;
  const maxMs = o.maxMs ?? 1_800_000;
  const every = o.reportEveryMs ?? 5000;
  let awaiting = deliveryCounts(ledger, rid).awaiting;
  let lastChange = start;
  let reported = 0;
  while (awaiting > 0 && !o.signal.aborted) {
    const now = Date.now();
    if (now - lastChange >= stallMs || now - start >= maxMs) break;
    if (o.onWaiting !== undefined && now - reported >= every) {
      o.onWaiting(awaiting);
      reported = now;
    }
    await sleepUnlessAborted(o.pollMs ?? 250, o.signal);
    const next = deliveryCounts(ledger, rid).awaiting;
    if (next !== awaiting) lastChange = Date.now();
    awaiting = next;
  }
  return awaiting;
}
