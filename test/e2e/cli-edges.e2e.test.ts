/**
 * The CLI's edges, spawned as a child process: a mistyped option or a non-number stops every command
 * before it starts (exit 2, its usage, nothing sent, no ledger, no server); only `run` creates a ledger;
 * an API key that cannot be a header value is refused before anything is read.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, runCli, type CliResult } from '../helpers/cli.js';
import { writeCampaign } from '../helpers/campaign-files.js';
import { freePort } from '../helpers/net.js';
import { tempDir } from '../helpers/temp.js';
import { inboundEvent, keyPair, post, signedHeaders } from '../unit/webhooks/helpers.js';

let tmp: ReturnType<typeof tempDir>;
let api: { server: Server; url: string; requests: string[] };

/** A Telnyx stand-in that counts every request and refuses each with 401 10009 (a fatal stop, rows stay pending). */
async function countingApi(): Promise<typeof api> {
  const requests: string[] = [];
  const server = createHttpServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: '10009', title: 'Authentication failed', detail: 'test' }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}/v2`, requests };
}

beforeEach(async () => {
  tmp = tempDir('bulktext-edges-');
  api = await countingApi();
});
afterEach(async () => {
  await new Promise((resolve) => api.server.close(resolve));
  tmp.cleanup();
});

const env = (extra: Record<string, string> = {}) => cliEnv({ TELNYX_API_KEY: 'KEY0123', TELNYX_BASE_URL: api.url, ...extra });
// A command that started would keep serving or sending; 20 s bounds the test if one does.
const run = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: env(extra), cwd: tmp.dir, timeoutMs: 20_000 });
const file = (name: string) => path.join(tmp.dir, name);

function expectUsageError(r: CliResult, command: string, complaint: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`bulktext ${command}`);
  expect(r.stderr).toMatch(/Options:/);
  expect(r.stderr).toMatch(complaint);
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toMatch(/listening|^run \d/m);
}

/** A run against the counting API that stops at once on its 401: a ledger with a resumable run. */
async function abortedRun(): Promise<{ job: string; db: string; runId: string }> {
  const { job } = writeCampaign(tmp.dir, { rows: 3 });
  const db = file('l.db');
  const r = await run(['run', job, '--db', db, '--quiet', '--json']);
  expect(r.code).toBe(4);
  const runId = (JSON.parse(r.stdout) as { run_id: string }).run_id;
  api.requests.length = 0;
  return { job, db, runId };
}

describe('a mistyped option or argument stops the command before it starts', { timeout: 90_000 }, () => {
  it('run: --sandbx, --dry-run, --plna and a stray argument send nothing and create no ledger', async () => {
    const { job } = writeCampaign(tmp.dir, { rows: 3 });
    const db = file('new.db');
    for (const typo of [['--sandbx'], ['--dry-run'], ['--plna', 'abc123'], ['extra.csv']]) {
      const r = await run(['run', job, '--db', db, ...typo]);
      expectUsageError(r, 'run <job-file>', /Unknown argument/);
    }
    const nan = await run(['run', job, '--db', db, '--sandbox', '--metrics-port', 'abc']);
    expectUsageError(nan, 'run <job-file>', /--metrics-port must be a number/);
    expect(existsSync(db)).toBe(false);
    expect(api.requests).toEqual([]);
  });

  it('resume: a typo sends nothing (the run stays aborted and resumable)', async () => {
    const { db, runId } = await abortedRun();
    expectUsageError(await run(['resume', runId, '--db', db, '--resend-unknwn']), 'resume <run-id>', /Unknown argument: resend-unknwn/);
    expectUsageError(await run(['resume', runId, '--db', db, '--webhooks-port', 'x']), 'resume <run-id>', /--webhooks-port must be a number/);
    expect(api.requests).toEqual([]);
    // The control: without the typo, the same command does reach the API.
    expect((await run(['resume', runId, '--db', db, '--quiet'])).code).toBe(4);
    expect(api.requests.length).toBeGreaterThan(0);
  });

  it('status, report, reconcile and suppressions print nothing and change nothing', async () => {
    const { db, runId } = await abortedRun();
    expectUsageError(await run(['status', '--db', db, '--jsn']), 'status [run-id]', /Unknown argument: jsn/);
    expectUsageError(await run(['status', runId, 'other', '--db', db]), 'status [run-id]', /Unknown argument: other/);
    expectUsageError(await run(['report', runId, '--db', db, '--formt', 'csv']), 'report <run-id>', /Unknown argument: formt/);
    expectUsageError(await run(['reconcile', runId, '--db', db, '--rat', '5']), 'reconcile <run-id>', /Unknown argument: rat/);
    expectUsageError(await run(['reconcile', runId, '--db', db, '--rate', 'fast']), 'reconcile <run-id>', /--rate must be a number/);
    expectUsageError(await run(['suppressions', '--db', db, '--add', '+14155550123', '--jsn']), 'suppressions', /Unknown argument: jsn/);
    expect(api.requests).toEqual([]);
    const listed = await run(['suppressions', '--db', db, '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([]);
  });

  it('plan prints no plan', async () => {
    const { job } = writeCampaign(tmp.dir, { rows: 3 });
    expectUsageError(await run(['plan', job, '--sampel', '2']), 'plan <job-file>', /Unknown argument: sampel/);
    expectUsageError(await run(['plan', job, '--sample', 'two']), 'plan <job-file>', /--sample must be a number/);
  });

  it('webhooks, simulator and schedule start no server, no daemon and create no ledger', async () => {
    const port = String(await freePort());
    const db = file('fresh.db');
    const key = { TELNYX_PUBLIC_KEY: keyPair().publicKey };
    expectUsageError(await run(['webhooks', '--db', db, '--port', port, '--metrics-port', '9100'], key), 'webhooks', /Unknown argument: metrics-port$/m);
    expectUsageError(await run(['webhooks', '--db', db, '--port', 'eighty'], key), 'webhooks', /--port must be a number/);
    expectUsageError(await run(['simulator', '--port', port, '--scenaro', 'x.json']), 'simulator', /Unknown argument: scenaro/);
    const jobs = file('jobs');
    mkdirSync(jobs);
    writeCampaign(jobs, { rows: 1, extraYaml: 'schedule:\n  cron: "0 9 * * *"\n  timezone: UTC' });
    expectUsageError(await run(['schedule', '--jobs', jobs, '--db', db, '--sandbox', '--lst']), 'schedule', /Unknown argument: lst/);
    expect(existsSync(db)).toBe(false);
  });

  it('an unknown command, or none, is a usage error listing the commands', async () => {
    for (const args of [['launch'], []]) {
      const r = await run(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/Commands:\n\s+bulktext run <job-file>/);
    }
  });
});

describe('only `run` creates a ledger', { timeout: 90_000 }, () => {
  it('a signed STOP to `webhooks --db <missing>` is never answered: the receiver refuses to start', async () => {
    const { privateKey, publicKey } = keyPair();
    const port = await freePort();
    const missing = file('typo.db');
    const r = await run(['webhooks', '--db', missing, '--port', String(port)], { TELNYX_PUBLIC_KEY: publicKey });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no ledger at ${missing}`);
    const body = inboundEvent('+14155550101', '+18445550001', 'STOP');
    await expect(post(`http://127.0.0.1:${port}/telnyx`, body, signedHeaders(privateKey, body))).rejects.toThrow();
    expect(existsSync(missing)).toBe(false);
  });

  it('resume, status, report, reconcile and suppressions refuse a missing ledger, name it, and create no file', async () => {
    const missing = file('typo.db');
    for (const args of [
      ['resume', '20261207-101010-abcd'],
      ['status'],
      ['report', '20261207-101010-abcd'],
      ['reconcile', '20261207-101010-abcd'],
      ['suppressions'],
      ['suppressions', '--add', '+14155550123'],
    ]) {
      const r = await run([...args, '--db', missing]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`no ledger at ${missing}: only \`bulktext run\` creates one`);
      expect(existsSync(missing)).toBe(false);
    }
    expect(api.requests).toEqual([]);
  });

  it('BULKTEXT_DB is held to the same rule', async () => {
    const missing = file('env-typo.db');
    const r = await run(['status'], { BULKTEXT_DB: missing });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no ledger at ${missing}`);
    expect(existsSync(missing)).toBe(false);
  });

  it('a database URL in BULKTEXT_DB or --db is refused without printing it (it may hold a password)', async () => {
    const url = 'postgres://bulktext:s3cret-pw@127.0.0.1:1/ledger';
    for (const [args, env, source] of [
      [['report', '20261207-101010-abcd'], { BULKTEXT_DB: url }, 'BULKTEXT_DB'],
      [['suppressions', '--add', '+14155550123'], { BULKTEXT_DB: url }, 'BULKTEXT_DB'],
      [['report', '20261207-101010-abcd', '--db', url], {}, '--db'],
    ] as const) {
      const r = await run([...args], env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`${source} holds a database URL (not shown: it may hold a password), not the path of a ledger file`);
      expect(r.stderr).toContain('only `bulktext run`, `bulktext resume`, `bulktext status`, `bulktext cancel`, `bulktext worker`, `bulktext migrate-ledger` take a PostgreSQL ledger');
      expect(`${r.stdout}${r.stderr}`).not.toContain('s3cret-pw');
    }
    // The commands that take one name the database, never the URL, when it cannot be reached.
    for (const args of [['status'], ['cancel', '20261207-101010-abcd', '--db', url]]) {
      const r = await run(args, { BULKTEXT_DB: url });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('cannot connect to the PostgreSQL ledger bulktext@127.0.0.1:1/ledger');
      expect(`${r.stdout}${r.stderr}`).not.toContain('s3cret-pw');
    }
    expect(api.requests).toEqual([]);
  });
});

describe('an API key that cannot be an HTTP header value', { timeout: 90_000 }, () => {
  it('is refused with exit 2 before the source is read, naming the problem and never the key', async () => {
    const { job } = writeCampaign(tmp.dir, { rows: 3 });
    const db = file('l.db');
    const cases: [string, RegExp][] = [
      ['KEY0123’secret', /character 8 of 14 \(U\+2019\) is not a Latin-1 character/],
      ['KEY0123 secret', /character 8 of 14 is whitespace/],
      ['KEY0123\u0001secret', /character 8 of 14 is a control character \(U\+0001\)/],
    ];
    for (const [key, problem] of cases) {
      const r = await run(['run', job, '--db', db], { TELNYX_API_KEY: key });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/TELNYX_API_KEY cannot be sent in an HTTP header/);
      expect(r.stderr).toMatch(problem);
      expect(r.stderr).not.toContain('secret');
      expect(r.stdout).not.toContain('secret');
    }
    expect(existsSync(db)).toBe(false);
    expect(api.requests).toEqual([]);
  });

  it('is refused by resume too, leaving the run as it was', async () => {
    const { db, runId } = await abortedRun();
    const r = await run(['resume', runId, '--db', db], { TELNYX_API_KEY: 'KEY\u00e9\u2028x' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/character 5 of 6 \(U\+2028\) is not a Latin-1 character/);
    expect(api.requests).toEqual([]);
  });
});
