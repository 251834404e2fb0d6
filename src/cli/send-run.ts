/**
 * The part `run` and `resume` share: start the sandbox simulator when asked, show progress, send,
 * print the outcome and pick the exit code.
 */
import type { JobSpec } from '../config/job-spec.js';
import type { AccountSpec } from '../config/account-spec.js';
import { executeRun } from '../campaign/execute-run.js';
import { runStatus, type RunStatus } from '../campaign/status.js';
import type { Ledger, RunRecord, StatusCounts } from '../ledger/ledger.js';
import { startSimulatorWorker, type SimulatorOptions } from '../telnyx/simulator/index.js';
import { ExitCode } from './exit-codes.js';
import type { Io } from './io.js';
import { startRunMetricsServer } from '../metrics/index.js';
import { deliveryCounts } from '../campaign/delivery-report.js';
import { startWebhookReceiver } from '../webhooks/receiver.js';
import { formatReceiverLog, resolvePublicKey } from './commands/webhooks.js';
import { createProgress } from './progress.js';

export interface SendRunOptions {
  /** Real API credentials; absent for a sandbox run. */
  api: { apiKey: string; baseUrl: string } | undefined;
  /** The account file's limits and senders, if there is one. */
  account?: AccountSpec | undefined;
  json: boolean;
  quiet: boolean;
  /** Wait for send windows (false: --no-wait). */
  wait: boolean;
  /** Serve /metrics and /healthz on 127.0.0.1 at this port while the run lasts. */
  metricsPort?: number | undefined;
  /** Receive delivery receipts on this port while the run lasts (a sandbox run always does, on any port). */
  webhooksPort?: number | undefined;
  /** The run's counts, when the caller has just read them (counting a million-row run takes ~35 ms). */
  counts?: StatusCounts | undefined;
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

export function exitCodeForStatus(status: RunStatus): number {
  if (status.state === 'aborted') return ExitCode.aborted;
  const someFailed = status.counts.failed + status.counts.unknown > 0;
  // `--no-wait` ending with rows deferred to their send window is a normal end, not an interruption.
  const deferredByRule = status.state === 'interrupted' && status.stop?.code === 'deferred';
  if ((status.state === 'interrupted' && !deferredByRule) || status.state === 'running') return ExitCode.interrupted;
  return someFailed ? ExitCode.someFailed : ExitCode.ok;
}

export function describeStatus(s: RunStatus): string {
  const c = s.counts;
  const cost = s.cost.currency === null ? '' : `, cost ${s.cost.amount} ${s.cost.currency}`;
  const lines = [
    `run ${s.run_id} (${s.job})${s.sandbox ? ' [sandbox]' : ''}: ${s.state}`,
    `  total ${c.total} · sent ${c.sent} · failed ${c.failed} · unknown ${c.unknown} · skipped ${c.skipped} · pending ${c.pending}` +
      `${c.sending > 0 ? ` · sending ${c.sending}` : ''}${c.deferred > 0 ? ` · deferred ${c.deferred}` : ''}${c.expired > 0 ? ` · expired ${c.expired}` : ''}`,
    `  parts ${s.parts}${cost}`,
  ];
  if (s.estimate !== null) {
    const est = s.estimate.cost === null ? '' : `, cost ${s.estimate.cost.amount} ${s.estimate.cost.currency}`;
    lines.push(`  estimated at start: parts ${s.estimate.parts}${est}`);
  }
  if (s.stop !== null && s.state !== 'completed') lines.push(`  stopped: ${s.stop.code ?? ''} ${s.stop.detail ?? ''}`.trimEnd());
  if (c.unknown > 0) {
    lines.push(`  ${c.unknown} row(s) are unknown: Telnyx may have sent them. See \`bulktext report ${s.run_id}\`; \`resume --resend-unknown\` sends them again.`);
  }
  if (s.state === 'interrupted' || s.state === 'aborted') lines.push(`  resume with: bulktext resume ${s.run_id}`);
  return `${lines.join('\n')}\n`;
}

export async function sendRun(ledger: Ledger, run: RunRecord, spec: JobSpec, o: SendRunOptions, io: Io): Promise<number> {
  // Check the key before starting anything, so a missing one is a usage error, not a half-started run.
  const receiverKey = o.api !== undefined && o.webhooksPort !== undefined ? resolvePublicKey(undefined, io.env) : undefined;
  const sandbox = o.api === undefined ? await startSimulatorWorker(sandboxOptions(spec)) : undefined;
  const api = o.api ?? { apiKey: 'sandbox', baseUrl: sandbox!.url };
  const publicKey = sandbox?.publicKey ?? receiverKey;
  const receiver =
    publicKey === undefined
      ? undefined
      : await startWebhookReceiver({
          ledger,
          publicKey,
          port: o.webhooksPort ?? 0,
          onLog: (entry) => {
            if (entry.type === 'rejected' || entry.type === 'error') io.stderr(`webhooks: ${formatReceiverLog(entry, Date.now())}\n`);
          },
        });
  // The sandbox's receipts go to this run's own receiver, so the run ends with real delivery statuses.
  if (sandbox !== undefined && receiver !== undefined) await sandbox.configure({ webhooks: { defaultWebhookUrl: receiver.url } });
  if (receiver !== undefined && sandbox === undefined && !o.quiet) io.stderr(`receiving delivery receipts on ${receiver.url}\n`);
  const before = o.counts ?? ledger.counts(run.rid);
  const progress = createProgress({
    write: io.stderr,
    isTTY: io.isTTY,
    quiet: o.quiet,
    toSend: before.pending,
    skipped: before.skipped,
    ceiling: spec.rate.messages_per_second,
  });
  const metrics = o.metricsPort === undefined ? undefined : await startRunMetricsServer({ port: o.metricsPort, ledger });
  if (metrics !== undefined && !o.quiet) io.stderr(`metrics on ${metrics.url}\n`);
  try {
    await executeRun(ledger, run, spec, {
      apiKey: api.apiKey,
      baseUrl: api.baseUrl,
      signal: io.signal,
      wait: o.wait,
      account: o.account,
      onEvent: (e) => {
        progress.onEvent(e);
        metrics?.onEvent(e);
      },
      onStart: (d) => {
        progress.attach(d);
        metrics?.attach(d);
      },
    });
    if (receiver !== undefined) await awaitReceipts(ledger, run.rid, io.signal);
  } finally {
    progress.stop();
    await metrics?.close();
    await receiver?.close();
    await sandbox?.close();
  }
  const status = runStatus(ledger, ledger.getRun(run.runId));
  if (o.json) io.stdout(`${JSON.stringify(status)}\n`);
  if (!o.quiet) io.stderr(describeStatus(status));
  return exitCodeForStatus(status);
}
