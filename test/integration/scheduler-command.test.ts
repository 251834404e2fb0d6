/**
 * `bulktext schedule` as a function of (options, io, hooks): --list, the daemon in --sandbox mode
 * until the stop signal (exit 0), SIGHUP reloading, and --metrics-port.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scheduleCommand, type ScheduleHooks } from '../../src/cli/commands/schedule.js';
import type { Io } from '../../src/cli/io.js';
import { deliveryStoreFor } from '../../src/ledger/delivery-store.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { slotStoreOf, type SlotStore } from '../../src/ledger/slot-store.js';
import { isAppError } from '../../src/shared/errors.js';
import { fixture, waitFor, writeJob, type Fixture } from './scheduler-support.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';
import { runStoreOf } from '../../src/ledger/run-store.js';

let f: Fixture;
beforeEach(() => {
  f = fixture();
});
afterEach(() => {
  f.cleanup();
});

function testIo(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const controller = new AbortController();
  const io: Io = {
    stdout: (s) => void out.push(s),
    stderr: (s) => void err.push(s),
    env,
    isTTY: false,
    signal: controller.signal,
    cwd: f.dir,
  };
  return { io, controller, stdout: () => out.join(''), stderr: () => err.join('') };
}

/** SIGHUP as main.ts would deliver it: the test calls `hangup()`. */
function hangupHooks(): ScheduleHooks & { hangup: () => void; listeners: number } {
  const listeners = new Set<() => void>();
  return {
    onHangup(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    hangup: () => listeners.forEach((l) => l()),
    get listeners() {
      return listeners.size;
    },
  };
}

describe('schedule --list', () => {
  it("prints each job's next firings in UTC and on the job's own clock", async () => {
    writeJob(f, 'nightly', { cron: '0 21 * * *', timezone: 'America/Chicago' });
    writeJob(f, 'ticker', { cron: '*/15 * * * * *', base: 2000 });
    const t = testIo();
    const code = await scheduleCommand({ jobs: 'jobs', list: true, sandbox: false, count: 3 }, t.io, hangupHooks());
    expect(code).toBe(0);
    const lines = t.stdout().trimEnd().split('\n');
    expect(lines[0]).toBe(`nightly  ${path.join('jobs', 'nightly.yaml')}`);
    expect(lines[1]).toBe('  cron "0 21 * * *" America/Chicago, catch_up 1m');
    for (const line of lines.slice(2, 5)) {
      // 21:00 Chicago is 02:00Z in daylight time, 03:00Z in standard time.
      expect(line).toMatch(/^ {2}\d{4}-\d\d-\d\dT0[23]:00:00\.000Z {2}(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d\d-\d\d 21:00:00 C[DS]T$/);
    }
    expect(lines[5]).toBe(`ticker  ${path.join('jobs', 'ticker.yaml')}`);
    const ticks = lines.slice(7, 10).map((l) => Date.parse(l.trim().split(/\s+/)[0]!));
    expect(ticks[1]! - ticks[0]!).toBe(15_000);
    expect(ticks[2]! - ticks[1]!).toBe(15_000);
    // No ledger is needed or created to list.
    expect(existsSync(path.join(f.dir, 'bulktext.db'))).toBe(false);
  });

  it('lists the sample nightly job in jobs/', async () => {
    const t = testIo();
    t.io.cwd = path.resolve('.');
    expect(await scheduleCommand({ jobs: 'jobs', list: true, sandbox: false }, t.io, hangupHooks())).toBe(0);
    const text = t.stdout();
    expect(text).toMatch(/^nightly-reminders {2}jobs\/nightly-reminders\.yaml\n {2}cron "0 21 \* \* \*" America\/Chicago, catch_up 1h\n/m);
    expect(text.match(/21:00:00 C[DS]T/g)).toHaveLength(5);
  });
});

describe('schedule (daemon)', () => {
  it('needs TELNYX_API_KEY unless --sandbox, and checks it before creating a ledger', async () => {
    writeJob(f, 'j', { cron: '*/1 * * * * *' });
    const t = testIo();
    const err = await scheduleCommand({ jobs: 'jobs', list: false, sandbox: false }, t.io, hangupHooks()).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_ENV_MISSING')).toBe(true);
    expect(existsSync(path.join(f.dir, 'bulktext.db'))).toBe(false);
  });

  it('runs scheduled jobs in the sandbox, reloads on SIGHUP, serves metrics, and exits 0 on the stop signal', async () => {
    writeJob(f, 'sandboxed', { cron: '*/1 * * * * *', rows: 2 });
    const t = testIo();
    const hooks = hangupHooks();
    const dbPath = path.join(f.dir, 'ledger.db');
    const done = scheduleCommand({ jobs: 'jobs', db: 'ledger.db', list: false, sandbox: true, metricsPort: 0 }, t.io, hooks);
    const ledger = await waitFor('the ledger', () => existsSync(dbPath) && new Ledger(dbPath));
    try {
      const store = slotStoreOf(ledger);
      const slot = await waitFor('a sandbox run', () => store.slots('sandboxed').find((s) => s.runId !== null), 20_000);
      const run = await waitFor('it to complete', () => {
        const r = runStoreOf(ledger).getRun(slot.runId!);
        return r.state === 'completed' && r;
      });
      expect(run).toMatchObject({ sandbox: true, trigger: 'schedule', slot: slot.slot });
      expect(messageStoreOf(ledger).counts(run.rid).sent).toBe(2);
      // The sandbox's receipts come back to the daemon's ledger, and the run's end is logged once they are in.
      await waitFor('the end of the run logged', () => new RegExp(`run ${run.runId} completed in`).test(t.stderr()), 20_000);
      expect(deliveryStoreFor(ledger).deliveryCounts(run.rid)).toMatchObject({ delivered: 2, awaiting: 0 });

      const url = await waitFor('the metrics line', () => /metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(t.stderr())?.[1]);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^bulktext_schedule_next_firing_timestamp_seconds\{job="sandboxed"\} \d+$/m);

      writeJob(f, 'added', { cron: '0 0 1 1 *', base: 3000 });
      expect(hooks.listeners).toBe(1);
      hooks.hangup();
      await waitFor('the SIGHUP reload', () => /SIGHUP: reloading job files[\s\S]*job added \(added\.yaml\)/.test(t.stderr()));

      t.controller.abort(new Error('SIGTERM'));
      expect(await done).toBe(0);
      expect(hooks.listeners).toBe(0);
      const log = t.stderr();
      expect(log).toMatch(/INFO scheduler \S+ started: 1 job\(s\) from .*jobs, ledger .*ledger\.db, sending to the sandbox simulator/);
      expect(log).toMatch(/INFO job sandboxed slot \S+: run \S+ started \[sandbox\]: read 2 rows, 2 to send/);
      expect(log).toMatch(/INFO stopping: no new runs/);
      expect(log).toMatch(/INFO scheduler \S+ stopped/);
      // The metrics endpoint is gone with the daemon.
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      t.controller.abort();
      await done.catch(() => undefined);
      ledger.close();
    }
  });
});
