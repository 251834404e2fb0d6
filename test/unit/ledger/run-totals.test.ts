/**
 * The totals the ledger's triggers keep (migration 10) against a fresh count of the rows, after every
 * kind of write a run's rows see: ingest, send outcomes, in-doubt rows, re-queues, cancel, receipts,
 * reconcile, resume's skips and expiries, test runs, prune, and deletes. And the back-fill of a ledger
 * written before the totals existed.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cancelRun } from '../../../src/campaign/cancel-run.js';
import { deliveryStoreFor, type DeliveryWrite } from '../../../src/ledger/delivery-store.js';
import { Ledger, type NewMessageRow } from '../../../src/ledger/ledger.js';
import { migrations } from '../../../src/ledger/migrations.js';
import { countedTotals, keptTotals } from '../../../src/ledger/run-totals.js';
import { planVsActual } from '../../../src/plan/ledger-plan.js';
import { createLedgerAt, withLedgerSql } from '../../helpers/ledger-sql.js';
import { tempDir } from '../../helpers/temp.js';
import { messageStoreOf } from '../../../src/ledger/message-store.js';
import { runStoreOf } from '../../../src/ledger/run-store.js';
import { maintenanceOf } from '../../../src/ledger/maintenance.js';

let tmp: ReturnType<typeof tempDir>;
let ledger: Ledger;

beforeEach(() => {
  tmp = tempDir();
  ledger = new Ledger(path.join(tmp.dir, 'ledger.db'));
});
afterEach(() => {
  ledger.close();
  tmp.cleanup();
});

const T0 = 1_700_000_000_000;
const createRun = (runId: string, startedAt = T0) =>
  runStoreOf(ledger).createRun({
    runId, jobName: 'job', jobFile: '/jobs/job.yaml', jobSpec: '{}', specHash: 'h', sourcePath: '/data/a.csv', sourceSha256: runId,
    sandbox: false, startedAt,
  }).rid;

const row = (n: number, status: NewMessageRow['status'] = 'pending'): NewMessageRow => ({
  row: n, line: n + 1, to: `+1415555${String(n).padStart(4, '0')}`, sender: '+18445550001', text: `hi ${n}`, subject: null,
  parts: 1 + (n % 3), encoding: 'GSM-7', status, ...(status === 'skipped' ? { errorCode: 'duplicate', errorDetail: 'duplicate' } : {}),
});

const accepted = (n: number, at: number) => ({ row: n, attempt: 1, startedAt: at, latencyMs: 2, httpStatus: 200, outcome: 'accepted', telnyxCode: null, detail: `m${n}` });
const refused = (n: number, at: number, httpStatus: number, outcome: string) => ({ row: n, attempt: 1, startedAt: at, latencyMs: 2, httpStatus, outcome, telnyxCode: '40001', detail: null });

function sending(rid: number, rows: number[], at: number): void {
  messageStoreOf(ledger).commit(rid, { sending: rows.map((r) => ({ row: r, at })), outcomes: [], attempts: [] });
}

function sent(rid: number, rows: number[], at: number, cost: string | null = '0.0040'): void {
  sending(rid, rows, at);
  messageStoreOf(ledger).commit(rid, {
    sending: [],
    outcomes: rows.map((r) => ({ row: r, status: 'sent' as const, messageId: `m${rid}-${r}`, fromNumber: null, parts: null, cost, currency: cost === null ? null : 'USD', at })),
    attempts: rows.map((r) => ({ ...accepted(r, at), detail: `m${rid}-${r}` })),
  });
}

const receipt = (deliveryStatus: string, at: number, extra: Partial<DeliveryWrite> = {}): DeliveryWrite => ({
  deliveryStatus, errorCode: deliveryStatus === 'delivery_failed' ? '40008' : null, errorDetail: null,
  deliveredAt: deliveryStatus === 'sent' ? null : at, sentEventAt: at - 500, finalizedAt: deliveryStatus === 'sent' ? null : at,
  finalCost: null, finalCurrency: null, source: 'webhook', at, ...extra,
});

/** Every run's kept totals equal a fresh count, and the readers built on them agree with it too. */
function expectExact(rids: number[], step: string): void {
  for (const rid of rids) {
    const counted = countedTotals(ledger, rid);
    expect(keptTotals(ledger, rid), `${step}: run ${rid}`).toEqual(counted);
    const byStatus = new Map<string, number>();
    for (const [key, n] of Object.entries(counted.status)) byStatus.set(key.split('|')[0]!, (byStatus.get(key.split('|')[0]!) ?? 0) + n);
    const c = messageStoreOf(ledger).counts(rid);
    expect(c.total, `${step}: total`).toBe([...byStatus.values()].reduce((a, b) => a + b, 0));
    for (const [status, n] of byStatus) expect(c[status as keyof typeof c], `${step}: ${status}`).toBe(n);
    const sentRows = Object.values(counted.sent).reduce((a, b) => a + b.n, 0);
    expect(planVsActual(ledger, rid).actual.sent_rows, `${step}: sent rows`).toBe(sentRows);
    const d = deliveryStoreFor(ledger).deliveryCounts(rid);
    expect(Object.values(d).reduce((a, b) => a + b, 0), `${step}: delivery`).toBe(sentRows);
  }
}

describe('per-run totals', () => {
  it('equal a fresh count after every kind of write', () => {
    const a = createRun('a');
    const b = createRun('b');
    const runs = [a, b];
    // Ingest: pending and skipped rows, two runs side by side.
    ledger.insertRows(a, [...Array.from({ length: 60 }, (_, i) => row(i + 1)), row(61, 'skipped'), row(62, 'skipped')]);
    ledger.insertRows(b, Array.from({ length: 10 }, (_, i) => row(i + 1)));
    expectExact(runs, 'ingest');

    // Send outcomes: sent (without and with a cost), failed, a retry back to pending, in doubt, deferred, expired.
    sent(a, [1, 2, 3, 4, 5, 6, 7, 8], T0 + 1000);
    sent(a, [9, 10], T0 + 2000, null);
    sending(a, [11, 12, 13, 14], T0 + 3000);
    messageStoreOf(ledger).commit(a, {
      sending: [],
      outcomes: [
        { row: 11, status: 'failed', errorCode: '40310', errorDetail: 'invalid to', at: T0 + 3100 },
        { row: 12, status: 'failed', errorCode: '40001', errorDetail: 'blocked', at: T0 + 3100 },
        { row: 13, status: 'pending', errorCode: null, errorDetail: 'throttled', at: T0 + 3100 },
        { row: 14, status: 'unknown', errorCode: 'ECONNRESET', errorDetail: 'reset', at: T0 + 3100 },
      ],
      attempts: [refused(11, T0 + 3000, 400, 'rejected'), refused(12, T0 + 3000, 400, 'rejected'), refused(13, T0 + 3000, 429, 'throttled')],
    });
    messageStoreOf(ledger).commit(a, {
      sending: [],
      outcomes: [
        { row: 15, status: 'deferred', until: T0 + 60_000, errorDetail: 'window closed', at: T0 + 3200 },
        { row: 16, status: 'deferred', until: T0 + 60_000, errorDetail: 'window closed', at: T0 + 3200 },
        { row: 17, status: 'expired', errorDetail: 'too late', at: T0 + 3200 },
      ],
      attempts: [],
    });
    messageStoreOf(ledger).commit(a, { sending: [], outcomes: [{ row: 15, status: 'deferred', until: T0 + 90_000, errorDetail: 'still closed', at: T0 + 3300 }], attempts: [] });
    sent(b, [1, 2, 3], T0 + 1500);
    expectExact(runs, 'send outcomes');

    // Send marks the commit counts itself: a deferred row whose window opened, and a re-queued row with a code.
    sending(a, [23], T0 + 3400);
    messageStoreOf(ledger).commit(a, { sending: [], outcomes: [{ row: 23, status: 'pending', errorCode: '429', errorDetail: 'throttled', at: T0 + 3500 }], attempts: [refused(23, T0 + 3400, 429, 'throttled')] });
    expectExact(runs, 're-queued with a code');
    messageStoreOf(ledger).commit(a, { sending: [{ row: 15, at: T0 + 3600 }, { row: 23, at: T0 + 3600 }, { row: 24, at: T0 + 3600 }], outcomes: [], attempts: [] });
    expectExact(runs, 'send marks from deferred, re-queued and pending rows');
    messageStoreOf(ledger).commit(a, {
      sending: [],
      outcomes: [15, 23, 24].map((r) => ({ row: r, status: 'sent' as const, messageId: `m${a}-${r}`, fromNumber: null, parts: null, cost: '0.0040', currency: 'USD', at: T0 + 3700 })),
      attempts: [15, 23, 24].map((r) => ({ ...accepted(r, T0 + 3600), detail: `m${a}-${r}` })),
    });
    expectExact(runs, 'sent after those marks');

    // A process died with rows on the wire: they become unknown.
    sending(a, [18, 19], T0 + 4000);
    expect(messageStoreOf(ledger).markInFlightUnknown(a, T0 + 5000)).toBe(2);
    expectExact(runs, 'in flight → unknown');

    // resume --retry-failed and --resend-unknown.
    expect(messageStoreOf(ledger).reopenFailed(a, undefined, T0 + 6000)).toBe(2);
    expectExact(runs, 'retry-failed');
    expect(messageStoreOf(ledger).reopenUnknown(a, T0 + 6100)).toBe(3);
    expectExact(runs, 'resend-unknown');

    // Receipts: sent, then final statuses, a final cost that differs from the send-time one, a failed delivery.
    const store = deliveryStoreFor(ledger);
    store.updateDelivery(a, 1, receipt('sent', T0 + 7000));
    store.updateDelivery(a, 1, receipt('delivered', T0 + 7500, { finalCost: '0.0050', finalCurrency: 'USD' }));
    store.updateDelivery(a, 2, receipt('delivered', T0 + 7600));
    store.updateDelivery(a, 3, receipt('delivery_failed', T0 + 8100));
    store.updateDelivery(a, 9, receipt('delivered', T0 + 8200, { finalCost: '0.0040', finalCurrency: 'USD' }));
    store.updateDelivery(b, 1, receipt('delivered', T0 + 8300));
    expectExact(runs, 'webhook receipts');
    // Reconcile corrects a receipt (a later, different final word and time).
    store.updateDelivery(a, 3, receipt('delivered', T0 + 9100, { source: 'reconcile', finalCost: '0.0045', finalCurrency: 'USD' }));
    store.updateDelivery(a, 4, receipt('delivery_unconfirmed', T0 + 9200, { source: 'reconcile' }));
    expectExact(runs, 'reconcile');

    // A receipt proves an in-doubt request was accepted: unknown → sent.
    sending(a, [20], T0 + 10_000);
    messageStoreOf(ledger).commit(a, { sending: [], outcomes: [{ row: 20, status: 'unknown', errorCode: 'timeout', errorDetail: 'timed out', at: T0 + 10_100 }], attempts: [] });
    expect(store.resolveUnknown(a, 20, { messageId: 'resolved-20', fromNumber: '+18445550001', parts: 2, cost: '0.0080', currency: 'USD', sentAt: T0 + 10_050, at: T0 + 11_000 })).toBe(true);
    store.updateDelivery(a, 20, receipt('delivered', T0 + 11_500));
    expectExact(runs, 'in doubt resolved');

    // Resume's writes: rows another run texted meanwhile are skipped; the deadline expires the rest of a few.
    messageStoreOf(ledger).commit(a, { sending: [], outcomes: [{ row: 21, status: 'skipped', errorCode: 'opted_out', errorDetail: 'STOP', at: T0 + 12_000 }], attempts: [] });
    expect(messageStoreOf(ledger).expireUnsent(b, 'deadline passed', T0 + 12_100)).toBe(7);
    expectExact(runs, 'resume skips and expiry');

    // Cancel of an interrupted run with a row left sending: in doubt for good.
    sending(a, [22], T0 + 13_000);
    runStoreOf(ledger).setRunState(a, 'interrupted', { stopCode: 'interrupted' });
    expect(cancelRun(ledger, 'a', T0 + 14_000)).toMatchObject({ kind: 'cancelled', inDoubt: 1 });
    expectExact(runs, 'cancel');

    // Prune, keeping counts, then not: the second deletes rows that never became a message.
    runStoreOf(ledger).setRunState(b, 'completed', { finishedAt: T0 + 15_000 });
    expect(maintenanceOf(ledger).prune(T0 + 20_000, { keepCounts: true, now: T0 + 20_000 }).runs).toBe(2);
    expectExact(runs, 'prune --keep-counts');
    const c = createRun('c', T0 + 21_000);
    ledger.insertRows(c, [row(1), row(2, 'skipped')]);
    sent(c, [1], T0 + 21_500);
    runStoreOf(ledger).setRunState(c, 'completed', { finishedAt: T0 + 22_000 });
    expect(maintenanceOf(ledger).prune(T0 + 30_000, { keepCounts: false, now: T0 + 30_000 }).deletedRows).toBe(1);
    expectExact([...runs, c], 'prune');
  });

  it('equal a fresh count after a test run keeps its rows and a dead ingest is cleared or deleted', () => {
    const t = createRun('t');
    ledger.insertRows(t, [row(1), row(2), row(3, 'skipped'), row(4)]);
    messageStoreOf(ledger).keepTestRows(t, ['+14155559999'], T0 + 1000);
    expectExact([t], 'test run');
    const d = createRun('d');
    ledger.insertRows(d, [row(1), row(2, 'skipped')]);
    runStoreOf(ledger).clearRows(d);
    expectExact([d], 'clearRows');
    ledger.insertRows(d, [row(1), row(2)]);
    runStoreOf(ledger).deleteRun(d);
    expect(keptTotals(ledger, d)).toEqual({ status: {}, sent: {}, seconds: {} });
    expect(messageStoreOf(ledger).counts(d).total).toBe(0);
  });

  it('equal a fresh count when ingest counts its own batches, and every other insert is still counted by the trigger', () => {
    const a = createRun('a');
    const b = createRun('b');
    const skip = (n: number, code: string): NewMessageRow => ({ ...row(n, 'skipped'), errorCode: code, errorDetail: `${code}: row ${n}` });
    // 123 rows: two full 50-row statements and 23 single inserts, pending and skipped under several codes.
    const mixed = Array.from({ length: 123 }, (_, i) =>
      i % 7 === 3 ? skip(i + 1, 'invalid_number') : i % 11 === 5 ? skip(i + 1, 'duplicate') : i % 13 === 0 ? skip(i + 1, 'already_sent') : row(i + 1));
    ledger.insertRows(a, mixed.slice(0, 100));
    ledger.insertRows(b, mixed.slice(0, 7));
    ledger.insertRows(a, mixed.slice(100));
    expectExact([a, b], 'batches');
    expect(keptTotals(ledger, a).status['skipped|invalid_number']).toBe(mixed.filter((r) => r.errorCode === 'invalid_number').length);

    // A batch that fails (its row 3 exists) writes nothing and counts nothing: the rows and the count roll back together.
    expect(() => ledger.insertRows(b, [row(8), row(9), row(3)])).toThrow(/UNIQUE/);
    expect(messageStoreOf(ledger).counts(b).total).toBe(7);
    expectExact([a, b], 'failed batch');

    // Inserts by anyone else (another connection, a script) are counted by the trigger: ingest leaves it on.
    withLedgerSql(ledger.path, (sql) => {
      expect(sql.value(`SELECT count(*) FROM messages_insert_counted`)).toBe(0);
      sql.run(`INSERT INTO messages (rid, row, line, to_number, status, error_code, parts, updated_at) VALUES (?, 500, 501, '+14155550500', 'skipped', 'manual', 1, 1)`, b);
      sql.run(
        `INSERT INTO messages (rid, row, line, to_number, status, parts, cost, currency, delivery_status, delivered_at, updated_at)
         VALUES (?, 501, 502, '+14155550501', 'sent', 2, '0.0040', 'USD', 'delivered', ?, 1)`,
        b, T0 + 5000,
      );
    });
    expectExact([a, b], 'other inserts');
    expect(keptTotals(ledger, b).status).toMatchObject({ 'skipped|manual': 1, 'sent|': 1 });

    // Rows as ingested store no time of their own (updated_at 0, see message-insert.ts); a write to a row sets it.
    sent(b, [2], T0 + 6000);
    withLedgerSql(ledger.path, (sql) => {
      expect(sql.all(`SELECT row, updated_at AS at FROM messages WHERE rid = ? AND row IN (2, 3) ORDER BY row`, b)).toEqual([
        { row: 2, at: T0 + 6000 },
        { row: 3, at: 0 },
      ]);
    });
    expectExact([a, b], 'sent after ingest');
  });

  it('are back-filled for a ledger written before they existed', () => {
    ledger.close();
    const file = path.join(tmp.dir, 'old.db');
    createLedgerAt(file, migrations.filter((m) => m.version <= 9).map((m) => m.sql).join('\n'), 9);
    withLedgerSql(file, (old) => {
    old.exec(`INSERT INTO runs (rid, run_id, job_name, job_file, job_spec, spec_hash, source_path, source_sha256, state, started_at)
              VALUES (1, 'old', 'job', 'j', '{}', 'h', 's', 'x', 'completed', ${T0})`);
    const insert = (...params: unknown[]) =>
      old.run(
        `INSERT INTO messages (rid, row, line, to_number, status, parts, cost, currency, final_cost, final_currency, delivery_status, delivered_at, updated_at)
         VALUES (1, ?, ?, ?, ?, ?, ?, 'USD', ?, ?, ?, ?, 0)`,
        ...params,
      );
    const statuses = ['sent', 'sent', 'sent', 'failed', 'skipped', 'unknown', 'pending'];
    for (let i = 1; i <= 70; i++) {
      const status = statuses[i % statuses.length]!;
      const delivered = status === 'sent' && i % 2 === 0;
      insert(i, i + 1, `+1415555${i}`, status, 1 + (i % 2), status === 'sent' ? '0.0040' : null, delivered ? '0.0050' : null, delivered ? 'USD' : null,
        delivered ? 'delivered' : null, delivered ? T0 + i * 700 : null);
      if (status === 'sent') old.run(`INSERT INTO attempts (rid, row, attempt, started_at, outcome) VALUES (1, ?, 1, ?, 'accepted')`, i, T0 + i * 300);
    }
    });
    ledger = new Ledger(file);
    const kept = keptTotals(ledger, 1);
    expect(kept).toEqual(countedTotals(ledger, 1));
    expect(kept.status).toEqual({ 'sent|': 30, 'failed|': 10, 'skipped|': 10, 'unknown|': 10, 'pending|': 10 });
    expect(Object.keys(kept.seconds).length).toBeGreaterThan(10);
  });
});
