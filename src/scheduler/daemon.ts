/**
 * The scheduler daemon: runs every scheduled job in a directory at its cron slots, exactly once per
 * slot, never overlapping a job with itself, and sends exactly as `run` does (startRun + executeRun).
 *
 * - Timers: one per job, set to the job's next slot but never longer than `maxTimerMs` (60 s), so a
 *   clock that jumps (NTP, suspend) is noticed within a minute. Each wake asks decideMissedSlots what
 *   fell due since the job was last checked; only the latest due slot may run.
 * - Exactly once: a slot is claimed in the ledger (schedule_slots' primary key) before its run starts;
 *   a restarted daemon, or a second one on the same ledger, finds it taken. The last-checked time per
 *   job is kept in the ledger too, so a restart knows which slots it missed: within `catch_up` the
 *   latest runs at once, older ones (and later ones) are recorded `missed`.
 * - No overlap: a slot that comes while the job's previous run is still going (here, in another
 *   daemon, or a manual `run`) is recorded `skipped` with the reason. A previous scheduled run that
 *   was interrupted is resumed first, then the new slot's run starts.
 * - Different jobs run concurrently; runs wait for send windows (deferred rows) like `run` does.
 * - stop(): no new runs; current ones are interrupted through their signal (executeRun leaves them
 *   `interrupted`, resumable); resolves when they have settled.
 */
import { randomUUID } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { executeRun } from '../campaign/execute-run.js';
import { prepareResume, settleIfNothingLeft } from '../campaign/resume-run.js';
import { startRun } from '../campaign/start-run.js';
import type { AccountSpec } from '../config/account-spec.js';
import { checkSpendCap, resolveSenders } from '../config/limit-model.js';
import { publicState } from '../campaign/status.js';
import type { JobSpec } from '../config/job-spec.js';
import { describeSkipped } from '../ingest/index.js';
import { Ledger } from '../ledger/ledger.js';
import type { RunRecord } from '../ledger/run-store.js';
import type { RunMetrics } from '../metrics/run-metrics.js';
import type { Health } from '../metrics/server.js';
import { decideMissedSlots, nextSlots, slotKey } from '../schedule/slots.js';
import { storageCode } from '../ledger/storage-error.js';
import { AppError, describeError, isAppError } from '../shared/errors.js';
import { awaitingReceipts, awaitReceipts, startSandbox, type Sandbox } from '../campaign/sandbox.js';
import { formatDuration, formatLocal } from './firings.js';
import { loadJobSet, type ScheduledJob } from './job-set.js';
import { currentProcess, daemonAlive, markDaemonGone, markDaemonLive } from './liveness.js';
import { slotStoreOf, type SlotStore } from '../ledger/slot-store.js';
import { leaderStoreOf, type LeaderStore } from '../ledger/leader-store.js';
import { Leadership } from './leadership.js';
import { andThen, type MaybePromise } from '../shared/maybe-promise.js';
import { messageStoreOf } from '../ledger/message-store.js';
import { runStoreOf } from '../ledger/run-store.js';

export type SchedulerLogLevel = 'info' | 'warn' | 'error';

/** Where runs send: real credentials, a simulator URL (`sandbox: true` marks runs as sandbox runs), or a simulator the scheduler starts. */
export type SchedulerApi = { apiKey: string; baseUrl: string; sandbox?: boolean } | 'sandbox';

export interface SchedulerOptions {
  /** Directory of job files (*.yaml, *.yml, *.json); those with a `schedule` are run. */
  jobsDir: string;
  /** An open ledger (the caller closes it) or a path (the scheduler opens it and closes it on stop). */
  ledger: Ledger | string;
  api: SchedulerApi;
  /** Wall clock for slots, windows and deadlines. @default Date.now */
  now?: () => number;
  /** The account file: limits shared with every other process on the ledger, and sender groups. */
  account?: AccountSpec | undefined;
  /** One line per event worth a log line (slots, run start/finish, progress, errors). */
  onLog?: (level: SchedulerLogLevel, message: string) => void;
  /** Send metrics fed from every run's dispatcher events. */
  metrics?: RunMetrics;
  /** Reload when a file in `jobsDir` changes. @default true */
  watch?: boolean;
  /** Debounce for directory changes, ms. @default 500 */
  watchDebounceMs?: number;
  /** Heartbeat (and ledger write check) interval, ms; at most 30000. @default 15000 */
  heartbeatMs?: number;
  /** Interval of a running job's progress line, ms. @default 30000 */
  progressIntervalMs?: number;
  /** Longest timer; the schedule is re-read from the clock at least this often, ms. @default 60000 */
  maxTimerMs?: number;
  /** The scheduler's tables, for the opened ledger. @default the SQLite ledger's own (slotStoreOf) */
  slotStore?: (ledger: Ledger) => SlotStore;
  /** The leader lease, for the opened ledger. @default the SQLite ledger's own (leaderStoreOf) */
  leaderStore?: (ledger: Ledger) => LeaderStore;
  /**
   * How long the leader's lease runs unrenewed, ms: a dead leader is replaced within this plus a fifth of it
   * (the renewal interval). @default 10000
   */
  leaseMs?: number;
  /**
   * How late a slot may be noticed by a running daemon and still run, when the job's `catch_up` is
   * shorter: timers fire a little late, and that is not downtime. @default 10000
   */
  lateToleranceMs?: number;
}

export interface JobFiring {
  job: string;
  file: string;
  cron: string;
  timezone: string;
  /** The next slot (epoch ms); undefined when the pattern has no more. */
  next: number | undefined;
  /** Whether the job is sending (or resuming) a run now. */
  running: boolean;
}

export type ReloadResult =
  | { ok: true; added: string[]; removed: string[]; changed: string[] }
  | { ok: false; error: string };

export interface Scheduler {
  readonly daemonId: string;
  readonly ledger: Ledger;
  /** Re-reads the jobs directory; a bad file keeps the current job set (and is logged). */
  reload(): Promise<ReloadResult>;
  /** Stops starting runs, interrupts current ones (resumable), and resolves when they have settled. */
  stop(): Promise<void>;
  nextFirings(): JobFiring[];
  /** Healthy while the loop beats and the ledger takes writes (leading or standing by). */
  health(): Health;
  /** Whether this daemon leads (fires slots) now; a standby does not. */
  leading(): boolean;
  /** Resolves when no run is being sent. */
  idle(): Promise<void>;
}

/** A claim by a daemon whose heartbeat is older than this is not trusted to be alive. */
const HEARTBEAT_STALE_MS = 120_000;

interface JobEntry {
  job: ScheduledJob;
  /** Every slot at or before this instant has been decided. */
  lastChecked: number;
  /** A check of its slots is under way (it ends by arming the timer again). */
  checking: boolean;
  nextAt: number | undefined;
  timer: NodeJS.Timeout | undefined;
}

interface ActiveWork {
  slot: string;
  runId: string | undefined;
  controller: AbortController;
  promise: Promise<void>;
}

const iso = (t: number) => new Date(t).toISOString();
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Loads and validates every job file in `jobsDir` (refusing to start, naming each bad file, if any is
 * invalid), then runs each scheduled job at its slots until stop().
 * @throws AppError ERR_JOB_SPEC_INVALID / ERR_JOB_FILE_UNREADABLE for bad job files or directory,
 *   ERR_USAGE when no job file has a schedule
 */
export async function startScheduler(options: SchedulerOptions): Promise<Scheduler> {
  const clock = options.now ?? Date.now;
  const log = (level: SchedulerLogLevel, text: string) => options.onLog?.(level, text);
  const heartbeatMs = Math.min(30_000, Math.max(10, options.heartbeatMs ?? 15_000));
  const maxTimerMs = Math.max(10, options.maxTimerMs ?? 60_000);
  const lateToleranceMs = Math.max(0, options.lateToleranceMs ?? 10_000);
  const progressIntervalMs = Math.max(100, options.progressIntervalMs ?? 30_000);
  const jobsDir = path.resolve(options.jobsDir);

  const checkJob = (spec: JobSpec): void => checkSpendCap(spec, options.account);
  const initial = await loadJobSet(jobsDir, checkJob);
  if (initial.jobs.length === 0) {
    const others = initial.unscheduled.length === 0 ? 'it has no job files' : `${initial.unscheduled.length} job file(s) there have none`;
    throw new AppError('ERR_USAGE', `no job file in ${jobsDir} has a schedule (${others}); add schedule: { cron, timezone } to a job`);
  }

  const ownsLedger = typeof options.ledger === 'string';
  const ledger = typeof options.ledger === 'string' ? new Ledger(options.ledger) : options.ledger;
  const me = currentProcess();
  const daemonId = `${me.host}-${me.pid}-${randomUUID().slice(0, 8)}`;
  let store: SlotStore;
  let leaderStore: LeaderStore;
  let simulator: Sandbox | undefined;
  let api: { apiKey: string; baseUrl: string; sandbox: boolean };
  try {
    store = (options.slotStore ?? slotStoreOf)(ledger);
    leaderStore = (options.leaderStore ?? leaderStoreOf)(ledger);
    await store.registerDaemon({ daemonId, ...me }, Date.now());
    if (options.api === 'sandbox') {
      // Its receipts go to a receiver on this ledger, so sandbox runs end with delivery statuses too.
      simulator = await startSandbox(ledger, {}, (entry) => {
        if (entry.type === 'rejected' || entry.type === 'error') log('warn', `sandbox receipts: ${entry.type === 'error' ? entry.detail : entry.reason}`);
      });
      api = { apiKey: 'sandbox', baseUrl: simulator.baseUrl, sandbox: true };
    } else {
      api = { apiKey: options.api.apiKey, baseUrl: options.api.baseUrl, sandbox: options.api.sandbox === true };
    }
  } catch (err) {
    if (ownsLedger) ledger.close();
    throw err;
  }
  markDaemonLive(daemonId);

  const entries = new Map<string, JobEntry>();
  const active = new Map<string, ActiveWork>();
  let stopping = false;
  let stopped: Promise<void> | undefined;
  let loopBeatAt = Date.now();
  let ledgerWriteAt = Date.now();
  let ledgerError: string | undefined;
  /** What /healthz says of the last ledger failure: what failed and its code, never the message (messages name files). */
  let ledgerErrorCode: string | undefined;

  const ledgerOk = () => {
    ledgerWriteAt = Date.now();
    ledgerError = undefined;
    ledgerErrorCode = undefined;
  };
  const ledgerFailed = (what: string, err: unknown) => {
    const text = `${what}: ${message(err)}`;
    if (ledgerError !== text) log('error', `ledger: ${text}`);
    ledgerError = text;
    ledgerErrorCode = `${what} (${storageCode(err) ?? (isAppError(err) ? err.code : 'ERR_INTERNAL')})`;
  };

  const beat = async (at: number): Promise<void> => {
    try {
      await store.heartbeat(daemonId, at);
      ledgerOk();
    } catch (err) {
      ledgerFailed('heartbeat write failed', err);
    }
  };
  const heartbeat = setInterval(() => {
    loopBeatAt = Date.now();
    void beat(loopBeatAt);
  }, heartbeatMs);

  /** Checks of job schedules under way: stop() lets them end before it closes the ledger. */
  const checks = new Set<Promise<void>>();

  // ---- leading or standing by ---------------------------------------------------------------------

  const leaseMs = Math.max(100, options.leaseMs ?? 10_000);
  const leadership = new Leadership({
    daemonId,
    store: leaderStore,
    leaseMs,
    renewMs: Math.max(20, Math.floor(leaseMs / 5)),
    // A holder this host sees dead (its pid gone) or that recorded its stop need not be waited out.
    holderDead: (holder) => andThen(store.daemon(holder), (d) => d !== undefined && !daemonAlive(d, Date.now(), HEARTBEAT_STALE_MS)),
    events: {
      onLead: (from) => {
        log('info', `scheduler ${daemonId} leads${from === undefined ? '' : ` (taking over from scheduler ${from})`}: it fires the slots`);
        void takeOver();
      },
      onLose: (why) => {
        log('warn', `scheduler ${daemonId} no longer leads (${why}): it fires no new slots${active.size > 0 ? `; runs under way go on (${[...active.keys()].join(', ')})` : ''}`);
        for (const e of entries.values()) arm(e);
      },
      onStandby: (holder) => log('info', `scheduler ${daemonId} stands by: ${holder === undefined ? 'nobody' : `scheduler ${holder}`} leads; it takes over if the lease (${formatDuration(leaseMs)}) runs out`),
      onStoreError: (err) => ledgerFailed('leader lease write failed', err),
      onStoreOk: () => ledgerOk(),
    },
  });

  /**
   * This daemon has just become the leader: what the previous one left is decided as at a start. Its
   * interrupted run is resumed and its claimed slots taken over (recoverClaims), and the slots due while
   * nobody led run within catch_up or are recorded missed (check with `startup`).
   */
  const takeOver = async (): Promise<void> => {
    for (const entry of entries.values()) {
      try {
        const checked = await store.lastChecked(entry.job.name);
        if (checked !== undefined && checked > entry.lastChecked) entry.lastChecked = checked;
        await recoverClaims(entry);
        await check(entry, true);
      } catch (err) {
        ledgerFailed(`taking over job ${entry.job.name}`, err);
        arm(entry, Math.min(maxTimerMs, 5000));
      }
    }
  };

  // ---- why a job cannot start a run now -------------------------------------------------------

  // Asked inside the claim's transaction: it answers at once when the store does (see SlotStore.claim).
  const busyReason = (name: string, slot: string): MaybePromise<string | undefined> => {
    const mine = active.get(name);
    if (mine !== undefined) {
      return `the previous run${mine.runId === undefined ? '' : ` ${mine.runId}`} (slot ${mine.slot}) is still going`;
    }
    return andThen(store.openClaims(name), (claims) => {
      for (const { slot: open, daemon } of claims) {
        if (open.slot === slot || daemon === undefined || !daemonAlive(daemon, Date.now(), HEARTBEAT_STALE_MS)) continue;
        return `slot ${open.slot}${open.runId === null ? '' : ` (run ${open.runId})`} is still being run by another scheduler (pid ${daemon.pid} on ${daemon.host})`;
      }
      return andThen(store.unsettledRunIds(name), (runIds) => {
        for (const runId of runIds) {
          const run = runStoreOf(ledger).findRun(runId);
          if (run !== undefined && publicState(run) === 'running') {
            return `run ${runId} of this job is still running (pid ${run.ownerPid ?? '?'} on ${run.ownerHost ?? '?'})`;
          }
        }
        return undefined;
      });
    });
  };

  // ---- sending ----------------------------------------------------------------------------------

  const describeCounts = (rid: number): string => {
    const c = messageStoreOf(ledger).counts(rid);
    const parts = [`sent ${c.sent}`, `failed ${c.failed}`, `unknown ${c.unknown}`, `skipped ${c.skipped}`];
    if (c.expired > 0) parts.push(`expired ${c.expired}`);
    if (c.deferred > 0) parts.push(`deferred ${c.deferred}`);
    if (c.pending > 0) parts.push(`pending ${c.pending}`);
    return parts.join(' · ');
  };

  /** Sends a prepared run to its end (or until `signal`), with progress lines. */
  const send = async (label: string, run: RunRecord, spec: JobSpec, signal: AbortSignal): Promise<void> => {
    const t0 = performance.now();
    const tally = { sent: 0, failed: 0, unknown: 0, deferred: 0, expired: 0, retries: 0 };
    let waitingUntil: number | undefined;
    const progress = setInterval(() => {
      const waiting = waitingUntil === undefined ? '' : ` · waiting for the send window (opens ${iso(waitingUntil)})`;
      log(
        'info',
        `${label}: run ${run.runId} sending: sent ${tally.sent} · failed ${tally.failed} · unknown ${tally.unknown}` +
          ` · deferred ${tally.deferred} · expired ${tally.expired} · retries ${tally.retries}${waiting}`,
      );
    }, progressIntervalMs);
    progress.unref();
    let detach: (() => void) | undefined;
    try {
      // Rows a dead daemon's sandbox accepted (a resumed run) never get a receipt: not waited for below.
      const orphaned = simulator === undefined ? 0 : awaitingReceipts(ledger, run.rid);
      const result = await executeRun(ledger, run, spec, {
        apiKey: api.apiKey,
        baseUrl: api.baseUrl,
        signal,
        wait: true,
        now: clock,
        account: options.account,
        onEvent: (e) => {
          if (e.type === 'outcome') tally[e.status]++;
          else if (e.type === 'retry') tally.retries++;
          else if (e.type === 'deferred') tally.deferred++;
          else if (e.type === 'expired') tally.expired++;
          else if (e.type === 'waiting') waitingUntil = e.until;
          options.metrics?.onEvent(e);
        },
        onStart: (d) => {
          detach = options.metrics?.attach(d);
        },
      });
      if (simulator !== undefined && result.state === 'completed') {
        await awaitReceipts(ledger, run.rid, { signal, orphaned, onWaiting: (n) => log('info', `${label}: run ${run.runId} waiting for ${n} delivery receipts…`) });
      }
      const after = runStoreOf(ledger).getRun(run.runId);
      const stop = result.state === 'completed' || after.stopCode === null ? '' : ` (${after.stopCode}: ${after.stopDetail ?? ''})`;
      log(
        result.state === 'completed' ? 'info' : 'warn',
        `${label}: run ${run.runId} ${result.state} in ${((performance.now() - t0) / 1000).toFixed(1)}s: ${describeCounts(run.rid)}${stop}`,
      );
    } finally {
      clearInterval(progress);
      detach?.();
    }
  };

  /** Resumes the job's latest scheduled run first when it was interrupted or aborted. */
  const resumePrevious = async (name: string, slot: string, signal: AbortSignal): Promise<void> => {
    const previousId = await store.latestScheduledRunId(name);
    if (previousId !== undefined) await resumeRun(name, previousId, `before slot ${slot}`, signal);
  };

  /** Resumes a scheduled run when it was interrupted or aborted, as `bulktext resume` would: rows in flight become unknown, never resent. */
  const resumeRun = async (name: string, runId: string, when: string, signal: AbortSignal): Promise<void> => {
    const previous = runStoreOf(ledger).findRun(runId);
    if (previous === undefined) return;
    const state = publicState(previous);
    if (state !== 'interrupted' && state !== 'aborted') return;
    if (previous.sandbox !== api.sandbox) {
      // A sandbox run resumed against the real API would text real people, and the reverse would mark
      // rows sent that never were.
      log('warn', `job ${name}: not resuming ${state} run ${previous.runId}: it is a ${previous.sandbox ? 'sandbox' : 'real'} run and this scheduler sends to ${api.sandbox ? 'the sandbox' : 'the real API'}`);
      return;
    }
    const label = `job ${name} slot ${previous.slot ?? '?'} (resumed ${when})`;
    log('info', `job ${name}: the previous run ${previous.runId} (slot ${previous.slot ?? '?'}) is ${state}; resuming it ${when}`);
    try {
      const prepared = await prepareResume(ledger, previous.runId, { signal });
      if (prepared.inDoubt > 0) {
        log('warn', `${label}: ${prepared.inDoubt} row(s) were in flight when the run stopped; they are now unknown (Telnyx may have sent them) and are not sent again`);
      }
      if (settleIfNothingLeft(ledger, prepared.run, messageStoreOf(ledger).counts(prepared.run.rid), clock())) {
        log('info', `${label}: run ${previous.runId} had nothing left to send: ${describeCounts(prepared.run.rid)}`);
        return;
      }
      await send(label, prepared.run, prepared.spec, signal);
    } catch (err) {
      log('error', `${label}: could not resume run ${previous.runId}: ${message(err)}`);
    }
  };

  /**
   * The work of one claimed slot: resume what was interrupted, then start and send the slot's run. With
   * `takenOverRunId` the slot already has that run (its daemon died while sending it): resume it, nothing else.
   */
  const runSlot = (entry: JobEntry, slot: string, takenOverRunId?: string): void => {
    const { name, spec } = { name: entry.job.name, spec: entry.job.spec };
    const label = `job ${name} slot ${slot}`;
    const work: ActiveWork = { slot, runId: undefined, controller: new AbortController(), promise: Promise.resolve() };
    const signal = work.controller.signal;
    active.set(name, work);
    // A slot claimed while stop() waited for the checks under way is interrupted like the running ones.
    if (stopping) work.controller.abort(new AppError('ERR_INTERRUPTED', 'the scheduler is stopping'));
    const skip = async (reason: string) => {
      try {
        await store.finish(name, slot, clock(), reason);
      } catch (err) {
        ledgerFailed(`recording ${label} as skipped failed`, err);
      }
    };
    work.promise = (async () => {
      try {
        if (takenOverRunId !== undefined) {
          work.runId = takenOverRunId;
          await resumeRun(name, takenOverRunId, 'after taking its slot over', signal);
          return;
        }
        await resumePrevious(name, slot, signal);
        if (signal.aborted) {
          await skip('the scheduler stopped before this slot\'s run began');
          log('warn', `${label}: not started: the scheduler is stopping`);
          return;
        }
        let run: RunRecord;
        // Linking the slot to its run is awaited before anything else is recorded of the slot.
        let linked: Promise<void> = Promise.resolve();
        try {
          const started = await startRun(ledger, resolveSenders(spec, options.account), {
            sandbox: api.sandbox,
            trigger: 'schedule',
            slot,
            signal,
            now: clock,
            onCreated: (r) => {
              work.runId = r.runId;
              linked = Promise.resolve(store.setRun(name, slot, r.runId));
            },
          });
          await linked;
          run = started.run;
          const skippedAtIngest = describeSkipped(started.ingest.skipped);
          log(
            'info',
            `${label}: run ${run.runId} started${api.sandbox ? ' [sandbox]' : ''}: read ${started.ingest.total} rows, ${started.ingest.sendable} to send` +
              `${skippedAtIngest === '' ? '' : `, skipped ${skippedAtIngest}`}`,
          );
        } catch (err) {
          await linked.catch(() => undefined);
          const reason = signal.aborted ? 'the scheduler stopped while the source was being read; nothing was sent' : `the run could not start: ${message(err)}`;
          await skip(reason);
          log(signal.aborted ? 'warn' : 'error', `${label}: skipped: ${reason}`);
          return;
        }
        await send(label, run, spec, signal);
      } catch (err) {
        log('error', `${label}: ${describeError(err)}`);
      } finally {
        try {
          await store.finish(name, slot, clock());
          ledgerOk();
        } catch (err) {
          ledgerFailed(`finishing ${label} failed`, err);
        }
        if (active.get(name) === work) active.delete(name);
      }
    })();
  };

  /** A slot is due: claim it (or record it skipped) and run it. False when this daemon no longer leads: the slot is left to the leader. */
  const fire = async (entry: JobEntry, slotAt: number, now: number): Promise<boolean> => {
    const name = entry.job.name;
    const slot = slotKey(slotAt);
    if (!leadership.leading) {
      log('warn', `job ${name} slot ${slot}: not fired: this scheduler no longer leads`);
      return false;
    }
    let claim;
    try {
      claim = await store.claim(name, slot, daemonId, now, () => busyReason(name, slot));
      ledgerOk();
    } catch (err) {
      ledgerFailed(`claiming job ${name} slot ${slot} failed`, err);
      throw err;
    }
    if (claim.kind === 'taken') {
      const by = claim.existing.daemonId === daemonId ? 'this scheduler' : 'another scheduler';
      log('info', `job ${name} slot ${slot}: already ${claim.existing.state} by ${by}${claim.existing.runId === null ? '' : ` (run ${claim.existing.runId})`}; not running it again`);
      return true;
    }
    if (claim.kind === 'skipped') {
      log('warn', `job ${name} slot ${slot}: skipped: ${claim.reason}`);
      return true;
    }
    const late = now - slotAt;
    log('info', `job ${name} slot ${slot}: firing${late >= 1000 ? ` (${formatDuration(Math.floor(late / 1000) * 1000)} late)` : ''}`);
    runSlot(entry, slot);
    return true;
  };

  // ---- timers -----------------------------------------------------------------------------------

  const arm = (entry: JobEntry, retryInMs?: number): void => {
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = undefined;
    if (stopping || entries.get(entry.job.name) !== entry) return;
    // A standby sets no timer (the leader decides the slots) but says when the job's next slot is.
    const leading = leadership.leading;
    const next = nextSlots(entry.job.spec.schedule, leading ? entry.lastChecked : Math.max(entry.lastChecked, clock()), 1)[0];
    if (next === undefined && entry.nextAt !== undefined) log('warn', `job ${entry.job.name}: its cron pattern has no more slots`);
    entry.nextAt = next;
    if (next === undefined || !leading) return;
    const delay = retryInMs ?? Math.min(maxTimerMs, Math.max(0, next - clock()));
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      check(entry, false).catch((err: unknown) => {
        // A bug here must not take every other job down with it: log, and look again shortly.
        log('error', `job ${entry.job.name}: internal error while checking its schedule: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        if (entry.timer === undefined) arm(entry, Math.min(maxTimerMs, 5000));
      });
    }, delay);
  };

  /**
   * Decides every slot due since the job was last checked: the latest runs if it is not too late,
   * the rest are recorded missed. `startup`: the daemon was down until now, so `catch_up` applies
   * as written; otherwise a little timer lateness is forgiven.
   */
  const check = async (entry: JobEntry, startup: boolean): Promise<void> => {
    // One check of a job at a time; the one under way arms the timer again when it ends. Only the leader checks.
    if (stopping || entry.checking || !leadership.leading) return;
    entry.checking = true;
    const done = checkSlots(entry, startup).finally(() => {
      entry.checking = false;
      checks.delete(done);
    });
    checks.add(done);
    return done;
  };

  const checkSlots = async (entry: JobEntry, startup: boolean): Promise<void> => {
    loopBeatAt = Date.now();
    const now = clock();
    const { job } = entry;
    if (now > entry.lastChecked) {
      const schedule = job.spec.schedule;
      const catchUp = startup ? schedule.catch_up : Math.max(schedule.catch_up, lateToleranceMs);
      const decision = decideMissedSlots(schedule, entry.lastChecked, now, catchUp);
      const latest = decision.missed.at(-1);
      const missed = decision.missed.map((at) => ({
        slot: slotKey(at),
        reason:
          `not checked in time: the scheduler did not look between ${iso(entry.lastChecked)} and ${iso(now)}` +
          (decision.run === undefined && at === latest
            ? `, and at ${formatDuration(Math.floor((now - at) / 1000) * 1000)} late this slot is more than catch_up (${formatDuration(schedule.catch_up)}) late`
            : '; only the latest slot due may catch up'),
      }));
      try {
        // A daemon that stopped leading decides nothing: the slots stay for the leader to decide.
        if (decision.run !== undefined && !(await fire(entry, decision.run, now))) return;
        if (!leadership.leading) return;
        const recorded = await store.recordChecked(job.name, now, missed, daemonId, now);
        ledgerOk();
        entry.lastChecked = now;
        if (recorded > 0) {
          const first = missed[0]!.slot;
          const last = missed.at(-1)!.slot;
          log('warn', `job ${job.name}: ${recorded} slot(s) missed${recorded > 1 ? ` (${first} … ${last})` : ` (${first})`}: ${missed.at(-1)!.reason}`);
        }
        if (decision.moreMissed) log('warn', `job ${job.name}: more slots were missed than are recorded (only the latest ${missed.length})`);
      } catch (err) {
        ledgerFailed(`checking job ${job.name}`, err);
        arm(entry, Math.min(maxTimerMs, 5000));
        return;
      }
    }
    arm(entry);
  };

  // ---- the job set ------------------------------------------------------------------------------

  const describeJob = (entry: JobEntry): string => {
    const s = entry.job.spec.schedule;
    const next = entry.nextAt === undefined ? 'none' : `${iso(entry.nextAt)} (${formatLocal(entry.nextAt, s.timezone)})`;
    return `job ${entry.job.name} (${path.relative(jobsDir, entry.job.file) || entry.job.file}): cron "${s.cron}" ${s.timezone}, catch_up ${formatDuration(s.catch_up)}; next firing ${next}`;
  };

  /**
   * Slots a scheduler claimed and then died before their run began (kill -9 right after "firing"): the
   * claim blocks every other daemon from the slot, and the dead one will never start it. The latest
   * runs now if it is within catch_up; the others, and a latest one too late, are recorded missed.
   */
  const recoverClaims = async (entry: JobEntry): Promise<void> => {
    const { job } = entry;
    const now = clock();
    const orphans = (await store.openClaims(job.name)).filter(({ daemon }) => daemon === undefined || !daemonAlive(daemon, Date.now(), HEARTBEAT_STALE_MS)).reverse();
    for (const { slot } of orphans) {
      const label = `job ${job.name} slot ${slot.slot}`;
      const run = slot.runId === null ? undefined : runStoreOf(ledger).findRun(slot.runId);
      if (run !== undefined) {
        // Its daemon died while the run was going: resume the run now (a job runs one thing at a time, so
        // with something already going here it waits for the job's next slot, which resumes it first).
        if (active.has(job.name)) continue;
        const why = `claimed by scheduler ${slot.daemonId ?? '?'}, which stopped while its run ${run.runId} was going`;
        if (!(await store.reclaim(job.name, slot.slot, slot.daemonId, daemonId, now, `taken over: ${why}`))) continue;
        log('warn', `${label}: ${why}; taking the slot over`);
        runSlot(entry, slot.slot, run.runId);
        continue;
      }
      const late = now - Date.parse(slot.slot);
      const why = `claimed by scheduler ${slot.daemonId ?? '?'} at ${iso(slot.recordedAt)}, which stopped before the slot's run began`;
      const lateText = formatDuration(Math.max(0, Math.floor(late / 1000) * 1000));
      if (late <= job.spec.schedule.catch_up && !active.has(job.name)) {
        if (!(await store.reclaim(job.name, slot.slot, slot.daemonId, daemonId, now, `recovered: ${why}`))) continue;
        log('warn', `${label}: ${why}; running it now (${lateText} late, within catch_up ${formatDuration(job.spec.schedule.catch_up)})`);
        runSlot(entry, slot.slot);
      } else {
        const reason =
          `${why}; ` +
          (active.has(job.name) ? 'a later slot of the job runs instead' : `${lateText} late, more than catch_up (${formatDuration(job.spec.schedule.catch_up)})`);
        if (await store.markMissed(job.name, slot.slot, slot.daemonId, daemonId, now, reason)) log('warn', `${label}: missed: ${reason}`);
      }
    }
  };

  const addJob = async (job: ScheduledJob): Promise<void> => {
    let lastChecked = await store.lastChecked(job.name);
    if (lastChecked === undefined) {
      // A job the ledger has never seen starts now: there is no downtime to catch up on.
      lastChecked = clock();
      await store.recordChecked(job.name, lastChecked, [], daemonId, lastChecked);
    }
    const entry: JobEntry = { job, lastChecked, checking: false, nextAt: undefined, timer: undefined };
    entries.set(job.name, entry);
    if (leadership.leading) {
      await recoverClaims(entry);
      await check(entry, true);
    } else {
      arm(entry);
    }
    log('info', describeJob(entry));
  };

  let reloading: Promise<ReloadResult> = Promise.resolve({ ok: true, added: [], removed: [], changed: [] });
  const reload = (): Promise<ReloadResult> => {
    reloading = reloading.then(async (): Promise<ReloadResult> => {
      if (stopping) return { ok: false, error: 'the scheduler is stopping' };
      let set;
      try {
        set = await loadJobSet(jobsDir, checkJob);
      } catch (err) {
        log('error', `reload failed; keeping the ${entries.size} job(s) already loaded: ${message(err)}`);
        return { ok: false, error: message(err) };
      }
      if (stopping) return { ok: false, error: 'the scheduler is stopping' };
      const result = { ok: true as const, added: [] as string[], removed: [] as string[], changed: [] as string[] };
      const wanted = new Map(set.jobs.map((j) => [j.name, j]));
      for (const [name, entry] of entries) {
        if (wanted.has(name)) continue;
        if (entry.timer !== undefined) clearTimeout(entry.timer);
        entries.delete(name);
        result.removed.push(name);
        log('info', `job ${name}: removed (its file is gone or has no schedule)${active.has(name) ? '; its current run continues' : ''}`);
      }
      for (const job of set.jobs) {
        const entry = entries.get(job.name);
        try {
          if (entry === undefined) {
            await addJob(job);
            result.added.push(job.name);
          } else if (entry.job.fingerprint !== job.fingerprint) {
            entry.job = job;
            arm(entry);
            result.changed.push(job.name);
            log('info', `changed: ${describeJob(entry)}`);
          }
        } catch (err) {
          ledgerFailed(`adding job ${job.name}`, err);
        }
      }
      if (set.jobs.length === 0) log('warn', `no job file in ${jobsDir} has a schedule now; nothing will run until one does`);
      return result;
    });
    return reloading;
  };

  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  if (options.watch !== false) {
    try {
      watcher = watch(jobsDir, { persistent: false }, () => {
        if (debounce !== undefined) clearTimeout(debounce);
        debounce = setTimeout(() => {
          debounce = undefined;
          void reload();
        }, options.watchDebounceMs ?? 500);
      });
      watcher.on('error', (err) => log('warn', `watching ${jobsDir} failed (${err.message}); reload with SIGHUP`));
    } catch (err) {
      log('warn', `cannot watch ${jobsDir} (${message(err)}); reload with SIGHUP`);
    }
  }

  try {
    await leadership.start();
    for (const job of initial.jobs) await addJob(job);
  } catch (err) {
    // Only a ledger failure gets here: do not leave a half-started daemon behind.
    stopping = true;
    clearInterval(heartbeat);
    await leadership.close();
    await Promise.resolve(leadership.release()).catch(() => undefined);
    watcher?.close();
    for (const e of entries.values()) if (e.timer !== undefined) clearTimeout(e.timer);
    markDaemonGone(daemonId);
    await simulator?.close();
    if (ownsLedger) ledger.close();
    throw err;
  }
  log('info', `scheduler ${daemonId} started: ${entries.size} job(s) from ${jobsDir}, ledger ${ledger.path}${api.sandbox ? ', sending to the sandbox simulator' : ''}`);

  const idle = async (): Promise<void> => {
    while (active.size > 0) await Promise.allSettled([...active.values()].map((a) => a.promise));
  };

  return {
    daemonId,
    ledger,
    reload,
    nextFirings: () =>
      [...entries.values()].map((e) => ({
        job: e.job.name,
        file: e.job.file,
        cron: e.job.spec.schedule.cron,
        timezone: e.job.spec.schedule.timezone,
        // A standby arms no timers: its next slot is read from the clock.
        next: leadership.leading ? e.nextAt : nextSlots(e.job.spec.schedule, Math.max(e.lastChecked, clock()), 1)[0],
        running: active.has(e.job.name),
      })),
    health: () => {
      const now = Date.now();
      const loopAgeMs = now - loopBeatAt;
      const loopAlive = loopAgeMs <= 3 * heartbeatMs + 1000;
      return {
        ok: !stopping && loopAlive && ledgerError === undefined,
        detail: {
          daemon_id: daemonId,
          stopping,
          loop: { alive: loopAlive, last_beat_ms_ago: loopAgeMs },
          // No file paths: /healthz may be reachable by more people than the ledger should be known to.
          ledger: { writable: ledgerError === undefined, last_write_at: iso(ledgerWriteAt), ...(ledgerErrorCode === undefined ? {} : { error: ledgerErrorCode }) },
          leader: leadership.leading,
          jobs: entries.size,
          running: [...active.keys()],
        },
      };
    },
    idle,
    leading: () => leadership.leading,
    stop: () => {
      stopped ??= (async () => {
        stopping = true;
        clearInterval(heartbeat);
        const closing = leadership.close();
        if (debounce !== undefined) clearTimeout(debounce);
        watcher?.close();
        for (const e of entries.values()) if (e.timer !== undefined) clearTimeout(e.timer);
        if (active.size > 0) log('info', `stopping: interrupting ${[...active.keys()].join(', ')} (resumable)`);
        // A check under way may still claim a slot: let it, so its run is interrupted below like the others.
        await Promise.allSettled([...checks]);
        for (const work of active.values()) work.controller.abort(new AppError('ERR_INTERRUPTED', 'the scheduler is stopping'));
        await idle();
        await reloading.catch(() => undefined);
        await closing;
        try {
          // After the runs settled (interrupted, their slots finished): the next leader finds them resumable.
          await leadership.release();
        } catch (err) {
          ledgerFailed('releasing the leader lease failed', err);
        }
        try {
          await store.markDaemonStopped(daemonId, Date.now());
        } catch (err) {
          ledgerFailed('recording the stop failed', err);
        }
        markDaemonGone(daemonId);
        await simulator?.close().catch(() => undefined);
        if (ownsLedger) ledger.close();
        log('info', `scheduler ${daemonId} stopped`);
      })();
      return stopped;
    },
  };
}
