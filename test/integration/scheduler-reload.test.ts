/**
 * The job set: validated as a whole at start (a bad file stops the daemon from starting, by name),
 * reloaded on demand (SIGHUP) or when the directory changes, keeping the previous good set when a
 * reload finds a bad file.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startScheduler, type Scheduler, type SchedulerOptions } from '../../src/scheduler/daemon.js';
import { isAppError } from '../../src/shared/errors.js';
import { loadAccountSpec } from '../../src/config/load-account-spec.js';
import { withLedgerSql } from '../helpers/ledger-sql.js';
import { logSink, useSchedulerEnv, waitFor, writeJob } from './scheduler-support.js';
import { runStoreOf } from '../../src/ledger/run-store.js';

const env = useSchedulerEnv(5);
let daemon: Scheduler | undefined;

const options = (log = logSink(), watch = false): SchedulerOptions => env.options(log, { watch, watchDebounceMs: 100 });

const jobs = () => daemon!.nextFirings().map((j) => j.job).sort();

describe('job set', () => {
  it('refuses to start when any job file is bad, naming every bad file, and touches nothing', async () => {
    writeJob(env, 'good', { cron: '*/2 * * * * *' });
    writeFileSync(path.join(env.jobsDir, 'typo.yaml'), 'name: typo\nsource: { path: x.csv }\nsender: { mode: long_code, from: "+18445550001" }\nmessage: { text: hi }\nschedule: { cron: "61 * * * *", timezone: UTC }\n');
    writeFileSync(path.join(env.jobsDir, 'broken.json'), '{ "name": ');
    const err = await startScheduler(options()).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_JOB_SPEC_INVALID')).toBe(true);
    const text = (err as Error).message;
    expect(text).toMatch(/^2 job files are invalid in .*jobs; the scheduler runs none of them until they are fixed:/);
    expect(text).toContain(path.join(env.jobsDir, 'typo.yaml'));
    expect(text).toMatch(/schedule\.cron: "61 \* \* \* \*" is not a valid cron expression/);
    expect(text).toContain(path.join(env.jobsDir, 'broken.json'));
    expect(text).not.toContain('good.yaml');
    // Nothing was registered in the ledger: no daemon, no slot.
    expect(withLedgerSql(env.ledger.path, (sql) => sql.get('SELECT count(*) AS n FROM scheduler_daemons'))).toEqual({ n: 0 });
  });

  it('refuses two job files with the same name, and a directory without scheduled jobs', async () => {
    writeJob(env, 'twin', { cron: '*/2 * * * * *' });
    writeFileSync(path.join(env.jobsDir, 'twin-copy.yml'), readFileSync(path.join(env.jobsDir, 'twin.yaml')));
    const dup = await startScheduler(options()).catch((e: unknown) => e);
    expect(isAppError(dup, 'ERR_JOB_SPEC_INVALID')).toBe(true);
    expect((dup as Error).message).toMatch(/twin\.yaml: job name "twin" is also used by .*twin-copy\.yml/);

    rmSync(path.join(env.jobsDir, 'twin.yaml'));
    rmSync(path.join(env.jobsDir, 'twin-copy.yml'));
    writeFileSync(
      path.join(env.jobsDir, 'manual.yaml'),
      'name: manual\nsource: { path: ../data/x.csv }\nsender: { mode: long_code, from: "+18445550001" }\nmessage: { text: hi }\n',
    );
    const none = await startScheduler(options()).catch((e: unknown) => e);
    expect(isAppError(none, 'ERR_USAGE')).toBe(true);
    expect((none as Error).message).toMatch(/no job file in .* has a schedule \(1 job file\(s\) there have none\)/);

    const missing = await startScheduler({ ...options(), jobsDir: path.join(env.dir, 'nope') }).catch((e: unknown) => e);
    expect(isAppError(missing, 'ERR_JOB_FILE_UNREADABLE')).toBe(true);
  });

  it('refuses a scheduled job without pricing under the account spend cap at start, not when its slot fires', async () => {
    const accountFile = path.join(env.dir, 'account.yaml');
    writeFileSync(accountFile, 'limits:\n  daily_spend_usd: "5"\n');
    const account = await loadAccountSpec(accountFile, {}, env.dir);
    writeJob(env, 'priced', { cron: '*/2 * * * * *', extra: 'pricing: { per_part: "0.0040" }' });
    writeJob(env, 'unpriced', { cron: '*/2 * * * * *', base: 3000 });
    const err = await startScheduler({ ...options(), account }).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_JOB_SPEC_INVALID')).toBe(true);
    const text = (err as Error).message;
    expect(text).toMatch(/^1 job file is invalid in .*jobs; the scheduler runs none of them until it is fixed:/);
    expect(text).toContain(`${path.join(env.jobsDir, 'unpriced.yaml')}: ${accountFile} caps the daily spend at 5 USD: job unpriced needs a pricing block in USD`);
    expect(text).not.toContain(`${path.join(env.jobsDir, 'priced.yaml')}:`);
    expect(withLedgerSql(env.ledger.path, (sql) => sql.get('SELECT count(*) AS n FROM scheduler_daemons'))).toEqual({ n: 0 });

    // Once the job says what a message costs, the same account lets the daemon start.
    writeJob(env, 'unpriced', { cron: '0 0 1 1 *', base: 3000, extra: 'pricing: { per_part: "0.0040" }' });
    daemon = await env.start({ ...options(), account });
    expect(jobs()).toEqual(['priced', 'unpriced']);
  });

  it('reload() adds, changes and removes jobs; a bad file keeps the previous set and is logged by name', async () => {
    writeJob(env, 'a', { cron: '0 0 1 1 *' });
    const log = logSink();
    daemon = await env.start(options(log));
    expect(jobs()).toEqual(['a']);

    writeJob(env, 'b', { cron: '*/1 * * * * *', base: 3000 });
    expect(await daemon.reload()).toEqual({ ok: true, added: ['b'], removed: [], changed: [] });
    expect(jobs()).toEqual(['a', 'b']);
    await waitFor('b to run', () => env.store.slots('b').find((s) => s.runId !== null));

    writeFileSync(path.join(env.jobsDir, 'c.yaml'), 'name: c\nschedule: { cron: "* * * * *" }\n');
    const bad = await daemon.reload();
    expect(bad.ok).toBe(false);
    expect(jobs()).toEqual(['a', 'b']);
    expect(log.text()).toMatch(/error reload failed; keeping the 2 job\(s\) already loaded: 1 job file is invalid .*\n.*c\.yaml/);

    rmSync(path.join(env.jobsDir, 'c.yaml'));
    writeJob(env, 'a', { cron: '0 0 2 1 *' });
    rmSync(path.join(env.jobsDir, 'b.yaml'));
    expect(await daemon.reload()).toEqual({ ok: true, added: [], removed: ['b'], changed: ['a'] });
    expect(jobs()).toEqual(['a']);
    const next = new Date(daemon.nextFirings()[0]!.next!);
    expect([next.getUTCMonth(), next.getUTCDate(), next.getUTCHours()]).toEqual([0, 2, 0]);
    // b's timer is gone: no new slot of b after the reload settles.
    await daemon.idle();
    const bSlots = env.store.slots('b').length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(env.store.slots('b').length).toBe(bSlots);
  });

  it('a new file in the watched directory is picked up without a signal', async () => {
    writeJob(env, 'a', { cron: '0 0 1 1 *' });
    const log = logSink();
    daemon = await env.start(options(log, true));
    writeJob(env, 'late', { cron: '*/1 * * * * *', base: 4000 });
    await waitFor('the watcher to load the new job', () => jobs().includes('late'), 5000);
    const slot = await waitFor('the new job to run', () => env.store.slots('late').find((s) => s.runId !== null));
    await waitFor('its run to complete', () => runStoreOf(env.ledger).getRun(slot.runId!).state === 'completed');
    expect(log.text()).toMatch(/info job late \(late\.yaml\): cron "\*\/1 \* \* \* \* \*" UTC, catch_up 1m; next firing \S+Z/);
  });
});
