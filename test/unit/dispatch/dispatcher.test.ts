import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Dispatcher, type DispatchEvent, type DispatcherOptions } from '../../../src/dispatch/dispatcher.js';
import type { MessageSender, PendingMessage, SendResult } from '../../../src/dispatch/ports.js';
import type { Ledger } from '../../../src/ledger/ledger.js';
import { seedRun, tempLedger, type TempLedger } from '../../helpers/ledger.js';
import { messageStoreOf } from '../../../src/ledger/message-store.js';

/** A port fake: answers each row from a script, records when each request was made. */
class ScriptedSender implements MessageSender {
  readonly calls: { row: number; at: number; sender: string | null }[] = [];
  constructor(private readonly script: (msg: PendingMessage, call: number) => SendResult | Promise<SendResult>) {}
  async send(msg: PendingMessage): Promise<SendResult> {
    const call = this.calls.filter((c) => c.row === msg.row).length + 1;
    this.calls.push({ row: msg.row, at: performance.now(), sender: msg.sender });
    await new Promise((r) => setImmediate(r));
    return this.script(msg, call);
  }
}

const accepted = (row: number): SendResult => ({
  kind: 'accepted',
  messageId: `msg-${row}`,
  fromNumber: '+18445550001',
  parts: 1,
  cost: '0.0040',
  currency: 'USD',
  httpStatus: 200,
});

let t: TempLedger;
let ledger: Ledger;
let rid: number;

/** `n` pending rows to +1415555 1000, 1001, …, their senders taken in turn from `senders`. */
function seed(n: number, senders = ['+18445550001']): void {
  rid = seedRun(
    ledger,
    'r1',
    Array.from({ length: n }, (_, i) => ({ to: `+1415555${String(1000 + i).padStart(4, '0')}`, sender: senders[i % senders.length]!, text: 'hi' })),
  );
}

function dispatcher(sender: MessageSender, over: Partial<DispatcherOptions> = {}): Dispatcher {
  return new Dispatcher({
    ledger: {
      nextPending: (a, l) => messageStoreOf(ledger).nextPending(rid, a, l),
      nextDue: (now, l) => messageStoreOf(ledger).nextDue(rid, now, l),
      nextDeferral: () => messageStoreOf(ledger).nextDeferral(rid),
      commit: (b) => messageStoreOf(ledger).commit(rid, b),
    },
    sender,
    rate: { messagesPerSecond: 10_000, perSenderPerSecond: 10_000, maxConcurrent: 8, countParts: false },
    retry: { attempts: 3, minDelayMs: 5, maxDelayMs: 20 },
    ...over,
  });
}

beforeEach(() => {
  t = tempLedger();
  ledger = t.ledger;
});
afterEach(() => t.cleanup());

describe('Dispatcher', () => {
  it('sends every pending row exactly once and records it sent', async () => {
    seed(500);
    const sender = new ScriptedSender((m) => accepted(m.row));
    const summary = await dispatcher(sender).run();
    expect(summary).toMatchObject({ stop: 'completed', sent: 500, failed: 0, unknown: 0 });
    expect(new Set(sender.calls.map((c) => c.row)).size).toBe(500);
    expect(sender.calls).toHaveLength(500);
    expect(messageStoreOf(ledger).counts(rid)).toMatchObject({ sent: 500, pending: 0, sending: 0, total: 500 });
    expect(messageStoreOf(ledger).message(rid, 7)).toMatchObject({ status: 'sent', messageId: 'msg-7', cost: '0.0040', attempts: 1 });
  });

  it('fails rejected rows, leaves in-doubt rows unknown without retrying them', async () => {
    seed(3);
    const sender = new ScriptedSender((m) =>
      m.row === 1
        ? { kind: 'rejected', code: '40310', detail: 'invalid to', httpStatus: 422 }
        : m.row === 2
          ? { kind: 'in_doubt', code: null, detail: 'socket reset after the body was written', httpStatus: null }
          : accepted(m.row),
    );
    const summary = await dispatcher(sender).run();
    expect(summary).toMatchObject({ stop: 'completed', sent: 1, failed: 1, unknown: 1 });
    expect(sender.calls.filter((c) => c.row === 2)).toHaveLength(1);
    expect(messageStoreOf(ledger).message(rid, 1)).toMatchObject({ status: 'failed', errorCode: '40310' });
    expect(messageStoreOf(ledger).message(rid, 2)).toMatchObject({ status: 'unknown' });
  });

  it('retries retryable answers through the gates; a retryable first answer is p-retry\'s first failure', async () => {
    seed(1);
    const sender = new ScriptedSender((m, call) => (call < 3 ? { kind: 'retryable', code: '10037', detail: 'unavailable', httpStatus: 503 } : accepted(m.row)));
    const retries: DispatchEvent[] = [];
    const summary = await dispatcher(sender, { onEvent: (e) => e.type === 'retry' && retries.push(e) }).run();
    expect(summary).toMatchObject({ stop: 'completed', sent: 1, failed: 0 });
    expect(retries).toEqual([
      { type: 'retry', row: 1, attempt: 1, kind: 'retryable', code: '10037' },
      { type: 'retry', row: 1, attempt: 2, kind: 'retryable', code: '10037' },
    ]);
    expect(messageStoreOf(ledger).message(rid, 1)).toMatchObject({ status: 'sent', attempts: 3 });
    expect(messageStoreOf(ledger).attempts(rid, 1).map((a) => a.outcome)).toEqual(['retryable', 'retryable', 'accepted']);
  });

  it('retries throttled answers beyond retry.attempts, slowing the run; the row is never failed', async () => {
    seed(2);
    // Row 2 is refused for rate seven times: more than the 3 attempts a retryable answer may use.
    const sender = new ScriptedSender((m, call) =>
      m.row === 2 && call <= 7 ? { kind: 'throttled', code: '40318', detail: 'queue full', httpStatus: 429, retryAfterMs: 5 } : accepted(m.row),
    );
    const rates: number[] = [];
    const d = dispatcher(sender, { onEvent: (e) => e.type === 'rate' && rates.push(e.ratePerSecond) });
    const summary = await d.run();
    expect(summary).toMatchObject({ stop: 'completed', sent: 2, failed: 0 });
    expect(messageStoreOf(ledger).message(rid, 2)).toMatchObject({ status: 'sent', attempts: 8 });
    expect(messageStoreOf(ledger).attempts(rid, 2).filter((a) => a.outcome === 'throttled')).toHaveLength(7);
    // The first throttled answer halved the run's rate.
    expect(rates[0]).toBe(5000);
  });

  it('a row that runs out of attempts on answers that created nothing stops the run; the row stays pending', async () => {
    seed(3);
    const sender = new ScriptedSender((m) => (m.row === 2 ? { kind: 'retryable', code: '10037', detail: 'Telnyx 503', httpStatus: 503 } : accepted(m.row)));
    const summary = await dispatcher(sender, { rate: { messagesPerSecond: 10_000, perSenderPerSecond: 10_000, maxConcurrent: 1, countParts: false } }).run();
    expect(summary.stop).toBe('fatal');
    expect(summary.fatal).toMatchObject({ code: '10037', httpStatus: 503 });
    expect(summary.fatal?.detail).toMatch(/gave up after 3 attempts of one row: Telnyx 503; no message was created/);
    expect(sender.calls.filter((c) => c.row === 2)).toHaveLength(3);
    expect(messageStoreOf(ledger).message(rid, 2)).toMatchObject({ status: 'pending', attempts: 3 });
    expect(messageStoreOf(ledger).counts(rid)).toMatchObject({ failed: 0, sending: 0 });
  });

  it('an API that cannot be reached for 20 attempts in a row stops the run, every unsent row pending', async () => {
    seed(100);
    const sender = new ScriptedSender(() => ({ kind: 'unreachable', code: 'ECONNREFUSED', detail: 'connect ECONNREFUSED 127.0.0.1:9', httpStatus: null }));
    const summary = await dispatcher(sender, {
      endpoint: 'TELNYX_BASE_URL http://127.0.0.1:9/v2',
      retry: { attempts: 100, minDelayMs: 1, maxDelayMs: 2 },
    }).run();
    expect(summary.stop).toBe('fatal');
    expect(summary.fatal?.code).toBe('unreachable');
    expect(summary.fatal?.detail).toMatch(/^cannot reach TELNYX_BASE_URL http:\/\/127\.0\.0\.1:9\/v2 \(20 attempts in a row over [\d.]+ s\): connect ECONNREFUSED/);
    // Requests already in flight when the 20th answer came back settle; nothing more is tried.
    expect(sender.calls.length).toBeLessThanOrEqual(20 + 8);
    expect(messageStoreOf(ledger).counts(rid)).toMatchObject({ pending: 100, failed: 0, sending: 0 });
  });

  it('an answer from the API in between resets the count of unreachable attempts', async () => {
    seed(30);
    // Every third row gets through; the others cannot connect on their first try and do on their second.
    const sender = new ScriptedSender((m, call) =>
      m.row % 3 === 0 || call > 1 ? accepted(m.row) : { kind: 'unreachable', code: 'ECONNREFUSED', detail: 'refused', httpStatus: null },
    );
    const summary = await dispatcher(sender, { rate: { messagesPerSecond: 10_000, perSenderPerSecond: 10_000, maxConcurrent: 1, countParts: false } }).run();
    expect(summary).toMatchObject({ stop: 'completed', sent: 30, failed: 0 });
  });

  it('stops at a fatal answer: in-flight rows settle, the fatal row and the rest stay pending', async () => {
    seed(200);
    const sender = new ScriptedSender((m) =>
      m.row === 20 ? { kind: 'fatal', code: '10009', detail: 'authentication failed', httpStatus: 401 } : accepted(m.row),
    );
    const summary = await dispatcher(sender, { rate: { messagesPerSecond: 10_000, perSenderPerSecond: 10_000, maxConcurrent: 4, countParts: false } }).run();
    expect(summary.stop).toBe('fatal');
    expect(summary.fatal).toMatchObject({ code: '10009' });
    const counts = messageStoreOf(ledger).counts(rid);
    expect(counts.sending).toBe(0);
    expect(messageStoreOf(ledger).message(rid, 20)?.status).toBe('pending');
    expect(counts.sent + counts.pending).toBe(200);
    expect(counts.pending).toBeGreaterThan(150);
  });

  it('an abort stops taking rows; nothing is lost and nothing is left sending', async () => {
    seed(300);
    const ac = new AbortController();
    const sender = new ScriptedSender((m) => {
      if (m.row === 50) ac.abort();
      return accepted(m.row);
    });
    const summary = await dispatcher(sender, { signal: ac.signal, rate: { messagesPerSecond: 2000, perSenderPerSecond: 2000, maxConcurrent: 4, countParts: false } }).run();
    expect(summary.stop).toBe('interrupted');
    const counts = messageStoreOf(ledger).counts(rid);
    expect(counts.sending).toBe(0);
    expect(counts.sent + counts.pending).toBe(300);
    expect(counts.sent).toBe(sender.calls.length);
  });

  it('holds the run ceiling over every sliding one-second window', async () => {
    seed(120);
    const sender = new ScriptedSender((m) => accepted(m.row));
    await dispatcher(sender, { rate: { messagesPerSecond: 50, perSenderPerSecond: 1000, maxConcurrent: 16, countParts: false } }).run();
    const times = sender.calls.map((c) => c.at).sort((a, b) => a - b);
    let max = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1000) j++;
      max = Math.max(max, i - j + 1);
    }
    expect(max).toBeLessThanOrEqual(50);
    // Not a speed check (the rate benchmark measures how close to the ceiling it paces): a pacer that idles
    // or serialises would fall far below it, and a loaded machine only a little.
    const rate = (times.length - 1) / ((times.at(-1)! - times[0]!) / 1000);
    expect(rate).toBeGreaterThan(30);
  });

  it('keeps each sender to its own rate, spaced from the actual send', async () => {
    seed(12, ['+18445550001', '+18445550002', '+18445550003']);
    const sender = new ScriptedSender((m) => accepted(m.row));
    await dispatcher(sender, { rate: { messagesPerSecond: 100, perSenderPerSecond: 5, maxConcurrent: 2, countParts: false } }).run();
    const bySender = new Map<string, number[]>();
    for (const c of sender.calls) bySender.set(c.sender!, [...(bySender.get(c.sender!) ?? []), c.at]);
    for (const times of bySender.values()) {
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(198);
    }
  });

  it('defers rows outside their window, waits for it to open, then sends them', async () => {
    seed(6);
    const opensAt = Date.now() + 400;
    const sender = new ScriptedSender((m) => accepted(m.row));
    const events: string[] = [];
    const summary = await dispatcher(sender, {
      admission: {
        wait: true,
        decide: (m, now) => (m.row % 2 === 0 && now < opensAt ? { action: 'defer', until: opensAt, reason: 'quiet hours' } : { action: 'send' }),
      },
      onEvent: (e) => events.push(e.type),
    }).run();
    expect(summary).toMatchObject({ stop: 'completed', sent: 6 });
    expect(events).toContain('waiting');
    const evenCalls = sender.calls.filter((c) => c.row % 2 === 0);
    expect(evenCalls).toHaveLength(3);
    expect(messageStoreOf(ledger).counts(rid)).toMatchObject({ sent: 6, deferred: 0 });
  });

  it('with no waiting, ends leaving deferred rows; expired rows are never sent', async () => {
    seed(6);
    const sender = new ScriptedSender((m) => accepted(m.row));
    const summary = await dispatcher(sender, {
      admission: {
        wait: false,
        decide: (m) =>
          m.row <= 2
            ? { action: 'expire', reason: 'expires_after 12h passed' }
            : m.row <= 4
              ? { action: 'defer', until: Date.now() + 3_600_000, reason: 'outside 09:00-20:30 America/New_York' }
              : { action: 'send' },
      },
    }).run();
    expect(summary).toMatchObject({ stop: 'deferred', sent: 2 });
    expect(sender.calls.map((c) => c.row).sort()).toEqual([5, 6]);
    expect(messageStoreOf(ledger).counts(rid)).toMatchObject({ sent: 2, deferred: 2, expired: 2, pending: 0 });
    expect(messageStoreOf(ledger).message(rid, 3)).toMatchObject({ status: 'deferred', errorDetail: 'outside 09:00-20:30 America/New_York' });
  });

  it('rows refused after their permits were granted (opted out while they queued) do not hold up the rest', { timeout: 10_000 }, async () => {
    // 20/s: the window holds 20. If the 20 refused rows kept a place in it, the run would never finish.
    seed(40);
    const sender = new ScriptedSender((m) => accepted(m.row));
    const asked = new Map<number, number>();
    const summary = await dispatcher(sender, {
      rate: { messagesPerSecond: 20, perSenderPerSecond: 1000, maxConcurrent: 8, countParts: false },
      admission: {
        wait: true,
        // Rows 1-20 pass the first check (before the gates) and are refused at the second (after them).
        decide: (m) => {
          const n = (asked.get(m.row) ?? 0) + 1;
          asked.set(m.row, n);
          return m.row <= 20 && n > 1 ? { action: 'skip', code: 'suppressed', reason: 'opted out' } : { action: 'send' };
        },
      },
    }).run();
    expect(summary).toMatchObject({ stop: 'completed', sent: 20 });
    expect(messageStoreOf(ledger).counts(rid)).toMatchObject({ sent: 20, skipped: 20, sending: 0 });
  });

  it('writes no request before its sending mark is durable, when the ledger defers durability', async () => {
    seed(40);
    const durableAt = new Map<number, number>();
    const sender = new ScriptedSender((m) => accepted(m.row));
    await dispatcher(sender, {
      ledger: {
        nextPending: (a, l) => messageStoreOf(ledger).nextPending(rid, a, l),
        commit: (b) => {
          // A slow disk: the commit becomes durable 30 ms after it is made.
          const rows = b.sending.map((x) => x.row);
          messageStoreOf(ledger).commit(rid, { ...b, deferDurability: undefined } as never);
          if (rows.length === 0) return;
          b.deferDurability?.(
            new Promise((resolve) =>
              setTimeout(() => {
                for (const r of rows) durableAt.set(r, performance.now());
                resolve();
              }, 30),
            ),
          );
        },
      },
    }).run();
    expect(sender.calls).toHaveLength(40);
    for (const call of sender.calls) expect(call.at).toBeGreaterThanOrEqual(durableAt.get(call.row)!);
  });
});
