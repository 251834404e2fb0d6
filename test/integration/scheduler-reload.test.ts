/**
 * The job set: validated as a whole at start (a bad file stops the daemon from starting, by name),
 * reloaded on demand (SIGHUP) or when the directory changes, keeping the previous good set when a
 * reload finds a bad file.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';
import { startScheduler, type Scheduler } from '../../src/scheduler/daemon.js';
import { SlotStore } from '../../src/scheduler/slot-store.js';
import { isAppError } from '../../src/shared/errors.js';
import { startSimulator, type InProcessSimulator } from '../../src/telnyx/simulator/index.js';
import { fixture, logSink, waitFor, writeJob, type Fixture } from './scheduler-support.js';

let f: Fixture;
let sim: InProcessSimulator;
let ledger: Ledger;
let store: SlotStore;
let daemon: Scheduler | undefined;

beforeEach(async () => {
  f = fixture();
  sim = await startSimulator({ seed: 5 });
  ledger = new Ledger(f.dbPath);
  store = new SlotStore(ledger);
});

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  ledger.close();
  await sim.close();
  f.cleanup();
});

function options(log = logSink(), watch = false) {
  return {
    jobsDir: f.jobsDir,
    ledger: f.dbPath,
    api: { apiKey: 'k', baseUrl: sim.url, sandbox: true },
    onLog: log.onLog,
    watch,
    watchDebounceMs: 100,
  };
}

const jobs = () => daemon!.nextFirings().map((j) => j.job).sort();

describe('job set', () => {
  it('refuses to start when any job file is bad, naming every bad file, and touches nothing', async () => {
    writeJob(f, 'good', { cron: '*/2 * * * * *' });
    writeFileSync(path.join(f.jobsDir, 'typo.yaml'), 'name: typo\nsource: { path: x.csv }\nsender: { mode: long_code, from: "+18445550001" }\nmessage: { text: hi }\nschedule: { cron: "61 * * * *", timezone: UTC }\n');
    writeFileSync(path.join(f.jobsDir, 'broken.json'), '{ "name": ');
    const err = await startScheduler(options()).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_JOB_SPEC_INVALID')).toBe(true);
    const text = (err as Error).message;
    expect(text).toMatch(/^2 job files are invalid in .*jobs; the scheduler runs none of them until they are fixed:/);
    expect(text).toContain(path.join(f.jobsDir, 'typo.yaml'));
    expect(text).toMatch(/schedule\.cron: "61 \* \* \* \*" is not a valid cron expression/);
    expect(text).toContain(path.join(f.jobsDir, 'broken.json'));
    expect(text).not.toContain('good.yaml');
    // Nothing was registered in the ledger: no daemon, no slot.
    expect(ledger.db.prepare('SELECT count(*) AS n FROM scheduler_daemons').get()).toEqual({ n: 0 });
  });

  it('refuses two job files with the same name, and a directory without scheduled jobs', async () => {
    writeJob(f, 'twin', { cron: '*/2 * * * * *' });
    writeFileSync(path.join(f.jobsDir, 'twin-copy.yml'), readFileSync(path.join(f.jobsDir, 'twin.yaml')));
    const dup = await startScheduler(options()).catch((e: unknown) => e);
    expect(isAppError(dup, 'ERR_JOB_SPEC_INVALID')).toBe(true);
    expect((dup as Error).message).toMatch(/twin\.yaml: job name "twin" is also used by .*twin-copy\.yml/);

    rmSync(path.join(f.jobsDir, 'twin.yaml'));
    rmSync(path.join(f.jobsDir, 'twin-copy.yml'));
    writeFileSync(
      path.join(f.jobsDir, 'manual.yaml'),
      'name: manual\nsource: { path: ../data/x.csv }\nsender: { mode: long_code, from: "+18445550001" }\nmessage: { text: hi }\n',
    );
    const none = await startScheduler(options()).catch((e: unknown) => e);
    expect(isAppError(none, 'ERR_USAGE')).toBe(true);
    expect((none as Error).message).toMatch(/no job file in .* has a schedule \(1 job file\(s\) there have none\)/);

    const missing = await startScheduler({ ...options(), jobsDir: path.join(f.dir, 'nope') }).catch((e: unknown) => e);
    expect(isAppError(missing, 'ERR_JOB_FILE_UNREADABLE')).toBe(true);
  });

  it('reload() adds, changes and removes jobs; a bad file keeps the previous set and is logged by name', async () => {
    writeJob(f, 'a', { cron: '0 0 1 1 *' });
    const log = logSink();
    daemon = await startScheduler(options(log));
    expect(jobs()).toEqual(['a']);

    writeJob(f, 'b', { cron: '*/1 * * * * *', base: 3000 });
    expect(await daemon.reload()).toEqual({ ok: true, added: ['b'], removed: [], changed: [] });
    expect(jobs()).toEqual(['a', 'b']);
    await waitFor('b to run', () => store.slots('b').find((s) => s.runId !== null));

    writeFileSync(path.join(f.jobsDir, 'c.yaml'), 'name: c\nschedule: { cron: "* * * * *" }\n');
    const bad = await daemon.reload();
    expect(bad.ok).toBe(false);
    expect(jobs()).toEqual(['a', 'b']);
    expect(log.text()).toMatch(/error reload failed; keeping the 2 job\(s\) already loaded: 1 job file is invalid .*\n.*c\.yaml/);

    rmSync(path.join(f.jobsDir, 'c.yaml'));
    writeJob(f, 'a', { cron: '0 0 2 1 *' });
    rmSync(path.join(f.jobsDir, 'b.yaml'));
    expect(await daemon.reload()).toEqual({ ok: true, added: [], removed: ['b'], changed: ['a'] });
    expect(jobs()).toEqual(['a']);
    const next = new Date(daemon.nextFirings()[0]!.next!);
    expect([next.getUTCMonth(), next.getUTCDate(), next.getUTCHours()]).toEqual([0, 2, 0]);
    // b's timer is gone: no new slot of b after the reload settles.
    await daemon.idle();
    const bSlots = store.slots('b').length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(store.slots('b').length).toBe(bSlots);
  });

  it('a new file in the watched directory is picked up without a signal', async () => {
    writeJob(f, 'a', { cron: '0 0 1 1 *' });
    const log = logSink();
    daemon = await startScheduler(options(log, true));
    writeJob(f, 'late', { cron: '*/1 * * * * *', base: 4000 });
    await waitFor('the watcher to load the new job', () => jobs().includes('late'), 5000);
    const slot = await waitFor('the new job to run', () => store.slots('late').find((s) => s.runId !== null));
    await waitFor('its run to complete', () => ledger.getRun(slot.runId!).state === 'completed');
    expect(log.text()).toMatch(/info job late \(late\.yaml\): cron "\*\/1 \* \* \* \* \*" UTC, catch_up 1m; next firing \S+Z/);
  });
});
