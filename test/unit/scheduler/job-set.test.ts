import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listJobFiles, loadJobSet } from '../../../src/scheduler/job-set.js';
import { isAppError } from '../../../src/shared/errors.js';
import { tempDir } from '../../helpers/temp.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const job = (name: string, schedule = '') =>
  `name: ${name}\nsource: { path: r.csv }\nsender: { mode: long_code, from: "+18445550001" }\nmessage: { text: hi }\n${schedule}`;

describe('job set', () => {
  it('lists yaml, yml and json files, not hidden files, other extensions or directories', async () => {
    for (const name of ['b.yaml', 'a.yml', 'c.json', '.d.yaml', 'e.yaml.swp', 'notes.txt', 'r.csv']) writeFileSync(path.join(tmp.dir, name), '');
    mkdirSync(path.join(tmp.dir, 'sub.yaml'));
    expect((await listJobFiles(tmp.dir)).map((f) => path.basename(f))).toEqual(['a.yml', 'b.yaml', 'c.json']);
  });

  it('splits scheduled jobs from the rest', async () => {
    writeFileSync(path.join(tmp.dir, 'nightly.yaml'), job('nightly', 'schedule: { cron: "0 21 * * *", timezone: America/Chicago, catch_up: 1h }\n'));
    writeFileSync(path.join(tmp.dir, 'adhoc.yaml'), job('adhoc'));
    const set = await loadJobSet(tmp.dir);
    expect(set.jobs.map((j) => [j.name, path.basename(j.file), j.spec.schedule.catch_up])).toEqual([['nightly', 'nightly.yaml', 3_600_000]]);
    expect(set.unscheduled.map((f) => path.basename(f))).toEqual(['adhoc.yaml']);
  });

  it('names every bad file, including ones without a schedule, in one error', async () => {
    writeFileSync(path.join(tmp.dir, 'good.yaml'), job('good', 'schedule: { cron: "0 21 * * *", timezone: UTC }\n'));
    writeFileSync(path.join(tmp.dir, 'zone.yaml'), job('zone', 'schedule: { cron: "0 21 * * *", timezone: Mars/Olympus }\n'));
    writeFileSync(path.join(tmp.dir, 'adhoc.yml'), job('adhoc').replace('long_code', 'carrier_pigeon'));
    const err = await loadJobSet(tmp.dir).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_JOB_SPEC_INVALID')).toBe(true);
    const text = (err as Error).message;
    expect(text).toMatch(/^2 job files are invalid in /);
    expect(text).toContain(`${path.join(tmp.dir, 'zone.yaml')}:\nschedule.timezone: "Mars/Olympus" is not a known IANA time zone`);
    expect(text).toContain(path.join(tmp.dir, 'adhoc.yml'));
    expect(text).not.toContain('good.yaml');
  });
});
