/**
 * The dispatcher over a ledger that answers with Promises (as PostgreSQL will): the real SQLite ledger
 * behind a real asynchronous boundary (test/helpers/async-ledger.ts), the real sender over HTTP to the
 * simulator on 127.0.0.1. The rules are the synchronous ones: every row sent once, a mark committed and
 * durable before its request, a failed commit stops the run with its own error, a killed run leaves its
 * in-flight rows to become unknown.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Dispatcher, type DispatcherOptions } from '../../src/dispatch/dispatcher.js';
import type { DispatchLedger } from '../../src/dispatch/ports.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { AppError } from '../../src/shared/errors.js';
import { createMessageSender } from '../../src/telnyx/message-sender.js';
import type { SimRecord } from '../../src/telnyx/simulator/store.js';
import { AsyncDispatchLedger } from '../helpers/async-ledger.js';
import { seedRun } from '../helpers/ledger.js';
import { useSimulator } from '../helpers/simulator.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';

const FROM = '+18445550001';
const env = useSimulator();

const to = (i: number) => `+1415555${String(1000 + i).padStart(4, '0')}`;

function seed(n: number): number {
  return seedRun(env.ledger, 'async-run', Array.from({ length: n }, (_, i) => ({ to: to(i), sender: FROM, text: 'hi' })));
}

function dispatcher(ledger: DispatchLedger, over: Partial<DispatcherOptions> = {}): Dispatcher {
  return new Dispatcher({
    ledger,
    sender: createMessageSender(env.client, { kind: 'long_code' }),
    rate: { messagesPerSecond: 5000, perSenderPerSecond: 5000, maxConcurrent: 16, countParts: false },
    retry: { attempts: 3, minDelayMs: 5, maxDelayMs: 20 },
    ...over,
  });
}

/** The simulator's records by ledger row (rows are numbered from 1, recipients from to(0)). */
function requestsByRow(rows: number): Map<number, SimRecord[]> {
  const byRow = new Map<number, SimRecord[]>();
  for (let row = 1; row <= rows; row++) byRow.set(row, env.sim.engine.store.byRecipient(to(row - 1)));
  return byRow;
}

describe('the dispatcher over an asynchronous ledger', () => {
  it('sends every row exactly once, each request after its mark was committed and durable, one commit and one read at a time', { timeout: 30_000 }, async () => {
    await env.start({ simulator: { seed: 1, senderRates: { tollFree: 10_000 }, accountRate: 10_000 } });
    const rid = seed(300);
    const ledger = new AsyncDispatchLedger(env.ledger, rid, { delayMs: 2 });
    const summary = await dispatcher(ledger).run();
    expect(summary).toMatchObject({ stop: 'completed', sent: 300, failed: 0, unknown: 0 });
    expect(messageStoreOf(env.ledger).counts(rid)).toMatchObject({ sent: 300, pending: 0, sending: 0 });
    expect(env.sim.messages.count()).toBe(300);
    for (const [row, records] of requestsByRow(300)) {
      expect(records, `row ${row}`).toHaveLength(1);
      expect(records[0]!.receivedAt, `row ${row}`).toBeGreaterThanOrEqual(ledger.markedAt.get(row)!);
      expect(messageStoreOf(env.ledger).message(rid, row)).toMatchObject({ status: 'sent', messageId: records[0]!.id, attempts: 1 });
    }
    // Marks and outcomes went in more than one commit, never two at once.
    expect(ledger.commits).toBeGreaterThan(2);
    expect(ledger.maxInFlight).toEqual({ read: 1, commit: 1 });
  });

  it('retries and deferrals go through the asynchronous ledger in order: a retried row is marked, answered and marked again', { timeout: 30_000 }, async () => {
    // Every row's first request is refused with a 503 (nothing created), so every row moves
    // sending → pending → sending → sent; rows 1-3 are first deferred to a window that opens shortly.
    await env.start({ simulator: { seed: 2, senderRates: { tollFree: 10_000 }, accountRate: 10_000 } });
    const rid = seed(40);
    await env.sim.configure({ faults: { recipients: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [to(i), ['service_unavailable']])) } });
    const opensAt = Date.now() + 300;
    const ledger = new AsyncDispatchLedger(env.ledger, rid, { delayMs: 1 });
    const summary = await dispatcher(ledger, {
      admission: { wait: true, decide: (m, now) => (m.row <= 3 && now < opensAt ? { action: 'defer', until: opensAt, reason: 'quiet hours' } : { action: 'send' }) },
    }).run();
    expect(summary).toMatchObject({ stop: 'completed', sent: 40, failed: 0 });
    for (const [row, records] of requestsByRow(40)) {
      expect(records, `row ${row}`).toHaveLength(1);
      expect(messageStoreOf(env.ledger).attempts(rid, row).map((a) => a.outcome)).toEqual(['retryable', 'accepted']);
    }
    for (const row of [1, 2, 3]) expect(requestsByRow(3).get(row)![0]!.receivedAt).toBeGreaterThanOrEqual(opensAt);
    expect(ledger.maxInFlight).toEqual({ read: 1, commit: 1 });
  });

  it('a commit that rejects mid-run stops the run with its error, as a thrown one does; no accepted row is left pending', { timeout: 30_000 }, async () => {
    await env.start({ simulator: { seed: 3, senderRates: { tollFree: 10_000 }, accountRate: 10_000 } });
    const rid = seed(200);
    const refusal = new AppError('ERR_LEDGER_IO', 'disk I/O error while sending (test)');
    const asyncLedger = new AsyncDispatchLedger(env.ledger, rid, { failCommit: (n) => (n === 6 ? refusal : undefined) });
    await expect(dispatcher(asyncLedger).run()).rejects.toBe(refusal);
    // The synchronous ledger throwing the same error stops the run the same way.
    let commits = 0;
    const syncRun = dispatcher({
      nextPending: (a, l) => messageStoreOf(env.ledger).nextPending(rid, a, l),
      commit: (b) => {
        if (++commits === 2) throw refusal;
        messageStoreOf(env.ledger).commit(rid, b);
      },
    }).run();
    await expect(syncRun).rejects.toBe(refusal);

    // Every request the simulator took is recorded sent, or still `sending` (in doubt at resume); none pending.
    const counts = messageStoreOf(env.ledger).counts(rid);
    expect(counts.sent).toBeGreaterThan(0);
    expect(counts.pending).toBeGreaterThan(0);
    for (const [row, records] of requestsByRow(200)) {
      expect(records.length, `row ${row}`).toBeLessThanOrEqual(1);
      const status = messageStoreOf(env.ledger).message(rid, row)!.status;
      if (records.length === 1) expect(['sent', 'sending'], `row ${row}`).toContain(status);
      if (status === 'sent') expect(records, `row ${row}`).toHaveLength(1);
    }
  });

  it('a read that rejects (or throws) stops the run with its error; rows already taken settle, the rest stay pending', { timeout: 30_000 }, async () => {
    await env.start({ simulator: { seed: 5, senderRates: { tollFree: 10_000 }, accountRate: 10_000 } });
    const rid = seed(600);
    const refusal = new AppError('ERR_LEDGER_IO', 'connection lost while reading (test)');
    const inner = new AsyncDispatchLedger(env.ledger, rid);
    let reads = 0;
    // The first page (256 rows at 16 connections) is read; the second read fails.
    const run = dispatcher({ nextPending: (a, l) => (++reads === 2 ? Promise.reject(refusal) : inner.nextPending(a, l)), commit: (b) => inner.commit(b) }).run();
    await expect(run).rejects.toBe(refusal);
    const counts = messageStoreOf(env.ledger).counts(rid);
    expect(counts).toMatchObject({ sending: 0, failed: 0, unknown: 0 });
    expect(counts.sent + counts.pending).toBe(600);
    expect(counts.pending).toBeGreaterThanOrEqual(600 - 256);
    expect(env.sim.messages.count()).toBe(counts.sent);

    // The synchronous ledger throwing the same error stops the run the same way.
    let syncReads = 0;
    const syncRun = dispatcher({
      nextPending: (a, l) => {
        if (++syncReads === 2) throw refusal;
        return messageStoreOf(env.ledger).nextPending(rid, a, l);
      },
      commit: (b) => messageStoreOf(env.ledger).commit(rid, b),
    }).run();
    await expect(syncRun).rejects.toBe(refusal);
    expect(messageStoreOf(env.ledger).counts(rid)).toMatchObject({ sending: 0, failed: 0, unknown: 0 });
    expect(env.sim.messages.count()).toBe(messageStoreOf(env.ledger).counts(rid).sent);
  });

  it('killed mid-run: the rows in flight become unknown at resume, the rest are sent once', { timeout: 60_000 }, async () => {
    // Slow answers keep requests in flight when the process dies.
    await env.start({ simulator: { seed: 4, senderRates: { tollFree: 10_000 }, accountRate: 10_000, faults: { probabilities: { latency: 1 }, latencyMs: 20 } } });
    const rows = 400;
    const rid = seed(rows);
    const child = spawnChild(env.file, rid, env.sim.url);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const deadline = Date.now() + 30_000;
    while (env.sim.messages.count() < 80 && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(env.sim.messages.count()).toBeLessThan(rows);

    // What `resume` does first: rows left `sending` by the dead process are in doubt.
    const reopened = new Ledger(env.file);
    try {
      const inDoubt = messageStoreOf(reopened).markInFlightUnknown(rid);
      expect(inDoubt).toBeLessThanOrEqual(8);
      const ledger = new AsyncDispatchLedger(reopened, rid);
      const summary = await dispatcher(ledger).run();
      expect(summary.stop).toBe('completed');
      const counts = messageStoreOf(reopened).counts(rid);
      expect(counts).toMatchObject({ pending: 0, sending: 0, unknown: inDoubt });
      expect(counts.sent + counts.unknown).toBe(rows);
      for (const [row, records] of requestsByRow(rows)) {
        const status = messageStoreOf(reopened).message(rid, row)!.status;
        // Sent rows were requested exactly once; an unknown row at most once, and never again.
        if (status === 'sent') expect(records, `row ${row}`).toHaveLength(1);
        else expect(records.length, `row ${row}`).toBeLessThanOrEqual(1);
      }
    } finally {
      reopened.close();
    }
  });
});

/** The child process (TypeScript through the dev loader, as worker threads under vitest run it). */
function spawnChild(file: string, rid: number, baseUrl: string) {
  const loader = new URL('../../src/shared/dev-ts-loader.mjs', import.meta.url).href;
  const script = fileURLToPath(new URL('../helpers/async-ledger-child.ts', import.meta.url));
  const register = `data:text/javascript,import { register } from 'node:module'; register(${JSON.stringify(loader)});`;
  const child = spawn(process.execPath, ['--import', register, script, file, String(rid), baseUrl], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.setEncoding('utf8').on('data', (s: string) => process.stderr.write(s));
  child.stdout.resume();
  return child;
}
