/**
 * Sends a prepared run: owns the run's state in the ledger while the dispatcher works, and turns the
 * dispatcher's summary into the run's final state.
 */
import type { JobSpec } from '../config/job-spec.js';
import { Dispatcher, type DispatcherOptions, type DispatchEvent, type DispatchSummary } from '../dispatch/dispatcher.js';
import type { Ledger } from '../ledger/ledger.js';
import type { RunRecord } from '../ledger/run-store.js';
import type { RunState } from '../ledger/states.js';
import { createTelnyxClient } from '../telnyx/client.js';
import { createMessageSender, type SendTemplate } from '../telnyx/message-sender.js';
import { TelnyxCode, type SendKind } from '../telnyx/wire.js';
import { isAppError } from '../shared/errors.js';
import { cleanupAfter, ledgerStorageError } from '../ledger/storage-error.js';
import { currentProcess } from '../shared/process-probe.js';
import { createAdmission } from './admission.js';
import { withDailyCaps } from './daily-caps.js';
import { messagePrice } from './spend-estimate.js';
import type { AccountSpec } from '../config/account-spec.js';
import { limitModel, type LimitModel } from '../config/limit-model.js';
import { isMmsJob } from '../ingest/recipients.js';
import { SqliteLimitsStore } from '../ledger/limits-store.js';
import { SharedLimits } from '../dispatch/shared-limits.js';
import { randomBytes } from 'node:crypto';
import { senderCount } from './senders.js';
import { watchSuppressions } from './suppressions.js';
import { messageIdStoreOf } from '../ledger/message-id-store.js';
import { messageStoreOf } from '../ledger/message-store.js';
import { runStoreOf } from '../ledger/run-store.js';
import { abortedBy, cancelledAt, expiryReason, interruptedBySignal, optOutNumber, stopRefusals, waitingForWindow } from './run-stops.js';

export interface ExecuteRunOptions {
  apiKey: string;
  baseUrl: string;
  signal?: AbortSignal;
  onEvent?: (event: DispatchEvent) => void;
  /** Gives the caller the dispatcher (for the progress line's rate and in-flight count). */
  onStart?: (dispatcher: Dispatcher) => void;
  /** Wait for deferred rows' send windows to open (false: `--no-wait`, leave them for resume). @default true */
  wait?: boolean;
  /** Names the API in the stop reason when it cannot be reached. @default `TELNYX_BASE_URL <baseUrl>` */
  endpoint?: string;
  /** Per-request timeout. @default 30000 */
  requestTimeoutMs?: number;
  /**
   * `run --canary N`: send only the first N pending rows (in row order), then stop, resumable, with stop
   * code `canary`, so the operator can check them before `resume` sends the rest.
   */
  canary?: number;
  /** How often the ledger is asked whether `bulktext cancel` wants this run stopped. @default 1000 */
  cancelPollMs?: number;
  now?: () => number;
  /** The account file's limits and senders; without one the job's own figures stand for the account. */
  account?: AccountSpec | undefined;
}

export interface ExecuteResult {
  summary: DispatchSummary;
  state: RunState;
}

const kindByMode: Readonly<Record<JobSpec['sender']['mode'], SendKind>> = {
  long_code: 'long_code',
  number_pool: 'number_pool',
  short_code: 'short_code',
  alphanumeric: 'alphanumeric',
  messages: 'messages',
  group_mms: 'group_mms',
};

export function sendTemplate(spec: JobSpec): SendTemplate {
  const m = spec.message;
  const hasMedia = (m.media_urls?.length ?? 0) > 0;
  const type = m.type ?? (hasMedia && spec.sender.mode !== 'group_mms' ? 'MMS' : undefined);
  return {
    kind: kindByMode[spec.sender.mode],
    ...(spec.sender.messaging_profile_id === undefined ? {} : { messagingProfileId: spec.sender.messaging_profile_id }),
    ...(m.media_urls === undefined ? {} : { mediaUrls: m.media_urls }),
    ...(type === undefined || spec.sender.mode === 'group_mms' ? {} : { type }),
    ...(m.webhook_url === undefined ? {} : { webhookUrl: m.webhook_url }),
    ...(m.webhook_failover_url === undefined ? {} : { webhookFailoverUrl: m.webhook_failover_url }),
    ...(m.use_profile_webhooks === undefined ? {} : { useProfileWebhooks: m.use_profile_webhooks }),
    ...(m.auto_detect === undefined ? {} : { autoDetect: m.auto_detect }),
    ...(m.encoding === undefined ? {} : { encoding: m.encoding }),
  };
}

/** The dispatcher's rate, retry and sender settings for a job (every backend sends with the same). */
export function dispatchSettings(spec: JobSpec, model: LimitModel): Pick<DispatcherOptions, 'rate' | 'retry' | 'senderCount'> {
  return {
    rate: {
      messagesPerSecond: model.runCeiling,
      perSenderPerSecond: spec.rate.per_sender_per_second,
      maxConcurrent: spec.rate.max_concurrent,
      countParts: model.countParts,
    },
    retry: { attempts: spec.retry.attempts, minDelayMs: spec.retry.min_delay_ms, maxDelayMs: spec.retry.max_delay_ms },
    senderCount: senderCount(spec.sender),
  };
}

export async function executeRun(ledger: Ledger, run: RunRecord, spec: JobSpec, options: ExecuteRunOptions): Promise<ExecuteResult> {
  const now = options.now ?? Date.now;
  const rows = messageStoreOf(ledger);
  const runs = runStoreOf(ledger);
  const client = createTelnyxClient({
    apiKey: options.apiKey,
    baseUrl: options.baseUrl,
    connections: spec.rate.max_concurrent,
    timeoutMs: options.requestTimeoutMs ?? 30_000,
  });
  runs.setOwner(run.rid, currentProcess());
  const optedOut = watchSuppressions(ledger);
  // `bulktext cancel` runs in another process: it leaves a request in the ledger, and this process stops as
  // it would on SIGINT. One indexed read a second is all it costs.
  const cancel = new AbortController();
  const pollCancel = () => {
    if (!cancel.signal.aborted && runs.cancelRequested(run.rid)) cancel.abort(new Error('cancelled'));
  };
  pollCancel();
  const cancelPoll = setInterval(pollCancel, options.cancelPollMs ?? 1000);
  cancelPoll.unref();
  const signal = options.signal === undefined ? cancel.signal : AbortSignal.any([options.signal, cancel.signal]);
  // The canary's last row: rows after it stay pending for `resume`. Fewer pending rows than N: no cap.
  const lastRow = options.canary === undefined ? undefined : rows.nthPendingRow(run.rid, options.canary);
  let summary: DispatchSummary | undefined;
  let failed: unknown;
  let state: RunState = 'interrupted';
  const model = limitModel(spec, options.account, isMmsJob(spec));
  const me = currentProcess();
  const limits = new SharedLimits({ store: new SqliteLimitsStore(ledger), holder: `${me.host}:${me.pid}:${randomBytes(4).toString('hex')}`, model, now });
  try {
    runs.setRunState(run.rid, 'running');
    limits.start();
    const units = (m: { parts: number }) => (model.countParts ? Math.max(1, m.parts) : 1);
    const base = createAdmission(spec, run.startedAt, { wait: options.wait ?? true, optedOut });
    // Only 10DLC senders with a brand, and accounts with a spend cap, have a daily cap; other runs skip
    // the per-row day check.
    const capped = model.spendDay !== undefined || spec.sender.from.some((f) => model.sender(f).brandDay !== undefined);
    const price = model.spendDay === undefined || spec.pricing === undefined ? undefined : messagePrice(spec.pricing, isMmsJob(spec));
    const daily = capped ? withDailyCaps(base, limits, units, options.wait ?? true, price) : undefined;
    const admission = daily ?? base;
    const dispatcher = new Dispatcher({
      ledger: {
        nextPending:
          lastRow === undefined
            ? (after, limit) => rows.nextPending(run.rid, after, limit)
            : (after, limit) => rows.nextPending(run.rid, after, limit).filter((m) => m.row <= lastRow),
        nextDue: (at, limit) => rows.nextDue(run.rid, at, limit),
        nextDeferral: () => rows.nextDeferral(run.rid),
        commit: (b) => {
          rows.commit(run.rid, b);
          daily?.settled(b.outcomes);
          for (const o of stopRefusals(b.outcomes)) {
            const to = optOutNumber(rows.message(run.rid, o.row)?.to);
            if (to !== undefined) optedOut.add(to, TelnyxCode.blockedStop, o.errorDetail);
          }
        },
      },
      ...(admission === undefined ? {} : { admission }),
      limits,
      sender: createMessageSender(client, sendTemplate(spec)),
      ...dispatchSettings(spec, model),
      signal,
      ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
      now,
      endpoint: options.endpoint ?? `TELNYX_BASE_URL ${options.baseUrl}`,
    });
    options.onStart?.(dispatcher);
    summary = await dispatcher.run();
    // Send commits leave the message-id lookup out (ledger migration 5): catch it up in one sorted pass.
    messageIdStoreOf(ledger).indexMessageIds();
    if (summary.stop === 'fatal') {
      state = 'aborted';
      runs.setRunState(run.rid, 'aborted', abortedBy(summary, now()));
    } else if (summary.stop === 'expired') {
      rows.expireUnsent(run.rid, expiryReason(spec), now());
      state = rows.counts(run.rid).sending === 0 ? 'completed' : 'interrupted';
      runs.setRunState(run.rid, state, state === 'completed' ? { finishedAt: now(), stopCode: 'expired', stopDetail: 'expires_after passed' } : {});
    } else if (summary.stop === 'deferred') {
      state = 'interrupted';
      const opens = rows.nextDeferral(run.rid);
      runs.setRunState(run.rid, 'interrupted', waitingForWindow(opens));
    } else if (summary.stop === 'interrupted' && cancel.signal.aborted) {
      state = 'cancelled';
      // Nobody resumes a cancelled run: a request that never got its answer is in doubt for good.
      rows.markInFlightUnknown(run.rid, now());
      runs.setRunState(run.rid, 'cancelled', cancelledAt(now()));
    } else if (summary.stop === 'interrupted') {
      state = 'interrupted';
      runs.setRunState(run.rid, 'interrupted', interruptedBySignal);
    } else {
      const counts = rows.counts(run.rid);
      state = counts.pending === 0 && counts.sending === 0 && counts.deferred === 0 ? 'completed' : 'interrupted';
      if (state === 'interrupted' && lastRow !== undefined && counts.sending === 0) {
        runs.setRunState(run.rid, state, {
          stopCode: 'canary',
          stopDetail: `the first ${options.canary ?? 0} sendable row(s) were sent; check them, then resume to send the other ${counts.pending}`,
        });
      } else {
        runs.setRunState(run.rid, state, state === 'completed' ? { finishedAt: now() } : {});
      }
    }
    return { summary, state };
  } catch (thrown) {
    // While sending, a full disk or a broken file stops the run resumable (exit 4), never as a bug.
    const err = ledgerStorageError(thrown, ledger.path, 'sending');
    // The ledger itself may have failed (a full disk): then the run stays `running` under a dead owner,
    // which resume takes over. Either way the first error is the one reported.
    failed = cleanupAfter(err, () =>
      runs.setRunState(run.rid, 'interrupted', { stopCode: isAppError(err, 'ERR_LEDGER_IO') ? 'ledger_io' : 'internal', stopDetail: (err as Error).message }),
    );
    throw err;
  } finally {
    clearInterval(cancelPoll);
    limits.close();
    optedOut.stop();
    // Clearing the owner writes too: on a full disk it fails again, and must not hide why the run stopped.
    if (failed === undefined) runs.setOwner(run.rid, null);
    else cleanupAfter(failed, () => runs.setOwner(run.rid, null));
    await client.close().catch(() => {});
  }
}
