/** Bad input exits 2 with a message naming the problem, and leaves nothing behind. */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/cli.js';
import { writeCampaign } from '../helpers/campaign-files.js';
import { tempDir } from '../helpers/temp.js';
import { withLedgerSql } from '../helpers/ledger-sql.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('bulktext-bad-');
});
afterEach(() => tmp.cleanup());

const run = (args: string[], env = cliEnv()) => runCli(args, { env, cwd: tmp.dir });

describe('bad input', () => {
  it('a missing job file', async () => {
    const r = await run(['run', 'jobs/nope.yaml', '--sandbox']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read job file .*nope\.yaml: no such file/);
  });

  it('an unknown key, naming it', async () => {
    const { job } = writeCampaign(tmp.dir, { rows: 2, extraYaml: 'colour: blue' });
    const r = await run(['run', job, '--sandbox']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown key colour');
  });

  it('a mode without its required sender field, naming it', async () => {
    const { job } = writeCampaign(tmp.dir, { rows: 2 });
    writeFileSync(job, `name: x\nsource:\n  path: recipients.csv\nsender:\n  mode: number_pool\nmessage:\n  text: hi\n`);
    const r = await run(['run', job, '--sandbox']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('sender.messaging_profile_id: is required for mode number_pool');
  });

  it('a missing source file, naming it; no run is left in the ledger', async () => {
    const { job, csv } = writeCampaign(tmp.dir, { rows: 2 });
    writeFileSync(csv, '');
    const r1 = await run(['run', job, '--sandbox', '--db', 'l.db']);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/recipients\.csv/);
    writeFileSync(job, `name: x\nsource:\n  path: gone.csv\nsender:\n  mode: long_code\n  from: "+18445550001"\nmessage:\n  text: hi\n`);
    const r2 = await run(['run', job, '--sandbox', '--db', 'l.db']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/gone\.csv/);
    if (existsSync(path.join(tmp.dir, 'l.db'))) {
      expect(withLedgerSql(path.join(tmp.dir, 'l.db'), (db) => db.get('SELECT count(*) AS n FROM runs'), { readonly: true })).toEqual({ n: 0 });
    }
  });

  it('a CSV without the phone column, naming the column and what was found', async () => {
    const { job, csv } = writeCampaign(tmp.dir, { rows: 2 });
    writeFileSync(csv, 'mobile,first_name\n+14155550123,Ann\n');
    const r = await run(['run', job, '--sandbox', '--db', 'l.db']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/phone/);
    expect(r.stderr).toMatch(/mobile/);
  });

  it('no TELNYX_API_KEY without --sandbox names the variable and sends nothing', async () => {
    const { job } = writeCampaign(tmp.dir, { rows: 2 });
    const r = await run(['run', job, '--db', 'l.db'], cliEnv({ TELNYX_BASE_URL: 'http://127.0.0.1:9/v2' }));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('TELNYX_API_KEY');
    expect(existsSync(path.join(tmp.dir, 'l.db'))).toBe(false);
  });

  it('an unknown command or option is a usage error', async () => {
    expect((await run(['launch'])).code).toBe(2);
    expect((await run(['status', '--colour'])).code).toBe(2);
  });

  it('resume of an unknown run names it', async () => {
    const { job } = writeCampaign(tmp.dir, { rows: 2 });
    await run(['run', job, '--sandbox', '--db', 'l.db', '--quiet']);
    const r = await run(['resume', 'nope', '--db', 'l.db']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no run nope');
  });
});

describe('resume refuses', () => {
  it('when the source changed since the run began', async () => {
    const { job, csv } = writeCampaign(tmp.dir, { rows: 3 });
    const first = await run(['run', job, '--db', 'l.db', '--json', '--quiet'], cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: 'http://127.0.0.1:9/v2' }));
    // Nothing listens on port 9: the API is unreachable, so the run stops with the rows pending.
    const runId = /run (\S+)/.exec(first.stderr)![1]!;
    writeFileSync(csv, 'phone,first_name\n+14155550100,Changed\n');
    const r = await run(['resume', runId, '--db', 'l.db'], cliEnv({ TELNYX_API_KEY: 'k' }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/changed since the run began/);
  });
});
