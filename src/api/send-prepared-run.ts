/**
 * Sends a run that exists in the ledger (just started, or prepared for resume): starts the sandbox
 * (a simulator whose receipts reach this ledger, and only it) when there are no credentials, runs the
 * webhook receiver when there is a key for it, executes the run and then waits for receipts.
 * `bulktext run`/`resume` and the library's startCampaign/resumeCampaign share it, so a program
 * embedding bulktext sends exactly as the CLI does.
 */
import type { AccountSpec } from '../config/account-spec.js';
import type { JobSpec } from '../config/job-spec.js';
import { awaitingReceipts, awaitReceipts, sandboxOptions, startSandbox } from '../campaign/sandbox.js';
import { executeRun } from '../campaign/execute-run.js';
import type { Dispatcher, DispatchEvent, DispatchSummary } from '../dispatch/dispatcher.js';
import type { Ledger } from '../ledger/ledger.js';
import type { RunRecord } from '../ledger/run-store.js';
import type { RunState } from '../ledger/states.js';
import { startWebhookReceiver, type ReceiverLog } from '../webhooks/receiver.js';

export { sandboxOptions };

export interface SendPreparedRunOptions {
  /** Real API credentials; absent for a sandbox run (a simulator in a worker thread answers instead). */
  api: { apiKey: string; baseUrl: string } | undefined;
  /** Wait for send windows (false: leave deferred rows for a later resume). */
  wait: boolean;
  /** `run --canary N`: send the first N sendable rows, then stop (resumable). */
  canary?: number | undefined;
  /** The account file's limits and senders; without one the job's own figures stand for the account. */
  account?: AccountSpec | undefined;
  /** Run the webhook receiver on this port (127.0.0.1) while the run lasts; a sandbox run always has one, on any port. */
  webhooksPort?: number | undefined;
  /** The webhook public key for a real run's receiver (checked by the caller). */
  publicKey?: string | undefined;
  signal: AbortSignal;
  onEvent?: ((event: DispatchEvent) => void) | undefined;
  onStart?: ((dispatcher: Dispatcher) => void) | undefined;
  /** Told about every receiver log entry. */
  onReceiverLog?: ((entry: ReceiverLog) => void) | undefined;
  /** Told the address a real run's receiver bound, once. */
  onReceiverListening?: ((listening: string) => void) | undefined;
  /** The sends are over (the progress line can stop): what follows is the wait for receipts. */
  onSent?: (() => void) | undefined;
  /** A sandbox run's wait for its receipts: called now and then with how many are still awaited. */
  onWaitingReceipts?: ((awaiting: number) => void) | undefined;
}

export interface SentRun {
  state: RunState;
  summary: DispatchSummary;
  /** Whether the run sent to the sandbox simulator. */
  sandbox: boolean;
  /** Sent rows still without a delivery receipt when the wait ended. */
  receiptsLeft: number;
}

/**
 * After the last send, how long a real run keeps its receiver open for receipts still on their way (the
 * real API's can take minutes; `webhooks` or `reconcile` collect the rest). A sandbox run waits for all of
 * its simulator's receipts instead, until they stop coming.
 */
const RECEIPT_GRACE_MS = 5000;

export async function sendPreparedRun(ledger: Ledger, run: RunRecord, spec: JobSpec, o: SendPreparedRunOptions): Promise<SentRun> {
  const onLog = o.onReceiverLog;
  const sandbox = o.api === undefined ? await startSandbox(ledger, sandboxOptions(spec), onLog) : undefined;
  try {
    const api = o.api ?? { apiKey: 'sandbox', baseUrl: sandbox!.baseUrl };
    const publicKey = o.webhooksPort === undefined || sandbox !== undefined ? undefined : o.publicKey;
    const ownReceiver =
      publicKey === undefined
        ? undefined
        : await startWebhookReceiver({ ledger, publicKey, port: o.webhooksPort ?? 0, ...(onLog === undefined ? {} : { onLog }) });
    try {
      if (ownReceiver !== undefined) o.onReceiverListening?.(ownReceiver.listening);
      const receiver = sandbox?.receiver ?? ownReceiver;
      // A resumed sandbox run's rows sent before the interruption await receipts from a simulator that died
      // with that process: waiting for them would only end at the stall timeout.
      const orphaned = sandbox === undefined ? 0 : awaitingReceipts(ledger, run.rid);
      const { state, summary } = await executeRun(ledger, run, spec, {
        apiKey: api.apiKey,
        baseUrl: api.baseUrl,
        ...(sandbox === undefined ? {} : { endpoint: `the sandbox simulator at ${sandbox.baseUrl}` }),
        signal: o.signal,
        wait: o.wait,
        ...(o.canary === undefined ? {} : { canary: o.canary }),
        ...(o.account === undefined ? {} : { account: o.account }),
        ...(o.onEvent === undefined ? {} : { onEvent: o.onEvent }),
        ...(o.onStart === undefined ? {} : { onStart: o.onStart }),
      });
      o.onSent?.();
      let receiptsLeft = 0;
      if (receiver !== undefined && state !== 'cancelled') {
        receiptsLeft = await awaitReceipts(ledger, run.rid, {
          signal: o.signal,
          orphaned,
          ...(sandbox === undefined ? { maxMs: RECEIPT_GRACE_MS } : {}),
          ...(sandbox === undefined || o.onWaitingReceipts === undefined ? {} : { onWaiting: o.onWaitingReceipts }),
        });
      }
      return { state, summary, sandbox: sandbox !== undefined, receiptsLeft };
    } finally {
      await ownReceiver?.close();
    }
  } finally {
    await sandbox?.close();
  }
}
