/**
 * Reconcile against the simulator's GET /v2/messages/{id} over real HTTP: final statuses and costs are
 * pulled into the ledger, rows older than Telnyx's 10-day horizon are reported and never fetched, GETs
 * are paced, and the CLI command prints what changed.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { reconcileRun, retrievableForMs } from '../../src/campaign/reconcile.js';
import { reconcileCommand } from '../../src/cli/commands/reconcile.js';
import type { Io } from '../../src/cli/io.js';
import { markSent, seedRun } from '../helpers/ledger.js';
import { withLedgerSql } from '../helpers/ledger-sql.js';
import { useSimulator } from '../helpers/simulator.js';
import { waitFor } from '../unit/webhooks/helpers.js';

const FROM = '+18445550001';
const A = '+14155550101';
const B = '+14155550102';
const C = '+14155550103';
const OLD = '+14155550104';
const GONE = '+14155550105';

const env = useSimulator();

beforeEach(() =>
  env.start({
    // No receipts: reconcile is how this ledger learns anything after the send.
    simulator: {
      seed: 9,
      lifecycle: { sendingMs: 5, deliveryMs: 10 },
      senderRates: { tollFree: 1000 },
      costAtSend: false,
      webhooks: { enabled: false },
      outcomes: { recipients: { [B]: '40008', [C]: { code: '40014' } } },
    },
  }),
);

function delivery(rid: number, row: number) {
  return withLedgerSql(env.ledger.path, (sql) =>
    sql.get(
      `SELECT delivery_status AS deliveryStatus, delivery_error_code AS code, final_cost AS finalCost, delivered_at AS deliveredAt,
              delivery_source AS source FROM messages WHERE rid = ? AND row = ?`,
      rid,
      row,
    ),
  ) as Record<string, unknown>;
}

/** Five sent rows: three real messages, one sent 11 days ago, one whose message the API does not know. */
async function seed(): Promise<{ rid: number; ids: string[] }> {
  const rows = [A, B, C, OLD, GONE].map((to) => ({ to, sender: FROM, text: `hi ${to}` }));
  const rid = seedRun(env.ledger, 'r1', rows);
  const ids: string[] = [];
  for (const [i, to] of [A, B, C].entries()) {
    const msg = await env.client.sendLongCode({ from: FROM, to, text: `hi ${to}` });
    markSent(env.ledger, rid, i + 1, msg.id, Date.now(), msg.cost?.amount ?? null);
    ids.push(msg.id);
  }
  markSent(env.ledger, rid, 4, 'm-old', Date.now() - retrievableForMs - 3_600_000);
  markSent(env.ledger, rid, 5, 'm-gone');
  // Wait until the simulator shows every message final.
  await waitFor(() => ids.every((id) => env.sim.messages.get(id)!.completed_at !== null), 'final statuses in the simulator');
  return { rid, ids };
}

describe('reconcileRun', () => {
  it('pulls final status, carrier error and cost; reports too-old rows without fetching them', async () => {
    const { rid, ids } = await seed();
    const before = (await env.sim.stats()).requests;
    const result = await reconcileRun(env.ledger, 'r1', { client: env.client, ratePerSecond: 100 });
    expect(result.updated).toEqual([
      { row: 1, messageId: ids[0], from: null, to: 'delivered' },
      { row: 2, messageId: ids[1], from: null, to: 'delivery_failed' },
      { row: 3, messageId: ids[2], from: null, to: 'expired' },
    ]);
    expect(result.checked).toBe(3);
    expect(result.tooOld).toEqual([{ row: 4, messageId: 'm-old', sentAt: expect.any(String) }]);
    expect(result.failed).toEqual([{ row: 5, messageId: 'm-gone', code: '10005', detail: expect.stringContaining('404') }]);
    // Three real messages and the unknown id were fetched; the 11-day-old one was not.
    expect((await env.sim.stats()).requests - before).toBe(4);
    const simA = env.sim.messages.get(ids[0]!)!;
    expect(delivery(rid, 1)).toMatchObject({ deliveryStatus: 'delivered', finalCost: simA.cost!.amount, deliveredAt: Date.parse(simA.completed_at!), source: 'reconcile' });
    expect(delivery(rid, 2)).toMatchObject({ deliveryStatus: 'delivery_failed', code: '40008' });
    expect(delivery(rid, 3)).toMatchObject({ deliveryStatus: 'expired', code: '40014' });
    expect(delivery(rid, 4)).toMatchObject({ deliveryStatus: null });

    // Again: the final rows are not asked about again, and nothing changes.
    const again = await reconcileRun(env.ledger, 'r1', { client: env.client, ratePerSecond: 100 });
    expect(again).toMatchObject({ checked: 0, updated: [], tooOld: [{ row: 4 }], failed: [{ row: 5 }] });
  });

  it('paces GETs through the rate gate', async () => {
    await seed();
    const started = performance.now();
    // 4 GETs at 4/s: the first is free, the other three wait ~0.25 s each.
    const result = await reconcileRun(env.ledger, 'r1', { client: env.client, ratePerSecond: 4, concurrency: 4 });
    const elapsed = performance.now() - started;
    expect(result.checked + result.failed.length).toBe(4);
    expect(elapsed).toBeGreaterThan(700);
    expect(elapsed).toBeLessThan(3000);
  });
});

describe('reconcileCommand', () => {
  function io(vars: Record<string, string>): Io & { out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), env: vars, isTTY: false, signal: new AbortController().signal, cwd: '/' };
  }

  it('prints what changed as JSON and exits 3 when a row could not be checked', async () => {
    await seed();
    const run = io({ TELNYX_API_KEY: 'test-key', TELNYX_BASE_URL: env.sim.url });
    const code = await reconcileCommand({ runId: 'r1', db: env.file, json: true, rate: 100 }, run);
    expect(code).toBe(3);
    const printed = JSON.parse(run.out.join('')) as { updated: { row: number; to: string }[]; tooOld: unknown[]; failed: unknown[] };
    expect(printed.updated.map((u) => [u.row, u.to])).toEqual([[1, 'delivered'], [2, 'delivery_failed'], [3, 'expired']]);
    expect(printed.tooOld).toHaveLength(1);
    const text = io({ TELNYX_API_KEY: 'test-key', TELNYX_BASE_URL: env.sim.url });
    await reconcileCommand({ runId: 'r1', db: env.file, json: false, rate: 100 }, text);
    expect(text.out.join('')).toMatch(/^reconciled run r1: checked 0 · updated 0 · too old 1 · failed 1\n/);
  });

  it('needs TELNYX_API_KEY', async () => {
    await seed();
    await expect(reconcileCommand({ runId: 'r1', db: env.file, json: true }, io({ TELNYX_BASE_URL: env.sim.url }))).rejects.toMatchObject({ code: 'ERR_ENV_MISSING' });
  });
});
