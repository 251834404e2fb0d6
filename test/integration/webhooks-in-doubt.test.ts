/**
 * In-doubt resolution over real HTTP: the simulator accepts a message and then loses the answer
 * (connection reset, or no answer until the client times out), the row is `unknown`, and the
 * simulator's signed receipt — delivered to the receiver — proves which message it was.
 */
import { describe, expect, it } from 'vitest';
import { executeRun } from '../../src/campaign/execute-run.js';
import { parseJobSpec } from '../../src/config/job-spec.js';
import { createMessageSender } from '../../src/telnyx/message-sender.js';
import type { SimulatorOptions } from '../../src/telnyx/simulator/index.js';
import { markSending, seedRun } from '../helpers/ledger.js';
import { withLedgerSql } from '../helpers/ledger-sql.js';
import { useSimulator } from '../helpers/simulator.js';
import { waitFor } from '../unit/webhooks/helpers.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';
import { runStoreOf } from '../../src/ledger/run-store.js';

const FROM = '+18445550001';
const A = '+14155550101';
const B = '+14155550102';

const env = useSimulator();

function setup(options: SimulatorOptions, timeoutMs = 5000): Promise<void> {
  return env.start({
    simulator: { seed: 5, lifecycle: { sendingMs: 20, deliveryMs: 40 }, senderRates: { tollFree: 1000 }, ...options },
    receiver: { retryIntervalMs: 50 },
    clientTimeoutMs: timeoutMs,
  });
}

function row(rid: number, n: number) {
  const { status, messageId, deliveryStatus, errorCode } = messageStoreOf(env.ledger).message(rid, n)!;
  return { status, messageId, deliveryStatus, errorCode };
}

/** Sends one row through the real sender adapter, recording `unknown` when the answer is lost, as the dispatcher does. */
async function sendOne(rid: number, n: number, msg: { to: string; sender: string; text: string }, kind: 'long_code' | 'number_pool' = 'long_code'): Promise<string> {
  const sender = createMessageSender(env.client, kind === 'long_code' ? { kind } : { kind, messagingProfileId: msg.sender });
  markSending(env.ledger, rid, n);
  const result = await sender.send({ row: n, tz: null, to: msg.to, sender: msg.sender, text: msg.text, subject: null, parts: 1, attempts: 1 });
  expect(result.kind).toBe('in_doubt');
  messageStoreOf(env.ledger).commit(rid, {
    sending: [],
    attempts: [],
    outcomes: [{ row: n, status: 'unknown', errorCode: result.kind === 'accepted' ? null : result.code, errorDetail: 'answer lost', at: Date.now() }],
  });
  return result.kind;
}

describe('in-doubt rows resolved by receipts', () => {
  it('turns the row the simulator accepted before resetting the connection into sent with the right id', async () => {
    await setup({ faults: { recipients: { [A]: ['accept_then_reset'] } } });
    const rows = [{ to: A, sender: FROM, text: 'hello' }, { to: B, sender: FROM, text: 'hello' }];
    const rid = seedRun(env.ledger, 'r1', rows);
    await sendOne(rid, 1, rows[0]!);
    expect(row(rid, 1)).toMatchObject({ status: 'unknown', messageId: null });
    const accepted = env.sim.messages.byRecipient(A);
    expect(accepted).toHaveLength(1);
    await env.sim.webhooksIdle();
    await waitFor(() => row(rid, 1).deliveryStatus === 'delivered', 'the in-doubt row to be resolved and delivered');
    expect(row(rid, 1)).toEqual({ status: 'sent', messageId: accepted[0]!.id, deliveryStatus: 'delivered', errorCode: null });
    expect(row(rid, 2)).toMatchObject({ status: 'pending', messageId: null });
    expect(messageStoreOf(env.ledger).counts(rid)).toMatchObject({ sent: 1, unknown: 0 });
    expect(env.logs.some((l) => l.type === 'event' && l.outcome?.kind === 'resolved')).toBe(true);
  });

  it('resolves a number-pool row by its messaging profile id', async () => {
    await setup({ faults: { recipients: { [A]: ['accept_then_reset'] } } });
    const msg = { to: A, sender: '7b3e2c1d-5f4a-4e8b-9c6d-2a1f0e9d8c7b', text: 'pool hello' };
    const rid = seedRun(env.ledger, 'r1', [msg]);
    await sendOne(rid, 1, msg, 'number_pool');
    const accepted = env.sim.messages.byRecipient(A)[0]!;
    expect(accepted.from.phone_number).not.toBe(msg.sender);
    await env.sim.webhooksIdle();
    await waitFor(() => row(rid, 1).status === 'sent', 'the pool row to be resolved');
    expect(row(rid, 1)).toMatchObject({ messageId: accepted.id });
  });

  it('changes nothing when two unknown rows match the receipts, and reports it', async () => {
    await setup({ faults: { recipients: { [A]: ['accept_then_reset', 'accept_then_reset'] } } });
    // Hold the receipts until both rows are unknown: on a loaded machine the first message's receipts
    // could otherwise arrive (and rightly resolve it) before the second request is even answered.
    await env.sim.configure({ webhooks: { defaultWebhookUrl: env.receiver.url, retryDelayMs: 50, delayMs: 1500 } });
    const msg = { to: A, sender: FROM, text: 'same text' };
    const r1 = seedRun(env.ledger, 'r1', [msg]);
    const r2 = seedRun(env.ledger, 'r2', [msg]);
    await sendOne(r1, 1, msg);
    await sendOne(r2, 1, msg);
    expect(env.sim.messages.byRecipient(A)).toHaveLength(2);
    await env.sim.webhooksIdle();
    await waitFor(() => withLedgerSql(env.ledger.path, (sql) => sql.value(`SELECT count(*) FROM webhook_events`)) === 4, 'four stored events');
    expect(row(r1, 1)).toMatchObject({ status: 'unknown', messageId: null, deliveryStatus: null });
    expect(row(r2, 1)).toMatchObject({ status: 'unknown', messageId: null, deliveryStatus: null });
    const notes = withLedgerSql(env.ledger.path, (sql) => sql.all<{ applied: number; note: string }>(`SELECT applied, note FROM webhook_events`));
    expect(notes.every((n) => n.applied === 0 && n.note.startsWith('ambiguous: 2 unknown rows match'))).toBe(true);
    expect(env.logs.filter((l) => l.type === 'event' && l.outcome?.kind === 'ambiguous')).toHaveLength(4);
    // The periodic retry keeps them unresolved rather than guessing.
    env.receiver.retryWaiting();
    expect(row(r1, 1).status).toBe('unknown');
  });

  it('resolves a row whose receipts arrived while its request was still waiting for an answer', async () => {
    await setup({ faults: { recipients: { [A]: ['accept_then_hang'] } } }, 2000);
    const msg = { to: A, sender: FROM, text: 'slow' };
    const rid = seedRun(env.ledger, 'r1', [msg]);
    const sending = sendOne(rid, 1, msg);
    // The receipts come while the row is still `sending`: stored, not applied.
    await waitFor(() => withLedgerSql(env.ledger.path, (sql) => sql.value(`SELECT count(*) FROM webhook_events WHERE applied = 0`)) === 2, 'receipts stored while in flight');
    expect(row(rid, 1).status).toBe('sending');
    await sending; // the client times out: in doubt
    await waitFor(() => row(rid, 1).status === 'sent', 'the timer to re-apply the stored receipts');
    expect(row(rid, 1)).toMatchObject({ messageId: env.sim.messages.byRecipient(A)[0]!.id, deliveryStatus: 'delivered' });
    expect(env.logs.some((l) => l.type === 'retried' && l.outcome.kind === 'resolved')).toBe(true);
  });
});

describe('a run end to end', () => {
  it('ends with the reset row sent under the right id and every row delivered', async () => {
    await setup({ faults: { recipients: { [A]: ['accept_then_reset'] } } });
    const spec = parseJobSpec(
      {
        name: 'e2e',
        source: { path: 'recipients.csv' },
        sender: { mode: 'long_code', from: FROM },
        message: { text: 'hello' },
        rate: { messages_per_second: 50, per_sender_per_second: 50 },
        retry: { attempts: 2, min_delay_ms: 10, max_delay_ms: 20 },
      },
      '/jobs/e2e.yaml',
    );
    const rid = seedRun(env.ledger, 'e2e-run', [{ to: A, sender: FROM, text: 'hello' }, { to: B, sender: FROM, text: 'hello' }]);
    const result = await executeRun(env.ledger, runStoreOf(env.ledger).getRun('e2e-run'), spec, { apiKey: 'test-key', baseUrl: env.sim.url, requestTimeoutMs: 5000 });
    expect(result.state).toBe('completed');
    // The reset is never resent: one message to A exists, and the run left its row unknown.
    expect(env.sim.messages.byRecipient(A)).toHaveLength(1);
    await env.sim.webhooksIdle();
    await waitFor(() => row(rid, 1).status === 'sent' && row(rid, 1).deliveryStatus === 'delivered' && row(rid, 2).deliveryStatus === 'delivered', 'receipts for both rows');
    expect(row(rid, 1).messageId).toBe(env.sim.messages.byRecipient(A)[0]!.id);
    expect(row(rid, 2).messageId).toBe(env.sim.messages.byRecipient(B)[0]!.id);
  });
});
