/**
 * The part `run` and `resume` share: start the sandbox simulator when asked, show progress, send,
 * print the outcome and pick the exit code.
 */
import type { JobSpec } from '../config/job-spec.js';
import { runFailures, runStatus, skippedByReason, type FailureLine, type RunStatus } from '../campaign/status.js';
import type { AccountSpec } from '../config/account-spec.js';
import type { ReasonCount } from '../ledger/read-model.js';
import { subtractDecimals } from '../shared/money.js';
import type { CommandHint } from '../shared/command-line.js';
import type { Ledger } from '../ledger/ledger.js';
import type { RunRecord } from '../ledger/run-store.js';
import type { StatusCounts } from '../ledger/message-store.js';
import type { SentRun } from '../api/send-prepared-run.js';
import { ExitCode } from './exit-codes.js';
import type { Io } from './io.js';
import { runProgressLine } from './progress.js';
import { oddAnswersWarning } from './run-lines.js';
import { messageStoreOf } from '../ledger/message-store.js';
import { runStoreOf } from '../ledger/run-store.js';

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
  /** Builds the commands the summary suggests (keeps the operator's --db). */
  hint: CommandHint;
  /** Serve the read-only dashboard on 127.0.0.1 at this port while the run lasts (with `db`, the operator's --db, for its hints). */
  dashboard?: { port: number | undefined; db: string | undefined } | undefined;
  /** The run's counts, when the caller has just read them (counting a million-row run takes ~35 ms). */
  counts?: StatusCounts | undefined;
  /** `run --canary N`: send the first N sendable rows, then stop (resumable). */
  canary?: number | undefined;
}

export function exitCodeForStatus(status: RunStatus): number {
  if (status.state === 'aborted') return ExitCode.aborted;
  const someFailed = status.counts.failed + status.counts.unknown > 0;
  // `--no-wait` ending with rows deferred to their send window is a normal end, not an interruption.
  // So is a canary that stopped where it was told to.
  const deferredByRule = status.state === 'interrupted' && (status.stop?.code === 'deferred' || status.stop?.code === 'canary');
  // A run `bulktext cancel` stopped ends as one SIGINT stopped (but is not resumable).
  if ((status.state === 'interrupted' && !deferredByRule) || status.state === 'running' || status.state === 'cancelled') return ExitCode.interrupted;
  return someFailed ? ExitCode.someFailed : ExitCode.ok;
}

/** What `describeStatus` adds to the status object: why rows failed or were skipped, and how hints are written. */
export interface StatusDetail {
  hint: CommandHint;
  failures: readonly FailureLine[];
  skipped: readonly ReasonCount[];
}

/** The status details read from the ledger for `describeStatus`. */
export function statusDetail(ledger: Ledger, rid: number, hint: CommandHint): StatusDetail {
  return { hint, failures: runFailures(ledger, rid), skipped: skippedByReason(ledger, rid) };
}

/** Failure codes shown in the text status; the dashboard and `report --status failed` show every one. */
const TOP_FAILURES = 5;

export function describeStatus(s: RunStatus, d: StatusDetail): string {
  const c = s.counts;
  const skipped = d.skipped.length === 0 ? '' : ` (${d.skipped.map((r) => `${r.reason ?? '?'} ${r.count}`).join(', ')})`;
  const lines = [
    `run ${s.run_id} (${s.job})${s.sandbox ? ' [sandbox]' : ''}${s.test_to === null ? '' : ` [test to ${s.test_to.join(', ')}]`}: ${s.state}`,
    `  total ${c.total} · sent ${c.sent} · failed ${c.failed} · unknown ${c.unknown} · skipped ${c.skipped}${skipped} · pending ${c.pending}` +
      `${c.sending > 0 ? ` · sending ${c.sending}` : ''}${c.deferred > 0 ? ` · deferred ${c.deferred}` : ''}${c.expired > 0 ? ` · expired ${c.expired}` : ''}`,
  ];
  if (c.sent > 0) {
    const dl = s.delivery;
    const finals = (['delivery_failed', 'delivery_unconfirmed', 'sending_failed', 'expired'] as const).filter((k) => dl[k] > 0);
    lines.push(`  delivery: delivered ${dl.delivered}${finals.map((k) => ` · ${k} ${dl[k]}`).join('')} · awaiting ${dl.awaiting}`);
  }
  lines.push(`  cost ${s.cost.currency === null ? 'none yet' : `${s.cost.amount} ${s.cost.currency}`} for ${s.parts} part(s)${estimateVsActual(s)}`);
  if (d.failures.length > 0) {
    lines.push('  top failures:');
    for (const f of d.failures.slice(0, TOP_FAILURES)) {
      lines.push(`    ${String(f.count).padStart(7)}  ${(f.code ?? '-').padEnd(8)} ${f.status.padEnd(16)} ${f.title} — ${f.advice}`);
    }
    if (d.failures.length > TOP_FAILURES) lines.push(`    … ${d.failures.length - TOP_FAILURES} more code(s): ${d.hint(['report', s.run_id, '--status', 'failed,unknown'])}`);
  }
  if (s.stop !== null && s.state !== 'completed') lines.push(`  stopped: ${s.stop.code ?? ''} ${s.stop.detail ?? ''}`.trimEnd());
  if (c.unknown > 0) {
    lines.push(
      `  ${c.unknown} row(s) are unknown: Telnyx may have sent them. List them: ${d.hint(['report', s.run_id, '--status', 'unknown'])}`,
      `  send them again (those recipients may get two): ${d.hint(['resume', s.run_id, '--resend-unknown'])}`,
    );
  }
  if (s.state === 'interrupted' || s.state === 'aborted') lines.push(`  resume with: ${d.hint(['resume', s.run_id])}`);
  return `${lines.join('\n')}\n`;
}

/** " · estimated at start 0.1320 USD for 33 part(s) (+0.0040)", or nothing without an estimate. */
function estimateVsActual(s: RunStatus): string {
  if (s.estimate === null) return '';
  const e = s.estimate;
  const est = e.cost === null ? `${e.parts} part(s)` : `${e.cost.amount} ${e.cost.currency} for ${e.parts} part(s)`;
  const diff =
    e.cost !== null && s.cost.currency === e.cost.currency ? ` (${signed(subtractDecimals(s.cost.amount, e.cost.amount))} ${e.cost.currency})` : '';
  return ` · estimated at start ${est}${diff}`;
}

const signed = (amount: string) => (amount.startsWith('-') ? amount : `+${amount}`);

export async function sendRun(ledger: Ledger, run: RunRecord, spec: JobSpec, o: SendRunOptions, io: Io): Promise<number> {
  // The send path (undici, the simulator, the receiver) is loaded here, and metrics (prom-client) and the
  // dashboard only when asked for: `status` imports this module for describeStatus, and loading them all
  // at start-up cost it ~0.4 s of CPU before it read a row.
  const [{ sendPreparedRun }, { createRejectionLog, formatReceiverLog, resolvePublicKey }] = await Promise.all([
    import('../api/send-prepared-run.js'),
    import('./commands/webhooks.js'),
  ]);
  // Check the key before starting anything, so a missing one is a usage error, not a half-started run.
  const receiverKey = o.api !== undefined && o.webhooksPort !== undefined ? resolvePublicKey(undefined, io.env) : undefined;
  const rejections = createRejectionLog((line) => io.stderr(`webhooks: ${line}\n`));
  const before = o.counts ?? messageStoreOf(ledger).counts(run.rid);
  const progress = runProgressLine(io, o.quiet, before, spec.rate.messages_per_second);
  // Loaded only when asked for: prom-client (and the OpenTelemetry API it loads) was ~20 % of the start-up
  // before resume's first send.
  const metrics =
    o.metricsPort === undefined
      ? undefined
      : await (await import('../metrics/index.js')).startRunMetricsServer({ port: o.metricsPort, ledger });
  if (metrics !== undefined && !o.quiet) io.stderr(`metrics on ${metrics.url}\n`);
  const dashboard =
    o.dashboard?.port === undefined
      ? undefined
      : await (await import('./commands/dashboard.js')).startSideDashboard(o.dashboard.port, ledger.path, o.dashboard.db, io);
  let sent: SentRun;
  try {
    sent = await sendPreparedRun(ledger, run, spec, {
      api: o.api,
      wait: o.wait,
      canary: o.canary,
      account: o.account,
      webhooksPort: o.webhooksPort,
      publicKey: receiverKey,
      signal: io.signal,
      onEvent: (e) => {
        progress.onEvent(e);
        metrics?.onEvent(e);
      },
      onStart: (d) => {
        progress.attach(d);
        metrics?.attach(d);
      },
      onReceiverLog: (entry) => {
        if (entry.type === 'rejected') rejections.add(entry);
        else if (entry.type === 'error') io.stderr(`webhooks: ${formatReceiverLog(entry, Date.now())}\n`);
      },
      onReceiverListening: (listening) => {
        if (!o.quiet) io.stderr(`receiving delivery receipts on ${listening}\n`);
      },
      onSent: () => progress.stop(),
      ...(o.quiet ? {} : { onWaitingReceipts: (n: number) => io.stderr(`waiting for ${n} delivery receipt${n === 1 ? '' : 's'}…\n`) }),
    });
  } finally {
    progress.stop();
    await dashboard?.close();
    await metrics?.close();
    rejections.close();
  }
  if (sent.receiptsLeft > 0 && sent.sandbox && !o.quiet && !io.signal.aborted) {
    io.stderr(`${sent.receiptsLeft} receipt(s) did not arrive; \`${o.hint(['status', run.runId])}\` counts them as awaiting\n`);
  }
  const status = runStatus(ledger, runStoreOf(ledger).getRun(run.runId));
  if (o.json) io.stdout(`${JSON.stringify(status)}\n`);
  if (!o.quiet) io.stderr(describeStatus(status, statusDetail(ledger, run.rid, o.hint)));
  if (!o.quiet && sent.summary.oddAnswers > 0) {
    io.stderr(oddAnswersWarning(sent.summary.oddAnswers, true));
  }
  if (!o.quiet && status.stop?.code === 'canary') {
    io.stderr(`  check the canary: ${o.hint(['report', status.run_id])}\n`);
  }
  return exitCodeForStatus(status);
}
