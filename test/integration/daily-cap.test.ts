/**
 * A 10DLC brand's daily cap, counted per UTC day in the ledger: rows past it are deferred to the next
 * UTC midnight (never failed), another run the same day knows the day's use, and a resume the next day
 * sends them. The wall clock is injected (`now`), as the scheduler's tests do.
 */
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { executeRun } from '../../src/campaign/execute-run.js';
import { prepareResume } from '../../src/campaign/resume-run.js';
import { startRun } from '../../src/campaign/start-run.js';
import { loadAccountSpec } from '../../src/config/load-account-spec.js';
import { loadJobSpec } from '../../src/config/load-job-spec.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { SqliteLimitsStore } from '../../src/ledger/limits-store.js';
import { startLoggingServer, writeJob, type Arrival } from '../helpers/logging-server.js';
import { tempDir } from '../helpers/temp.js';
import type { ScriptedServer } from './client-scripted-server.js';

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

describe('a brand daily cap', () => {
  it('defers what is over the cap to the next UTC day, and a resume that day sends it', async () => {
    const accountFile = path.join(tmp.dir, 'account.yaml');
    writeFileSync(
      accountFile,
      'campaigns:\n  C1:\n    per_minute: 600\n    brand: acme\nbrands:\n  acme:\n    daily_cap: 5\nsenders:\n  - id: "+14155550101"\n    campaign: C1\n',
    );
    const account = await loadAccountSpec(accountFile, {}, tmp.dir);
    const spec = await loadJobSpec(writeJob(tmp.dir, 'capped', 8, '415', '+14155550101'));
    let clock = DAY1;
    const now = () => clock;
    const { run } = await startRun(ledger, spec, { sandbox: false, now });
    const events: { type: string; reason?: string }[] = [];

    const first = await executeRun(ledger, run, spec, { apiKey: 'k', baseUrl, wait: false, now, account, onEvent: (e) => events.push(e) });
    expect(first.summary.stop).toBe('deferred');
    expect(ledger.counts(run.rid)).toMatchObject({ sent: 5, deferred: 3, failed: 0, pending: 0 });
    expect(arrivals).toHaveLength(5);
    const store = new SqliteLimitsStore(ledger);
    expect(store.dailyUsed('brand:acme', '2026-12-07')).toBe(5);
    const deferred = [...ledger.messages(run.rid)].filter((r) => r.status === 'deferred');
    expect(ledger.nextDeferral(run.rid)).toBe(Date.UTC(2026, 11, 8));
    expect(deferred[0]!.errorDetail).toBe("brand acme's daily cap of 5 is used up for 2026-12-07 (UTC); resets 00:00 UTC");
    expect(events.some((e) => e.type === 'deferred' && e.reason?.includes('daily cap') === true)).toBe(true);

    // Another run the same day knows the day's use from the ledger: nothing goes.
    const other = await loadJobSpec(writeJob(tmp.dir, 'capped-too', 2, '212', '+14155550101'));
    const second = await startRun(ledger, other, { sandbox: false, now });
    await executeRun(ledger, second.run, other, { apiKey: 'k', baseUrl, wait: false, now, account });
    expect(ledger.counts(second.run.rid)).toMatchObject({ sent: 0, deferred: 2 });
    expect(arrivals).toHaveLength(5);

    // The next UTC day the cap has reset: the resume sends the deferred rows.
    clock = DAY2;
    const prepared = await prepareResume(ledger, run.runId);
    const resumed = await executeRun(ledger, prepared.run, prepared.spec, { apiKey: 'k', baseUrl, wait: false, now, account });
    expect(resumed.state).toBe('completed');
    expect(ledger.counts(run.rid)).toMatchObject({ sent: 8, deferred: 0, failed: 0 });
    expect(arrivals).toHaveLength(8);
    expect(store.dailyUsed('brand:acme', '2026-12-08')).toBe(3);
  }, 60_000);
});
