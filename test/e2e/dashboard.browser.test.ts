/**
 * The dashboard in a real browser: headless Chromium (Debian package `chromium`) driven by
 * playwright-core, against the CLI spawned as a child process. Each page loads without console errors,
 * the figures on a run's page equal `status --json`, and a live `--sandbox` run's page advances.
 * Screenshots land in test-artifacts/ (git-ignored).
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/telnyx/simulator/index.js';
import { cliEnv, repoRoot, runCli, startCli } from '../helpers/cli.js';
import { writeCampaign } from '../helpers/campaign-files.js';
import { freePort } from '../helpers/net.js';
import { tempDir } from '../helpers/temp.js';

const CHROMIUM = process.env.BULKTEXT_CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `\n!!!!!!!! ${CHROMIUM} not found: the dashboard browser tests are SKIPPED. Install it: apt-get install -y chromium !!!!!!!!\n`,
  );
}
const artifacts = path.join(repoRoot, 'test-artifacts');

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A page that records every console error and uncaught exception. */
async function openPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

/** Every `data-k` figure on the page, by its path in the status object. */
async function figures(page: Page, scope = 'body'): Promise<[string, string][]> {
  return page.$$eval(`${scope} [data-k]`, (els) => els.map((e) => [e.getAttribute('data-k')!, e.textContent ?? ''] as [string, string]));
}

function expected(status: Record<string, unknown>, key: string): string {
  const value = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | null)?.[k], status);
  if (typeof value === 'number') return value.toLocaleString('en-US');
  if (value === null || value === undefined) return '—';
  return String(value).replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

describe.skipIf(!hasChromium)('dashboard in headless Chromium', () => {
  let browser: Browser;
  const tmp = tempDir('bulktext-dashboard-');
  const db = path.join(tmp.dir, 'ledger with space.db');

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    tmp.cleanup();
  });

  it('every page loads without console errors, and a run page shows exactly what status --json says', async () => {
    // A run with a STOP refusal (failed 40300) and an undeliverable recipient (receipt 40008), then one
    // whose request is in doubt (unknown), so failures, receipts and unknown rows are all on the pages.
    const { job, numbers } = writeCampaign(tmp.dir, { rows: 12, rate: 200 });
    const port = await freePort();
    const sim = await startSimulator({
      apiKey: 'k',
      accountRate: 10_000,
      senderRates: { longCode: 10_000 },
      lifecycle: { sendingMs: 10, deliveryMs: 30 },
      stopList: [numbers[2]!],
      outcomes: { recipients: { [numbers[5]!]: '40008' } },
      faults: { recipients: { [numbers[7]!]: ['accept_then_reset'] } },
      // One try each: the first run's receipts find no receiver and are dropped (its in-doubt row must stay
      // unknown), rather than retried into the second run's receiver; a patient one for the second run's.
      webhooks: { defaultWebhookUrl: `http://127.0.0.1:${port}/telnyx`, triesPerUrl: 1, timeoutMs: 10_000 },
    });
    try {
      const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url, TELNYX_PUBLIC_KEY: sim.publicKey });
      // No receiver for the first run: the in-doubt row stays unknown. The second run gets its receipts.
      const first = await runCli(['run', job, '--db', db, '--json', '--quiet'], { env });
      expect(first.code).toBe(3);
      // The second run's request to that recipient is answered normally: a second in-doubt request to the
      // same number would let its receipt be matched to either run's unknown row. Its receipts go to a port
      // of their own: on a busy machine a first-run receipt still on its way would otherwise reach the second
      // run's receiver and (rightly) resolve the first run's in-doubt row this test needs to see.
      const secondPort = await freePort();
      await sim.configure({
        faults: {},
        webhooks: { defaultWebhookUrl: `http://127.0.0.1:${secondPort}/telnyx`, triesPerUrl: 1, timeoutMs: 10_000 },
      });
      const second = await runCli(['run', job, '--db', db, '--json', '--quiet', '--force', '--allow-repeat', '--webhooks-port', String(secondPort)], { env });
      expect(second.code).toBe(0);
    } finally {
      await sim.close();
    }
    const statuses = JSON.parse((await runCli(['status', '--db', db, '--json'])).stdout) as Record<string, any>[];
    expect(statuses).toHaveLength(2);

    const dash = startCli(['dashboard', '--port', '0', '--db', db], { timeoutMs: 60_000 });
    try {
      const url = await waitFor('the dashboard URL', () => /dashboard on (http:\S+?)\/? /.exec(dash.output().stdout)?.[1]);
      const { page, errors } = await openPage(browser);

      await page.goto(`${url}/`);
      for (const s of statuses) {
        for (const [key, text] of await figures(page, `tr[data-run="${s.run_id}"]`)) expect(text, `${s.run_id} ${key}`).toBe(expected(s, key));
      }
      await page.screenshot({ path: path.join(artifacts, 'dashboard-runs.png'), fullPage: true });

      for (const s of statuses) {
        await page.goto(`${url}/runs/${s.run_id}`);
        // The live script replaces figures from the first event; wait for the chart it draws.
        await page.waitForSelector('#chart .uplot');
        const shown = await figures(page);
        expect(shown.length).toBeGreaterThan(15);
        for (const [key, text] of shown) expect(text, `${s.run_id} ${key}`).toBe(expected(s, key));
      }
      // The first run (listed second): a STOP refusal, explained from the one table of Telnyx codes, and
      // its in-doubt row with the commands that list and resend it, pasteable (the --db path quoted).
      const [latest, earliest] = [statuses[0]!, statuses[1]!];
      await page.goto(`${url}/runs/${earliest.run_id}`);
      await page.waitForSelector('#chart .uplot');
      expect(await page.textContent('#failures')).toContain('40300');
      expect(await page.textContent('#failures')).toContain('Blocked due to STOP message');
      const unknown = await page.textContent('#unknown');
      expect(unknown).toContain(`bulktext report ${earliest.run_id} --status unknown --db '${db}'`);
      expect(unknown).toContain(`bulktext resume ${earliest.run_id} --resend-unknown --db '${db}'`);
      // The second run: the opted-out number skipped as suppressed, the undeliverable receipt explained.
      await page.goto(`${url}/runs/${latest.run_id}`);
      await page.waitForSelector('#chart .uplot');
      expect(await page.textContent('#failures')).toContain('40008');
      expect(await page.textContent('#failures')).toContain('Undeliverable');
      expect(await page.textContent('#skipped')).toContain('suppressed');
      await page.screenshot({ path: path.join(artifacts, 'dashboard-run.png'), fullPage: true });
      // Report downloads, filtered by status.
      const csv = await (await page.request.get(`${url}/runs/${earliest.run_id}/report.csv?status=failed`)).text();
      expect(csv.trim().split('\n')).toHaveLength(2);
      expect(csv).toContain(',failed,');

      for (const p of ['schedule', 'suppressions']) {
        await page.goto(`${url}/${p}`);
        await page.screenshot({ path: path.join(artifacts, `dashboard-${p}.png`), fullPage: true });
      }
      // The STOP refusal put the number on the suppression list.
      expect(await page.textContent('main')).toContain('40300');
      expect(errors).toEqual([]);
    } finally {
      dash.child.kill('SIGINT');
      expect((await dash.done).code).toBe(0);
    }
  }, 120_000);

  it("a --sandbox run's live page advances while it sends", async () => {
    const dir = path.join(tmp.dir, 'live');
    mkdirSync(dir);
    // 240 rows at 40/s: about six seconds of sending.
    const { job } = writeCampaign(dir, { rows: 240, rate: 40, name: 'live-campaign' });
    const run = startCli(['run', job, '--sandbox', '--db', path.join(dir, 'l.db'), '--dashboard-port', '0'], { timeoutMs: 90_000 });
    try {
      const url = await waitFor('the dashboard URL', () => /dashboard on (http:\S+?)\/?\n/.exec(run.output().stderr)?.[1]);
      const runId = await waitFor('the run id', () => /^(?:sandbox )?run (\S+) \(job/m.exec(run.output().stderr)?.[1]);
      const { page, errors } = await openPage(browser);
      await page.goto(`${url}/runs/${runId}`);
      await page.waitForSelector('#chart .uplot');
      const progress = () => page.$eval('#progress', (e) => Number((e as unknown as { value: number }).value));
      const sent = () => page.$eval('[data-k="counts.sent"]', (e) => Number((e.textContent ?? '').replace(/,/g, '')));
      const start = { progress: await progress(), sent: await sent() };
      expect(start.progress).toBeLessThan(100);
      // No reload: only the page's event stream can move these.
      await waitFor('progress to advance', async () => ((await progress()) > start.progress && (await sent()) > start.sent ? true : undefined));
      expect(await page.textContent('#eta')).toMatch(/ETA|done/);
      await page.screenshot({ path: path.join(artifacts, 'dashboard-live.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      run.child.kill('SIGINT');
      await run.done;
    }
  }, 120_000);

  it("the scheduler's dashboard shows its job, next slots and slot history", async () => {
    const dir = path.join(tmp.dir, 'scheduled');
    mkdirSync(dir);
    writeCampaign(dir, { rows: 3, name: 'every-second', extraYaml: 'schedule:\n  cron: "* * * * * *"\n  timezone: UTC\n' });
    const daemon = startCli(['schedule', '--jobs', dir, '--sandbox', '--db', path.join(dir, 'l.db'), '--dashboard-port', '0'], { timeoutMs: 90_000 });
    try {
      const url = await waitFor('the dashboard URL', () => /dashboard on (http:\S+?)\/?\n/.exec(daemon.output().stderr)?.[1]);
      const { page, errors } = await openPage(browser);
      const history = await waitFor('a started slot on the schedule page', async () => {
        await page.goto(`${url}/schedule`);
        const text = (await page.textContent('main')) ?? '';
        // The slot is marked started a moment before its run row exists; wait for the link to that run.
        const linked = (await page.locator('table >> nth=1 >> a').count()) > 0;
        return linked && /every-second.*started/s.test(text) ? text : undefined;
      }, 45_000);
      expect(history).toContain('* * * * * *');
      await page.screenshot({ path: path.join(artifacts, 'dashboard-schedule-live.png'), fullPage: true });
      // Each slot links to the run it started.
      await page.click('table >> nth=1 >> a');
      expect(await page.textContent('h1')).toContain('every-second');
      expect(errors).toEqual([]);
    } finally {
      daemon.child.kill('SIGINT');
      expect((await daemon.done).code).toBe(0);
    }
  }, 90_000);

  it('off loopback it needs the token: the browser signs in through the form', async () => {
    const token = 'correct-horse-battery-staple';
    const refused = await runCli(['dashboard', '--host', '0.0.0.0', '--port', '0', '--db', db]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('BULKTEXT_DASHBOARD_TOKEN');
    const dash = startCli(['dashboard', '--port', '0', '--db', db], { env: cliEnv({ BULKTEXT_DASHBOARD_TOKEN: token }), timeoutMs: 60_000 });
    try {
      const url = await waitFor('the dashboard URL', () => /dashboard on (http:\S+?)\/? /.exec(dash.output().stdout)?.[1]);
      expect((await fetch(`${url}/`)).status).toBe(401);
      expect((await fetch(`${url}/`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
      expect((await fetch(`${url}/`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      const { page, errors } = await openPage(browser);
      await page.goto(`${url}/suppressions`);
      expect(page.url()).toContain('/login');
      await page.fill('input[name=token]', 'not-the-token-at-all');
      await page.click('button');
      expect(await page.textContent('main')).toContain('not the one');
      await page.fill('input[name=token]', token);
      await page.click('button');
      await page.waitForURL(`${url}/suppressions`);
      expect(await page.textContent('h1')).toContain('Suppressions');
      // A failed sign-in answers 401, which the browser logs as a console error; nothing else may.
      expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
    } finally {
      dash.child.kill('SIGINT');
      await dash.done;
    }
  }, 60_000);
});
