/**
 * The library API (src/index.ts) over real parts: a real ledger file, the sandbox simulator in its
 * worker thread, the simulator and webhook receiver on 127.0.0.1. The installed package's own import
 * by name is proved in test/e2e/package.e2e.test.ts.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  getStatus,
  listRuns,
  planJob,
  reportColumns,
  reportRows,
  resumeCampaign,
  startCampaign,
  startSimulator,
  startWebhooks,
  isAppError,
  type InProcessSimulator,
  type RunProgress,
  type Webhooks,
} from '../../src/index.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { repoRoot } from '../helpers/cli.js';
import { writeCampaign } from '../helpers/campaign-files.js';
import { tempDir } from '../helpers/temp.js';

const sampleJob = path.join(repoRoot, 'jobs/spring-promo.yaml');

let tmp: ReturnType<typeof tempDir>;
let sim: InProcessSimulator | undefined;
let webhooks: Webhooks | undefined;

beforeEach(() => {
  tmp = tempDir('bulktext-api-');
});
afterEach(async () => {
  await webhooks?.close();
  await sim?.close();
  sim = webhooks = undefined;
  tmp.cleanup();
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('library API', () => {
  it('plans, runs a sandbox campaign with progress, and reads status and report', async () => {
    const db = path.join(tmp.dir, 'ledger.db');
    const { plan, ledger } = await planJob(sampleJob);
    expect(ledger).toBeNull();
    expect(plan.rows.sendable).toBe(33);

    const progress: RunProgress[] = [];
    let created: string | undefined;
    const status = await startCampaign(sampleJob, {
      db,
      sandbox: true,
      plan: plan.plan_hash,
      onCreated: (id) => (created = id),
      onProgress: (p) => progress.push(p),
    });
    expect(status).toMatchObject({ run_id: created, state: 'completed', sandbox: true });
    expect(status.counts).toMatchObject({ total: 40, sent: 33, skipped: 7, pending: 0, unknown: 0 });
    // The sandbox's receipts reach the run's own receiver, as with `run --sandbox`.
    expect(status.delivery.delivered).toBe(33);
    expect(progress).toHaveLength(33);
    expect(progress.at(-1)).toEqual({ runId: created, toSend: 33, sent: 33, failed: 0, unknown: 0 });

    expect(getStatus(status.run_id, { db })).toEqual(status);
    expect(listRuns({ db }).map((s) => s.run_id)).toEqual([status.run_id]);
    const rows = [...reportRows(status.run_id, { db })];
    expect(rows).toHaveLength(40);
    expect(Object.keys(rows[0]!)).toEqual([...reportColumns]);
    expect(rows.filter((r) => r.status === 'sent' && r.delivery_status === 'delivered')).toHaveLength(33);
  });

  // Two sandbox runs, each starting a simulator worker from the TypeScript sources: under a loaded machine
  // that alone has taken over 10 s, so the test bounds its own time above the suite's 30 s.
  it('stops on its AbortSignal, leaves the run resumable, and resume sends each row once', { timeout: 90_000 }, async () => {
    const db = path.join(tmp.dir, 'ledger.db');
    // 30 rows at 20/s: the abort at the 5th send still leaves most of them pending for resume.
    const { job } = writeCampaign(tmp.dir, { rows: 30, rate: 20, perSender: 20, maxConcurrent: 2 });
    const controller = new AbortController();
    const first = await startCampaign(job, {
      db,
      sandbox: true,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.sent === 5) controller.abort();
      },
    });
    expect(first.state).toBe('interrupted');
    expect(first.counts.sent).toBeGreaterThanOrEqual(5);
    expect(first.counts.pending).toBeGreaterThan(0);

    const resumed = await resumeCampaign(first.run_id, { db });
    expect(resumed).toMatchObject({ run_id: first.run_id, state: 'completed' });
    expect(resumed.counts).toMatchObject({ total: 30, sent: 30, pending: 0, unknown: 0, failed: 0 });
    const ids = [...reportRows(first.run_id, { db })].map((r) => r.message_id);
    expect(new Set(ids).size).toBe(30);
  });

  it('runs against the simulator in-process, with receipts through startWebhooks', async () => {
    const db = path.join(tmp.dir, 'ledger.db');
    sim = await startSimulator({ apiKey: 'api-test-key', lifecycle: { sendingMs: 20, deliveryMs: 50 } });
    // Only a run creates a ledger: a receiver on a mistyped path would store STOPs where no run reads them.
    await expect(startWebhooks({ db, publicKey: sim.publicKey })).rejects.toMatchObject({ code: 'ERR_LEDGER_NOT_FOUND' });
    new Ledger(db).close(); // the ledger an earlier run would have left
    webhooks = await startWebhooks({ db, publicKey: sim.publicKey });
    await sim.configure({ webhooks: { defaultWebhookUrl: webhooks.url } });

    const status = await startCampaign(sampleJob, { db, apiKey: 'api-test-key', baseUrl: sim.url });
    expect(status).toMatchObject({ state: 'completed', sandbox: false });
    expect(status.counts.sent).toBe(33);
    await until(() => getStatus(status.run_id, { db }).delivery.delivered === 33);
  });

  it('refuses a real run without a key, before creating anything', async () => {
    const db = path.join(tmp.dir, 'ledger.db');
    const err = await startCampaign(sampleJob, { db }).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_ENV_MISSING')).toBe(true);
    expect(() => listRuns({ db })).toThrow(/no ledger/);
  });

  it('resumes only in a ledger that exists: a mistyped path is refused and no file is left behind', async () => {
    const db = path.join(tmp.dir, 'typo.db');
    const err = await resumeCampaign('20261207-000000-0000', { db, sandbox: true }).catch((e: unknown) => e);
    expect(isAppError(err, 'ERR_LEDGER_NOT_FOUND')).toBe(true);
    expect(existsSync(db)).toBe(false);
  });
});
