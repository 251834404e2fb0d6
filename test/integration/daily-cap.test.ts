/**
 * A 10DLC brand's daily cap, counted per UTC day in the ledger: rows past it are deferred to the next
 * UTC midnight (never failed), another run the same day knows the day's use, and a resume the next day
 * sends them. The wall clock is injected (`now`), as the scheduler's tests do.
 */
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { executeRun } from '../../src/campaign/execute-run.js';
import { planJob } from '../../src/api/plan.js';
import { prepareResume } from '../../src/campaign/resume-run.js';
import { startRun } from '../../src/campaign/start-run.js';
import type { AccountSpec } from '../../src/config/account-spec.js';
import type { JobSpec } from '../../src/config/job-spec.js';
import { loadAccountSpec } from '../../src/config/load-account-spec.js';
import { loadJobSpec } from '../../src/config/load-job-spec.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { SqliteLimitsStore } from '../../src/ledger/limits-store.js';
import { startLoggingServer, writeJob, type Arrival } from '../helpers/logging-server.js';
import { tempDir } from '../helpers/temp.js';
import type { ScriptedServer } from './client-scripted-server.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';

let tmp: ReturnType<typeof tempDir>;
let server: ScriptedServer;
let arrivals: Arrival[];
let baseUrl: string;
let ledger: Ledger;
beforeEach(async () => {
  tmp = tempDir('bulktext-daily-');
  ({ server, arrivals, baseUrl } = await startLoggingServer());
  ledger = new Ledger(path.join(tmp.dir, 'l.db'));
});
afterEach(async () => {
  ledger.close();
  await server.close();
  tmp.cleanup();
});

const DAY1 = Date.UTC(2026, 11, 7, 23, 0, 0);
const DAY2 = Date.UTC(2026, 11, 8, 0, 0, 30);

/** An injected wall clock set to `start` that runs (the processes' shares of the limits are settled in time); `set` moves it. */
function runningClock(start: number) {
  let base = start;
  let since = Date.now();
  return {
    now: () => base + (Date.now() - since),
    set(at: number) {
      base = at;
      since = Date.now();
    },
  };
}

/** Starts a run of an 8-row job on the clock's day and sends what the day's cap allows: 5 sent, 3 deferred. */
async function firstDay(spec: JobSpec, clock: { now: () => number }, url: string, account: AccountSpec | undefined, log: readonly Arrival[]) {
  const { run } = await startRun(ledger, spec, { sandbox: false, now: clock.now });
  const events: { type: string; reason?: string }[] = [];
  const first = await executeRun(ledger, run, spec, { apiKey: 'k', baseUrl: url, wait: false, now: clock.now, account, onEvent: (e) => events.push(e) });
  expect(first.summary.stop).toBe('deferred');
  expect(messageStoreOf(ledger).counts(run.rid)).toMatchObject({ sent: 5, deferred: 3, failed: 0, pending: 0 });
  expect(log).toHaveLength(5);
  return { run, events };
}

describe('a brand daily cap', () => {
  it('defers what is over the cap to the next UTC day, and a resume that day sends it', async () => {
    const accountFile = path.join(tmp.dir, 'account.yaml');
    writeFileSync(
      accountFile,
      'campaigns:\n  C1:\n    per_minute: 600\n    brand: acme\nbrands:\n  acme:\n    daily_cap: 5\nsenders:\n  - id: "+14155550101"\n    campaign: C1\n',
    );
    const account = await loadAccountSpec(accountFile, {}, tmp.dir);
    const spec = await loadJobSpec(writeJob(tmp.dir, 'capped', 8, '415', '+14155550101'));
    const clock = runningClock(DAY1);
    const now = clock.now;
    const { run, events } = await firstDay(spec, clock, baseUrl, account, arrivals);
    const store = new SqliteLimitsStore(ledger);
    expect(store.dailyUsed('brand:acme', '2026-12-07')).toBe(5);
    const deferred = [...messageStoreOf(ledger).messages(run.rid)].filter((r) => r.status === 'deferred');
    expect(messageStoreOf(ledger).nextDeferral(run.rid)).toBe(Date.UTC(2026, 11, 8));
    expect(deferred[0]!.errorDetail).toBe("brand acme's daily cap of 5 is used up for 2026-12-07 (UTC); resets 00:00 UTC");
    expect(events.some((e) => e.type === 'deferred' && e.reason?.includes('daily cap') === true)).toBe(true);

    // Another run the same day knows the day's use from the ledger: nothing goes.
    const other = await loadJobSpec(writeJob(tmp.dir, 'capped-too', 2, '212', '+14155550101'));
    const second = await startRun(ledger, other, { sandbox: false, now });
    await executeRun(ledger, second.run, other, { apiKey: 'k', baseUrl, wait: false, now, account });
    expect(messageStoreOf(ledger).counts(second.run.rid)).toMatchObject({ sent: 0, deferred: 2 });
    expect(arrivals).toHaveLength(5);

    // The next UTC day the cap has reset: the resume sends the deferred rows.
    clock.set(DAY2);
    const prepared = await prepareResume(ledger, run.runId);
    const resumed = await executeRun(ledger, prepared.run, prepared.spec, { apiKey: 'k', baseUrl, wait: false, now, account });
    expect(resumed.state).toBe('completed');
    expect(messageStoreOf(ledger).counts(run.rid)).toMatchObject({ sent: 8, deferred: 0, failed: 0 });
    expect(arrivals).toHaveLength(8);
    expect(store.dailyUsed('brand:acme', '2026-12-08')).toBe(3);
  }, 60_000);

  it('a daily spend cap counts the estimated price, corrects it to the cost Telnyx reports, and defers the rest', async () => {
    // Every answer reports half the job's price: 0.0020 against an estimated 0.0040 a segment.
    const priced = await startLoggingServer({ cost: '0.0020' });
    const { arrivals, baseUrl } = priced;
    onTestFinished(() => priced.server.close());
    const accountFile = path.join(tmp.dir, 'account.yaml');
    writeFileSync(accountFile, 'limits:\n  daily_spend_usd: "0.02"\nsenders:\n  - id: "+18445550001"\n    per_second: 20\n');
    const account = await loadAccountSpec(accountFile, {}, tmp.dir);
    const pricing = 'pricing:\n  per_part: "0.0040"\n';
    const spec = await loadJobSpec(writeJob(tmp.dir, 'spend', 8, '415', '+18445550001', pricing));
    const clock = runningClock(DAY1);
    const now = clock.now;
    // 0.02 USD holds five estimates of 0.0040: five go, three wait for the next UTC day.
    const { run, events } = await firstDay(spec, clock, baseUrl, account, arrivals);
    const reason = "the account's daily cap on spend of 0.02 USD is used up for 2026-12-07 (UTC); resets 00:00 UTC";
    expect([...messageStoreOf(ledger).messages(run.rid)].filter((r) => r.status === 'deferred').map((r) => r.errorDetail)).toEqual([reason, reason, reason]);
    expect(events.some((e) => e.type === 'deferred' && e.reason === reason)).toBe(true);
    // The ledger counts what Telnyx said they cost: 5 × 0.0020, in micro-dollars.
    const store = new SqliteLimitsStore(ledger);
    expect(store.dailyUsed('spend:USD', '2026-12-07')).toBe(10_000);

    // A second run the same day finds the corrected figure: room for two more estimates, not none.
    const other = await loadJobSpec(writeJob(tmp.dir, 'spend-too', 4, '212', '+18445550001', pricing));
    const second = await startRun(ledger, other, { sandbox: false, now });
    await executeRun(ledger, second.run, other, { apiKey: 'k', baseUrl, wait: false, now, account });
    expect(messageStoreOf(ledger).counts(second.run.rid)).toMatchObject({ sent: 2, deferred: 2 });
    expect(store.dailyUsed('spend:USD', '2026-12-07')).toBe(14_000);

    // The next UTC day the cap has reset: the resume sends the deferred rows.
    clock.set(DAY2);
    const prepared = await prepareResume(ledger, run.runId);
    const resumed = await executeRun(ledger, prepared.run, prepared.spec, { apiKey: 'k', baseUrl, wait: false, now, account });
    expect(resumed.state).toBe('completed');
    expect(messageStoreOf(ledger).counts(run.rid)).toMatchObject({ sent: 8, deferred: 0 });
    expect(store.dailyUsed('spend:USD', '2026-12-08')).toBe(6_000);
  }, 60_000);

  it('a job without a pricing block cannot run under a spend cap: it says what to add', async () => {
    const accountFile = path.join(tmp.dir, 'account.yaml');
    writeFileSync(accountFile, 'limits:\n  daily_spend_usd: "5"\n');
    const account = await loadAccountSpec(accountFile, {}, tmp.dir);
    const spec = await loadJobSpec(writeJob(tmp.dir, 'unpriced', 2, '415', '+18445550001'));
    const { run } = await startRun(ledger, spec, { sandbox: false });
    await expect(executeRun(ledger, run, spec, { apiKey: 'k', baseUrl, wait: false, account })).rejects.toThrow(/needs a pricing block in USD/);
    expect(arrivals).toHaveLength(0);
  }, 30_000);

  it('plan shows how many UTC days the spend cap stretches the campaign over, and the rows it defers', async () => {
    const accountFile = path.join(tmp.dir, 'account.yaml');
    writeFileSync(accountFile, 'limits:\n  daily_spend_usd: "0.01"\nsenders:\n  - id: "+18445550001"\n');
    const account = await loadAccountSpec(accountFile, {}, tmp.dir);
    // 8 rows × 0.0040 = 0.0320 USD: four UTC days at 0.01 a day; the first day holds 0.01 of it.
    const job = writeJob(tmp.dir, 'spend-plan', 8, '415', '+18445550001', 'pricing:\n  per_part: "0.0040"\n');
    const { plan } = await planJob(job, { account });
    expect(plan.limits.spend).toEqual({ cap: '0.01', source: 'account file limits.daily_spend_usd', estimate: '0.0320', days: 4, deferred_rows: 6 });
    expect(plan.limits.pace).toBe('spend_day');
  }, 30_000);
});
