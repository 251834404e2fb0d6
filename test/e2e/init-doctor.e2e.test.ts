/**
 * `bulktext init` and `bulktext doctor`, spawned as a user runs them. doctor's API check talks only to
 * the project's simulator or scripted servers on 127.0.0.1.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type InProcessSimulator } from '../../src/telnyx/simulator/index.js';
import { cliEnv, repoRoot, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

let tmp: ReturnType<typeof tempDir>;
let sim: InProcessSimulator | undefined;
let server: Server | undefined;

beforeEach(() => {
  tmp = tempDir('bulktext-init-');
});
afterEach(async () => {
  await sim?.close();
  await new Promise((r) => (server === undefined ? r(undefined) : server.close(r)));
  sim = server = undefined;
  tmp.cleanup();
});

describe('bulktext init', () => {
  it('writes the sample campaign and its account file, which then plans and runs in the sandbox from that directory', async () => {
    const dir = path.join(tmp.dir, 'my campaign');
    const init = await runCli(['init', dir], { cwd: tmp.dir });
    expect(init.code).toBe(0);
    for (const [to, from] of [
      ['jobs/spring-promo.yaml', 'jobs/spring-promo.yaml'],
      ['jobs/account.yaml', 'sample-data/account.example.yaml'],
      ['sample-data/recipients.csv', 'sample-data/recipients.csv'],
      ['sample-data/opt-outs.csv', 'sample-data/opt-outs.csv'],
    ] as const) {
      expect(readFileSync(path.join(dir, to), 'utf8'), to).toBe(readFileSync(path.join(repoRoot, from), 'utf8'));
    }
    // The printed next step, quoted for the shell because of the space; the account file is named.
    expect(init.stdout).toContain(`cd '${dir}'`);
    expect(init.stdout).toMatch(/^wrote .*jobs\/account\.yaml/m);
    expect(init.stdout).toMatch(/Telnyx portal in jobs\/account\.yaml/);

    // plan picks up jobs/account.yaml by default; the job's own rate (20/s) stays below the account's 50/s.
    const plan = await runCli(['plan', 'jobs/spring-promo.yaml'], { cwd: dir, timeoutMs: 60_000 });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/^Limits +account file jobs\/account\.yaml$/m);
    expect(plan.stdout).toContain('account: 20/s (job rate.messages_per_second (below the account))');

    const run = await runCli(['run', 'jobs/spring-promo.yaml', '--sandbox', '--json', '--quiet'], { cwd: dir, timeoutMs: 60_000 });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ state: 'completed', counts: { sent: 33, skipped: 7 } });
    expect(existsSync(path.join(dir, 'bulktext.db'))).toBe(true);
  });

  it('refuses to overwrite (exit 2, naming the files) unless --force', async () => {
    const job = path.join(tmp.dir, 'jobs', 'spring-promo.yaml');
    expect((await runCli(['init'], { cwd: tmp.dir })).code).toBe(0);
    writeFileSync(job, 'name: mine\n');
    const again = await runCli(['init'], { cwd: tmp.dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(job);
    expect(again.stderr).toContain('--force');
    expect(readFileSync(job, 'utf8')).toBe('name: mine\n');
    const forced = await runCli(['init', '--force'], { cwd: tmp.dir });
    expect(forced.code).toBe(0);
    expect(readFileSync(job, 'utf8')).toBe(readFileSync(path.join(repoRoot, 'jobs/spring-promo.yaml'), 'utf8'));
  });

  it('refuses to overwrite an account file that is already there, even when nothing else is', async () => {
    const account = path.join(tmp.dir, 'jobs', 'account.yaml');
    mkdirSync(path.dirname(account));
    writeFileSync(account, 'limits:\n  sms_per_second: 200\n');
    const init = await runCli(['init'], { cwd: tmp.dir });
    expect(init.code).toBe(2);
    expect(init.stderr).toContain(`not overwriting ${account}: move it away, or pass --force`);
    expect(readFileSync(account, 'utf8')).toBe('limits:\n  sms_per_second: 200\n');
    expect(existsSync(path.join(tmp.dir, 'jobs', 'spring-promo.yaml'))).toBe(false);
    expect((await runCli(['init', '--force'], { cwd: tmp.dir })).code).toBe(0);
    expect(readFileSync(account, 'utf8')).toBe(readFileSync(path.join(repoRoot, 'sample-data/account.example.yaml'), 'utf8'));
  });
});

describe('bulktext doctor', () => {
  const key = 'KEYdoctor-secret-0123456789';

  it('passes against the simulator with a good key, and never prints the key', async () => {
    sim = await startSimulator({ apiKey: key });
    const r = await runCli(['doctor'], {
      cwd: tmp.dir,
      env: cliEnv({ TELNYX_API_KEY: key, TELNYX_BASE_URL: sim.url, TELNYX_PUBLIC_KEY: sim.publicKey }),
    });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^ok {4}Node\.js /m);
    expect(r.stdout).toMatch(/^ok {4}better-sqlite3 [\d.]+ loads \(SQLite [\d.]+\)$/m);
    expect(r.stdout).toContain(`ok    ledger ${path.join(tmp.dir, 'bulktext.db')}: can be created`);
    expect(r.stdout).toContain(`ok    ${sim.url} answers and accepts the key`);
    expect(r.stdout).toContain('ok    TELNYX_PUBLIC_KEY parses');
    expect(`${r.stdout}${r.stderr}`).not.toContain(key);
    expect(existsSync(path.join(tmp.dir, 'bulktext.db'))).toBe(false);
  });

  it('says what to do for a refused key, a bad public key and a missing ledger directory', async () => {
    sim = await startSimulator({ apiKey: key });
    const r = await runCli(['doctor', '--db', path.join(tmp.dir, 'missing', 'x.db')], {
      cwd: tmp.dir,
      env: cliEnv({ TELNYX_API_KEY: 'KEYwrong', TELNYX_BASE_URL: sim.url, TELNYX_PUBLIC_KEY: 'not-a-key' }),
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`FAIL  ${sim.url} answers but refuses the key (401): check TELNYX_API_KEY`);
    expect(r.stdout).toMatch(/^FAIL {2}TELNYX_PUBLIC_KEY: the webhook public key must be/m);
    expect(r.stdout).toMatch(/^FAIL {2}ledger .*missing.*directory is missing or not writable/m);
    expect(r.stdout).toContain('3 check(s) failed');
    expect(r.stdout).not.toContain('KEYwrong');
  });

  it('fails without a key, and for a URL that does not answer or is not Telnyx', async () => {
    const noKey = await runCli(['doctor'], { cwd: tmp.dir, env: cliEnv({}) });
    expect(noKey.code).toBe(2);
    expect(noKey.stdout).toContain('FAIL  TELNYX_API_KEY is not set');
    expect(noKey.stdout).toMatch(/^- {5}TELNYX_PUBLIC_KEY is not set: needed only/m);

    server = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>'));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const notTelnyx = await runCli(['doctor'], { cwd: tmp.dir, env: cliEnv({ TELNYX_API_KEY: key, TELNYX_BASE_URL: `http://127.0.0.1:${port}/v2` }) });
    expect(notTelnyx.code).toBe(2);
    expect(notTelnyx.stdout).toContain(`FAIL  http://127.0.0.1:${port}/v2 answered HTTP 404, not as Telnyx does`);

    await new Promise((r) => server!.close(r));
    server = undefined;
    const closed = await runCli(['doctor'], { cwd: tmp.dir, env: cliEnv({ TELNYX_API_KEY: key, TELNYX_BASE_URL: `http://127.0.0.1:${port}/v2` }) });
    expect(closed.code).toBe(2);
    expect(closed.stdout).toContain(`FAIL  http://127.0.0.1:${port}/v2 does not answer`);
  });
});
