/**
 * Sends a run that exists in the ledger (just started, or prepared for resume): starts the sandbox
 * simulator when there are no credentials, runs the webhook receiver when there is a key for it, and
 * executes the run. `bulktext run`/`resume` and the library's startCampaign/resumeCampaign share it, so
 * a program embedding bulktext sends exactly as the CLI does.
 */
import type { JobSpec } from '../config/job-spec.js';
import { deliveryCounts } from '../campaign/delivery-report.js';
import { executeRun } from '../campaign/execute-run.js';
import type { Dispatcher, DispatchEvent } from '../dispatch/dispatcher.js';
import type { Ledger, RunRecord } from '../ledger/ledger.js';
import { startSimulatorWorker, type SimulatorOptions } from '../telnyx/simulator/index.js';
import { startWebhookReceiver, type ReceiverLog } from '../webhooks/receiver.js';

export interface SendPreparedRunOptions {
  /** Real API credentials; absent for a sandbox run (a simulator in a worker thread answers instead). */
  api: { apiKey: string; baseUrl: string } | undefined;
  /** Wait for send windows (false: leave deferred rows for a later resume). */
  wait: boolean;
  /** Run the webhook receiver on this port (127.0.0.1) while the run lasts; a sandbox run always does, on any port. */
  webhooksPort?: number | undefined;
  /** The webhook public key for a real run's receiver (checked by the caller). */
  publicKey?: string | undefined;
  signal: AbortSignal;
  onEvent?: ((event: DispatchEvent) => void) | undefined;
  onStart?: ((dispatcher: Dispatcher) => void) | undefined;
  /** Told about every receiver log entry. */
  onReceiverLog?: ((entry: ReceiverLog) => void) | undefined;
  /** Told where the receiver listens, once, for a real run. */
  onReceiverUrl?: ((url: string) => void) | undefined;
}

/** After the last send, how long to keep the receiver open for receipts still on their way. */
const RECEIPT_GRACE_MS = 5000;

async function awaitReceipts(ledger: Ledger, rid: number, signal: AbortSignal): Promise<void> {
  const until = Date.now() + RECEIPT_GRACE_MS;
  while (Date.now() < until && !signal.aborted && deliveryCounts(ledger, rid).awaiting > 0) {
    await new Promise((r) => setTimeout(r, 100));
  }
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

export async function sendPreparedRun(ledger: Ledger, run: RunRecord, spec: JobSpec, o: SendPreparedRunOptions): Promise<void> {
  const sandbox = o.api === undefined ? await startSimulatorWorker(sandboxOptions(spec)) : undefined;
  const api = o.api ?? { apiKey: 'sandbox', baseUrl: sandbox!.url };
  const publicKey = sandbox?.publicKey ?? (o.webhooksPort === undefined ? undefined : o.publicKey);
  try {
    const receiver =
      publicKey === undefined
        ? undefined
        : await startWebhookReceiver({
            ledger,
            publicKey,
            port: o.webhooksPort ?? 0,
            ...(o.onReceiverLog === undefined ? {} : { onLog: o.onReceiverLog }),
          });
    try {
      // The sandbox's receipts go to this run's own receiver, so the run ends with real delivery statuses.
      if (sandbox !== undefined && receiver !== undefined) await sandbox.configure({ webhooks: { defaultWebhookUrl: receiver.url } });
      if (receiver !== undefined && sandbox === undefined) o.onReceiverUrl?.(receiver.url);
      await executeRun(ledger, run, spec, {
        apiKey: api.apiKey,
        baseUrl: api.baseUrl,
        signal: o.signal,
        wait: o.wait,
        ...(o.onEvent === undefined ? {} : { onEvent: o.onEvent }),
        ...(o.onStart === undefined ? {} : { onStart: o.onStart }),
      });
      if (receiver !== undefined) await awaitReceipts(ledger, run.rid, o.signal);
    } finally {
      await receiver?.close();
    }
  } finally {
    await sandbox?.close();
  }
}
