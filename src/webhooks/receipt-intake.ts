/**
 * Receipts handed over inside the process (the sandbox's simulator in its worker thread) rather than
 * posted: stored and applied exactly as the receiver stores and applies a verified webhook, but a whole
 * batch in one transaction. There is no signature to check (nothing crossed a network) and no fsync of
 * its own: these are the simulator's receipts, not Telnyx's records (see the receiver's `durable`).
 */
import { deliveryStoreFor } from '../ledger/delivery-store.js';
import type { Ledger } from '../ledger/ledger.js';
import { parseWebhookBody, receiveEvent, type ReceiveResult, type IncomingEvent } from './apply-event.js';
import { eventLog, retryWaitingOften, type ReceiverLog } from './receiver.js';

export interface ReceiptIntake {
  /** Stores and applies event bodies (JSON envelopes), in one transaction. Never throws: a failure is logged. */
  apply(bodies: readonly string[]): void;
  /** Re-applies waiting events now (a timer does this too). */
  retryWaiting(): number;
  close(): Promise<void>;
}

export interface ReceiptIntakeOptions {
  ledger: Ledger;
  /** Told about every event, as the receiver's `onLog`. Must not throw. */
  onLog?: ((entry: ReceiverLog) => void) | undefined;
  /** @default Date.now */
  now?: () => number;
  /** How often waiting events are re-applied; 0 turns it off. @default 2000 */
  retryIntervalMs?: number;
}

export function startReceiptIntake(options: ReceiptIntakeOptions): ReceiptIntake {
  const { ledger } = options;
  const store = deliveryStoreFor(ledger);
  const now = options.now ?? Date.now;
  const log = options.onLog ?? (() => {});
  /** One transaction without an fsync of its own: a batch, or a pass over the waiting events. */
  const together = <T>(write: () => T): T => ledger.withoutFsync(() => store.transaction(write));
  // Each waiting event is its own transaction, durable by default: thousands of fsyncs a pass otherwise.
  const { retryWaiting, stop } = retryWaitingOften(store, now, log, options.retryIntervalMs, together);
  let closed = false;

  function apply(bodies: readonly string[]): void {
    if (closed) return;
    const at = now();
    const received: Array<{ event: IncomingEvent; result: ReceiveResult }> = [];
    try {
      together(() => {
        for (const raw of bodies) {
          const parsed = parseWebhookBody(raw);
          if (!parsed.ok) {
            log({ type: 'error', detail: `a sandbox receipt is unreadable: ${parsed.detail}` });
            continue;
          }
          received.push({ event: parsed.event, result: receiveEvent(store, parsed.event, raw, at) });
        }
      });
    } catch (err) {
      // Nothing of the batch is stored; its rows stay awaiting, and the run's wait for receipts says so.
      log({ type: 'error', detail: `cannot store ${bodies.length} sandbox receipts: ${(err as Error).message}` });
      return;
    }
    for (const r of received) log(eventLog(r.event, r.result));
  }

  return {
    apply,
    retryWaiting,
    close: async () => {
      closed = true;
      stop();
    },
  };
}
