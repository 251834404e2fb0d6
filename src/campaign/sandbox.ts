/**
 * The sandbox ends like a real run: its simulator's receipts are stored and applied on the run's own
 * ledger as a receiver would, and the run waits for them, so a sandbox run (from `run`, `resume` or the
 * scheduler) ends with every delivery status, as the real API's receipts would leave it.
 */
import type { JobSpec } from '../config/job-spec.js';
import type { Ledger } from '../ledger/ledger.js';
import { sleepUnlessAborted } from '../shared/clock.js';
import { startSimulatorWorker, type SimulatorHandle, type SimulatorOptions } from '../telnyx/simulator/index.js';
import { startReceiptIntake, type ReceiptIntake } from '../webhooks/receipt-intake.js';
import type { ReceiverLog } from '../webhooks/receiver.js';
import { deliveryCounts } from './delivery-report.js';

export interface Sandbox {
  /** The simulator's API base URL. */
  baseUrl: string;
  receiver: ReceiptIntake;
  close(): Promise<void>;
}

/**
 * Simulator settings for a sandbox run: Telnyx's behaviour, but with queues fast enough that the run's
 * own limits are what the operator sees, and receipts that arrive within a second.
 */
export function sandboxOptions(spec: JobSpec): SimulatorOptions {
  const perSender = Math.max(spec.rate.per_sender_per_second * 2, 1);
  const account = Math.max(spec.rate.messages_per_second * 2, 50);
  return {
    accountRate: account,
    mmsAccountRate: account,
    senderRates: { longCode: perSender, tollFree: Math.max(perSender, 20), shortCode: Math.max(perSender, 1000), alphanumeric: perSender },
    lifecycle: { sendingMs: 50, deliveryMs: 300 },
  };
}

/** Starts a simulator (in a worker thread) whose receipts are applied to `ledger`. */
export async function startSandbox(ledger: Ledger, options: SimulatorOptions, onLog?: (entry: ReceiverLog) => void): Promise<Sandbox> {
  // Sealed: the simulator posts no receipt anywhere, whatever a job's webhook_url says (a real address);
  // it hands them to this thread in batches instead. As two signed HTTP requests per message to a receiver
  // on this thread, they took the sends' thread from them: a 100k-row sandbox run sent at a fifth of the
  // rate of the same run against a simulator in its own process, and the receipts kept coming for minutes after.
  // A receipt that comes before its send's answer is committed waits (unapplied) for the intake's next pass.
  const receiver = startReceiptIntake({ ledger, onLog });
  let simulator: SimulatorHandle;
  try {
    simulator = await startSimulatorWorker(options, (bodies) => receiver.apply(bodies));
  } catch (err) {
    await receiver.close();
    throw err;
  }
  return {
    baseUrl: simulator.url,
    receiver,
    close: async () => {
      await simulator.close();
      await receiver.close();
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
  /**
   * Rows already awaiting a receipt before this process's sandbox sent anything (see `awaitingReceipts`):
   * an earlier process's sandbox accepted them and is gone with it, so no receipt will ever come for them.
   * The wait ends once only those are left. @default 0
   */
  orphaned?: number;
}

/** How many of the run's sent rows await a receipt now: taken before a sandbox sends, for `orphaned`. */
export function awaitingReceipts(ledger: Ledger, rid: number): number {
  return deliveryCounts(ledger, rid).awaiting;
}

/**
 * Waits until every sent row of the run has a final delivery status (but the `orphaned` ones), the receipts
 * stop coming (`stallMs` without one), `maxMs` passes, or `signal` aborts. Returns how many rows are still
 * awaiting, orphaned ones included.
 */
export async function awaitReceipts(ledger: Ledger, rid: number, o: AwaitReceiptsOptions): Promise<number> {
  const start = Date.now();
  const stallMs = o.stallMs ?? 20_000;
  const maxMs = o.maxMs ?? 1_800_000;
  const every = o.reportEveryMs ?? 5000;
  const orphaned = o.orphaned ?? 0;
  let awaiting = deliveryCounts(ledger, rid).awaiting;
  let lastChange = start;
  let reported = 0;
  while (awaiting > orphaned && !o.signal.aborted) {
    const now = Date.now();
    if (now - lastChange >= stallMs || now - start >= maxMs) break;
    if (o.onWaiting !== undefined && now - reported >= every) {
      o.onWaiting(awaiting - orphaned);
      reported = now;
    }
    await sleepUnlessAborted(o.pollMs ?? 250, o.signal);
    const next = deliveryCounts(ledger, rid).awaiting;
    if (next !== awaiting) lastChange = Date.now();
    awaiting = next;
  }
  return awaiting;
}
