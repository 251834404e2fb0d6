import { hostname } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../../src/ledger/ledger.js';
import { migrations } from '../../../src/ledger/migrations.js';
import { canMove, rowStatuses, runSourcesOf, runStates, runTransitions, slotStates, slotTransitions, transitions } from '../../../src/ledger/states.js';
import { ledgerStorageError, storageCode } from '../../../src/ledger/storage-error.js';
import { cancelRun } from '../../../src/campaign/cancel-run.js';
import { isAppError } from '../../../src/shared/errors.js';
import { tempDir } from '../../helpers/temp.js';
import { seedRun } from '../../helpers/ledger.js';
import { DROP_MIGRATION_11, withLedgerSql } from '../../helpers/ledger-sql.js';
import { messageIdStoreOf } from '../../../src/ledger/message-id-store.js';
import { messageStoreOf } from '../../../src/ledger/message-store.js';
import { memoryStoreOf } from '../../../src/ledger/memory-store.js';
import { runStoreOf } from '../../../src/ledger/run-store.js';

let tmp: ReturnType<typeof tempDir>;
let file: string;
let ledger: Ledger;
let rid: number;

const newRun = (runId = 'r1') => ({
  runId, jobName: 'job', jobFile: '/jobs/job.yaml', jobSpec: '{}', specHash: 'h', sourcePath: '/data/a.csv', sourceSha256: 'abc',
  sandbox: false, startedAt: 1_700_000_000_000,
});

beforeEach(() => {
  tmp = tempDir();
  file = path.join(tmp.dir, 'ledger.db');
  ledger = new Ledger(file);
  rid = runStoreOf(ledger).createRun(newRun()).rid;
  ledger.insertRows(rid, [
    { row: 1, line: 2, to: '+14155550101', sender: '+18445550001', text: 'a', subject: null, parts: 1, encoding: 'GSM-7', status: 'pending' },
    { row: 2, line: 3, to: '+14155550102', sender: '+18445550001', text: 'b', subject: null, parts: 2, encoding: 'GSM-7', status: 'pending' },
    { row: 3, line: 4, to: 'nope', sender: null, text: null, subject: null, parts: 1, encoding: null, status: 'skipped', errorCode: 'invalid_number', errorDetail: 'invalid_number: "nope"' },
  ]);
});
afterEach(() => {
  ledger.close();
  tmp.cleanup();
});

/** What takes a ledger back before migration 10 (the per-run totals and their triggers). */
const UNDO_TOTALS = ['messages_totals_insert', 'messages_totals_status', 'messages_totals_sent_old', 'messages_totals_sent_new', 'messages_totals_delivered',
  'messages_totals_delete', 'attempts_totals_delete'].map((t) => `DROP TRIGGER ${t};`).join(' ') + ' DROP TABLE run_status_totals; DROP TABLE run_sent_totals; DROP TABLE run_seconds;' +
  // and migration 13's switch for that insert trigger, and migration 14's scheduler lease.
  ' DROP TABLE messages_insert_counted; DROP TABLE scheduler_leader;';

const sent = (row: number, id: string) => ({
  row, status: 'sent' as const, messageId: id, fromNumber: '+18445550001', parts: 1, cost: '0.0040', currency: 'USD', at: 2,
});
const attempt = (row: number) => ({ row, attempt: 1, startedAt: 1, latencyMs: 3, httpStatus: 200, outcome: 'accepted', telnyxCode: null, detail: null });

describe('state table', () => {
  it('allows exactly the documented moves', () => {
    expect(transitions.pending).toEqual(['sending', 'skipped', 'deferred', 'expired']);
    expect(transitions.sending).toEqual(['sent', 'failed', 'unknown', 'pending']);
    expect(transitions.unknown).toEqual(['pending', 'sent']);
    expect(transitions.deferred).toEqual(['sending', 'deferred', 'expired', 'skipped']);
    expect(transitions.failed).toEqual(['pending']);
    for (const final of ['sent', 'skipped', 'expired'] as const) for (const to of rowStatuses) expect(canMove(final, to)).toBe(false);
  });
});

describe('run state table', () => {
  it('allows exactly the documented moves, and cancelled is final', () => {
    expect(runTransitions).toEqual({
      ingesting: ['running', 'interrupted', 'completed', 'aborted', 'cancelled'],
      running: ['running', 'interrupted', 'completed', 'aborted', 'cancelled'],
      interrupted: ['running', 'interrupted', 'completed', 'cancelled'],
      aborted: ['running', 'completed', 'cancelled'],
      completed: ['running', 'completed'],
      cancelled: [],
    });
    expect(runSourcesOf('cancelled')).toEqual(['ingesting', 'running', 'interrupted', 'aborted']);
  });

  it('setRunState enforces the table: every allowed move succeeds, every other one throws and changes nothing', () => {
    for (const from of runStates) {
      for (const to of runStates) {
        const run = runStoreOf(ledger).createRun(newRun(`${from}-${to}`));
        // Every state is one legal move from ingesting, where a run starts.
        if (from !== 'ingesting') runStoreOf(ledger).setRunState(run.rid, from);
        const move = () => runStoreOf(ledger).setRunState(run.rid, to);
        if (runTransitions[from].includes(to)) {
          move();
          expect(runStoreOf(ledger).getRun(run.runId).state).toBe(to);
        } else {
          expect(move).toThrow(/illegal run move/);
          expect(runStoreOf(ledger).getRun(run.runId).state).toBe(from);
        }
      }
    }
  });

  it('is enforced by the schema too: a raw UPDATE makes exactly the moves of the table, any other is refused with the states named', () => {
    const legal = Object.entries(runTransitions).flatMap(([from, tos]) => tos.map((to) => ({ from, to })));
    withLedgerSql(file, (sql) => {
      expect(sql.all(`SELECT from_state AS "from", to_state AS "to" FROM run_transitions`)).toEqual(expect.arrayContaining(legal));
      expect(sql.value(`SELECT count(*) FROM run_transitions`)).toBe(legal.length);
      for (const from of runStates) {
        for (const to of runStates) {
          const run = runStoreOf(ledger).createRun(newRun(`raw-${from}-${to}`));
          if (from !== 'ingesting') runStoreOf(ledger).setRunState(run.rid, from);
          const move = () => sql.run(`UPDATE runs SET state = ? WHERE rid = ?`, to, run.rid);
          if (runTransitions[from].includes(to)) {
            expect(move()).toBe(1);
            expect(runStoreOf(ledger).getRun(run.runId).state).toBe(to);
          } else {
            expect(move).toThrow(`illegal run move: run ${run.rid} is ${from} and cannot become ${to}`);
            expect(runStoreOf(ledger).getRun(run.runId).state).toBe(from);
          }
        }
      }
      // Other columns change freely; a new run can only start as ingesting.
      expect(sql.run(`UPDATE runs SET total = 7 WHERE rid = ?`, rid)).toBe(1);
      expect(() =>
        sql.run(`INSERT INTO runs (run_id, job_name, job_file, job_spec, spec_hash, source_path, source_sha256, state, started_at)
                 VALUES ('x', 'j', 'f', '{}', 'h', 's', 'x', 'completed', 1)`),
      ).toThrow('illegal run state: a new run starts as ingesting, not completed');
    });
  });

  it('cancel marks an interrupted run cancelled (rows left in flight become unknown) and refuses a completed one', () => {
    messageStoreOf(ledger).commit(rid, { sending: [{ row: 1, at: 1 }], outcomes: [], attempts: [] });
    runStoreOf(ledger).setRunState(rid, 'interrupted');
    const outcome = cancelRun(ledger, 'r1', 10);
    expect(outcome).toMatchObject({ kind: 'cancelled', inDoubt: 1, run: { state: 'cancelled', finishedAt: 10, stopCode: 'cancelled', cancelRequestedAt: 10 } });
    expect(messageStoreOf(ledger).message(rid, 1)?.status).toBe('unknown');
    expect(cancelRun(ledger, 'r1', 11).kind).toBe('already');
    expect(() => runStoreOf(ledger).setRunState(rid, 'running')).toThrow(/illegal run move/);
    const done = runStoreOf(ledger).createRun(newRun('r2'));
    runStoreOf(ledger).setRunState(done.rid, 'completed');
    expect(() => cancelRun(ledger, 'r2', 12)).toThrow(/has completed/);
  });

  it('cancel of a run whose owner is alive only records the request the owner polls', () => {
    runStoreOf(ledger).setRunState(rid, 'running');
    runStoreOf(ledger).setOwner(rid, { pid: process.pid, host: hostname() });
    expect(runStoreOf(ledger).cancelRequested(rid)).toBe(false);
    expect(cancelRun(ledger, 'r1', 20).kind).toBe('requested');
    expect(runStoreOf(ledger).cancelRequested(rid)).toBe(true);
    expect(runStoreOf(ledger).getRun('r1').state).toBe('running');
  });
});

describe('slot state table', () => {
  it('allows exactly the documented moves: a started slot becomes skipped or missed, which are final', () => {
    expect(slotTransitions).toEqual({ started: ['started', 'skipped', 'missed'], skipped: [], missed: [] });
  });

  it('is enforced by the schema: a raw UPDATE makes exactly the moves of the table, any other is refused with the states named', () => {
    withLedgerSql(file, (sql) => {
      const legal = Object.entries(slotTransitions).flatMap(([from, tos]) => tos.map((to) => ({ from, to })));
      expect(sql.all(`SELECT from_state AS "from", to_state AS "to" FROM slot_transitions`)).toEqual(expect.arrayContaining(legal));
      expect(sql.value(`SELECT count(*) FROM slot_transitions`)).toBe(legal.length);
      for (const from of slotStates) {
        for (const to of slotStates) {
          const slot = `${from}-${to}`;
          sql.run(`INSERT INTO schedule_slots (job_name, slot, state, recorded_at) VALUES ('j', ?, ?, 1)`, slot, from);
          const move = () => sql.run(`UPDATE schedule_slots SET state = ? WHERE job_name = 'j' AND slot = ?`, to, slot);
          if (slotTransitions[from].includes(to)) expect(move()).toBe(1);
          else expect(move).toThrow(`illegal slot move: job j slot ${slot} is ${from} and cannot become ${to}`);
          expect(sql.value(`SELECT state FROM schedule_slots WHERE job_name = 'j' AND slot = ?`, slot)).toBe(slotTransitions[from].includes(to) ? to : from);
        }
      }
      expect(() => sql.run(`INSERT INTO schedule_slots (job_name, slot, state, recorded_at) VALUES ('j', 'z', 'running', 1)`)).toThrow(
        'illegal slot state: running (a slot is started, skipped or missed)',
      );
    });
  });
});

describe('Ledger', () => {
  it('uses WAL with synchronous=FULL and records its schema version', () => {
    expect(ledger.synchronous()).toBe('full');
    withLedgerSql(file, (sql) => {
      expect(sql.pragma('journal_mode')).toBe('wal');
      expect(sql.pragma('user_version')).toBe(migrations.at(-1)!.version);
    });
  });

  it('moves pending → sending → sent and keeps what Telnyx said', () => {
    messageStoreOf(ledger).commit(rid, { sending: [{ row: 1, at: 1 }], outcomes: [], attempts: [] });
    expect(messageStoreOf(ledger).message(rid, 1)).toMatchObject({ status: 'sending', attempts: 1, sendingAt: 1 });
    messageStoreOf(ledger).commit(rid, { sending: [], outcomes: [sent(1, 'm-1')], attempts: [attempt(1)] });
    expect(messageStoreOf(ledger).message(rid, 1)).toMatchObject({ status: 'sent', messageId: 'm-1', cost: '0.0040', currency: 'USD', sentAt: 2 });
    expect(messageStoreOf(ledger).attempts(rid, 1)).toHaveLength(1);
    expect(messageStoreOf(ledger).counts(rid)).toMatchObject({ sent: 1, pending: 1, skipped: 1, total: 3 });
  });

  it('rejects an illegal move and rolls back the whole batch', () => {
    let error: unknown;
    try {
      // Row 2 is pending: it cannot become sent without first being marked sending.
      messageStoreOf(ledger).commit(rid, { sending: [{ row: 1, at: 1 }], outcomes: [sent(2, 'm-2')], attempts: [attempt(2)] });
    } catch (err) {
      error = err;
    }
    expect(isAppError(error, 'ERR_LEDGER_TRANSITION')).toBe(true);
    expect(messageStoreOf(ledger).message(rid, 1)?.status).toBe('pending');
    expect(messageStoreOf(ledger).attempts(rid, 2)).toHaveLength(0);
    expect(() => messageStoreOf(ledger).commit(rid, { sending: [{ row: 3, at: 1 }], outcomes: [], attempts: [] })).toThrow(/cannot become sending/);
  });

  it('turns rows left sending into unknown, and reopens unknown only on request', () => {
    messageStoreOf(ledger).commit(rid, { sending: [{ row: 1, at: 1 }, { row: 2, at: 1 }], outcomes: [], attempts: [] });
    expect(messageStoreOf(ledger).markInFlightUnknown(rid)).toBe(2);
    expect(messageStoreOf(ledger).message(rid, 1)).toMatchObject({ status: 'unknown', errorCode: 'in_doubt' });
    expect(messageStoreOf(ledger).nextPending(rid, 0, 10)).toEqual([]);
    expect(messageStoreOf(ledger).reopenUnknown(rid)).toBe(2);
    expect(messageStoreOf(ledger).nextPending(rid, 0, 10).map((m) => m.row)).toEqual([1, 2]);
  });

  it('re-queues for --retry-failed only failed rows whose every attempt proves nothing was created', () => {
    const r2 = seedRun(ledger, 'r-retry', Array.from({ length: 8 }, (_, i) => ({ to: `+1415555020${i}`, sender: '+18445550001', text: 'hi' })));
    // Each row: its attempts (outcome, HTTP status, Telnyx code), then the row fails with the last code.
    const histories: [string, number | null, string | null][][] = [
      [['throttled', 429, '40318'], ['throttled', 429, '40318']], // 1: an old "gave up" on throttling
      [['unreachable', null, 'ECONNREFUSED']], // 2: never reached the API
      [['retryable', null, 'ECONNREFUSED'], ['retryable', 503, '10037']], // 3: an old ledger's connect failure and a 503
      [['rejected', 422, '40310']], // 4: refused by Telnyx
      [['retryable', 500, '10007'], ['throttled', 429, '40318']], // 5: an old 500 that was retried: in doubt today
      [['in_doubt', 502, null], ['rejected', 422, '40310']], // 6: an earlier attempt may have created it
      [['throttled', 429, '10011']], // 7: refused for rate
      [], // 8: no attempt recorded: nothing proves anything
    ];
    histories.forEach((attempts, i) => {
      const row = i + 1;
      messageStoreOf(ledger).commit(r2, { sending: [{ row, at: 1 }], outcomes: [], attempts: [] });
      messageStoreOf(ledger).commit(r2, {
        sending: [],
        outcomes: [{ row, status: 'failed', errorCode: attempts.at(-1)?.[2] ?? 'x', errorDetail: 'gave up', at: 2 }],
        attempts: attempts.map(([outcome, httpStatus, telnyxCode], n) => ({ row, attempt: n + 1, startedAt: 1, latencyMs: 1, httpStatus, outcome, telnyxCode, detail: 'd' })),
      });
    });
    expect(messageStoreOf(ledger).reopenFailed(r2, ['40318', '10011'])).toBe(2);
    expect(messageStoreOf(ledger).nextPending(r2, 0, 10).map((m) => m.row)).toEqual([1, 7]);
    expect(messageStoreOf(ledger).message(r2, 1)?.errorDetail).toBe('re-queued by --retry-failed after: gave up');
    expect(messageStoreOf(ledger).reopenFailed(r2, undefined)).toBe(3);
    expect(messageStoreOf(ledger).nextPending(r2, 0, 10).map((m) => m.row)).toEqual([1, 2, 3, 4, 7]);
    expect([5, 6, 8].map((row) => messageStoreOf(ledger).message(r2, row)?.status)).toEqual(['failed', 'failed', 'failed']);
    // The other run's rows are untouched.
    expect(messageStoreOf(ledger).counts(rid).failed).toBe(0);
  });

  it('defers rows until their window opens, and expires what was never sent', () => {
    messageStoreOf(ledger).commit(rid, { sending: [], outcomes: [{ row: 1, status: 'deferred', until: 500, errorDetail: 'outside window', at: 1 }], attempts: [] });
    expect(messageStoreOf(ledger).nextPending(rid, 0, 10).map((m) => m.row)).toEqual([2]);
    expect(messageStoreOf(ledger).nextDeferral(rid)).toBe(500);
    expect(messageStoreOf(ledger).nextDue(rid, 499, 10)).toEqual([]);
    expect(messageStoreOf(ledger).nextDue(rid, 500, 10).map((m) => m.row)).toEqual([1]);
    messageStoreOf(ledger).commit(rid, { sending: [{ row: 1, at: 501 }], outcomes: [], attempts: [] });
    expect(messageStoreOf(ledger).message(rid, 1)?.status).toBe('sending');
    expect(messageStoreOf(ledger).expireUnsent(rid, 'expires_after passed')).toBe(1);
    expect(messageStoreOf(ledger).message(rid, 2)).toMatchObject({ status: 'expired', errorDetail: 'expires_after passed' });
    expect(messageStoreOf(ledger).message(rid, 1)?.status).toBe('sending');
  });

  it('a batch committed with deferred durability hands over an fsync promise and stays FULL otherwise', async () => {
    const durable: Promise<void>[] = [];
    messageStoreOf(ledger).commit(rid, { sending: [{ row: 1, at: 1 }], outcomes: [], attempts: [], deferDurability: (p) => durable.push(p) });
    messageStoreOf(ledger).commit(rid, { sending: [{ row: 2, at: 1 }], outcomes: [], attempts: [], deferDurability: (p) => durable.push(p) });
    expect(durable).toHaveLength(2);
    // The connection is back at FULL for every other write.
    expect(ledger.synchronous()).toBe('full');
    await Promise.all(durable);
    withLedgerSql(
      file,
      (other) =>
        expect(other.all(`SELECT row, status FROM messages WHERE status = 'sending' ORDER BY row`)).toEqual([
          { row: 1, status: 'sending' },
          { row: 2, status: 'sending' },
        ]),
      { readonly: true },
    );
  });

  it('commits survive a reopen of the file (another process would see them)', () => {
    messageStoreOf(ledger).commit(rid, { sending: [{ row: 1, at: 1 }], outcomes: [], attempts: [] });
    withLedgerSql(file, (other) => expect(other.get(`SELECT status FROM messages WHERE row = 1`)).toEqual({ status: 'sending' }), { readonly: true });
  });

  it('finds unfinished runs of the same job and kind (sandbox runs apart from real ones)', () => {
    expect(runStoreOf(ledger).unfinishedRuns('job', false).map((r) => r.runId)).toEqual(['r1']);
    expect(runStoreOf(ledger).unfinishedRuns('job', true)).toEqual([]);
    runStoreOf(ledger).setRunState(rid, 'completed', { finishedAt: 3 });
    expect(runStoreOf(ledger).unfinishedRuns('job', false)).toEqual([]);
  });

  it('does not count cancelled runs or test runs as unfinished', () => {
    runStoreOf(ledger).setRunState(rid, 'interrupted');
    const test = runStoreOf(ledger).createRun({ ...newRun('t1'), testTo: ['+14155550199'] });
    runStoreOf(ledger).setRunState(test.rid, 'interrupted');
    expect(runStoreOf(ledger).getRun('t1').testTo).toEqual(['+14155550199']);
    expect(runStoreOf(ledger).unfinishedRuns('job', false).map((r) => r.runId)).toEqual(['r1']);
    runStoreOf(ledger).setRunState(rid, 'cancelled', { finishedAt: 4 });
    expect(runStoreOf(ledger).unfinishedRuns('job', false)).toEqual([]);
  });

  it('refuses a ledger written by a newer bulktext, naming both versions, for writing and for reading', () => {
    const latest = migrations.at(-1)!.version;
    withLedgerSql(file, (sql) => sql.pragma(`user_version = ${latest + 1}`));
    ledger.close();
    const message = `schema version ${latest + 1}, written by a newer bulktext; this bulktext knows versions up to ${latest}`;
    expect(() => new Ledger(file)).toThrow(message);
    expect(() => new Ledger(file, { readonly: true })).toThrow(message);
    // The refused ledger is left as it was.
    withLedgerSql(file, (raw) => expect(raw.pragma('user_version')).toBe(latest + 1), { readonly: true });
  });
});

describe('the message-id lookup (message_ids)', () => {
  const indexed = () => withLedgerSql(file, (sql) => sql.all(`SELECT message_id AS id, rid, row FROM message_ids ORDER BY row`));
  const acceptedWith = (row: number, id: string) => ({ ...attempt(row), detail: id });

  it('is filled from the attempts log by indexMessageIds, not by the send commit, and each send once', () => {
    messageStoreOf(ledger).commit(rid, { sending: [{ row: 1, at: 1 }, { row: 2, at: 1 }], outcomes: [], attempts: [] });
    messageStoreOf(ledger).commit(rid, { sending: [], outcomes: [sent(1, 'm-b'), sent(2, 'm-a')], attempts: [acceptedWith(1, 'm-b'), acceptedWith(2, 'm-a')] });
    expect(indexed()).toEqual([]);
    expect(messageIdStoreOf(ledger).indexMessageIds()).toBe(2);
    expect(indexed()).toEqual([{ id: 'm-b', rid, row: 1 }, { id: 'm-a', rid, row: 2 }]);
    expect(messageIdStoreOf(ledger).indexMessageIds()).toBe(0);
    expect(withLedgerSql(file, (sql) => sql.value(`SELECT last_attempt FROM message_index`))).toBe(2);
  });

  it('skips attempts that sent nothing', () => {
    messageStoreOf(ledger).commit(rid, { sending: [{ row: 1, at: 1 }], outcomes: [], attempts: [] });
    messageStoreOf(ledger).commit(rid, {
      sending: [],
      outcomes: [{ row: 1, status: 'failed', errorCode: '40310', errorDetail: 'invalid to', at: 2 }],
      attempts: [{ ...attempt(1), outcome: 'rejected', httpStatus: 400, telnyxCode: '40310' }],
    });
    expect(messageIdStoreOf(ledger).indexMessageIds()).toBe(0);
    expect(indexed()).toEqual([]);
  });

  it('refuses a sent row committed without the accepted attempt that sent it (it could never be found)', () => {
    messageStoreOf(ledger).commit(rid, { sending: [{ row: 1, at: 1 }], outcomes: [], attempts: [] });
    let error: unknown;
    try {
      messageStoreOf(ledger).commit(rid, { sending: [], outcomes: [sent(1, 'm-1')], attempts: [] });
    } catch (err) {
      error = err;
    }
    expect(isAppError(error, 'ERR_LEDGER_TRANSITION')).toBe(true);
    expect(messageStoreOf(ledger).message(rid, 1)?.status).toBe('sending');
  });

  it('is built from the sent rows of a ledger written before it existed (migration 5)', () => {
    ledger.close();
    // A version-4 ledger: the old unique index, no message_ids, one sent row and one attempt.
    withLedgerSql(file, (old) => {
      old.exec(`${DROP_MIGRATION_11} ALTER TABLE runs DROP COLUMN cid; DROP TABLE campaign_memory; DROP TABLE campaigns;
      DROP TABLE message_ids; DROP TABLE message_index; DROP TABLE limit_holders; DROP TABLE limit_shares; DROP TABLE limit_usage; ${UNDO_TOTALS}
      CREATE UNIQUE INDEX messages_message_id ON messages (message_id) WHERE message_id IS NOT NULL;
      UPDATE messages SET status = 'sent', message_id = 'm-old' WHERE row = 2;
      INSERT INTO attempts (rid, row, attempt, started_at, outcome) VALUES (${rid}, 2, 1, 1, 'accepted');
      ALTER TABLE runs DROP COLUMN test_to; ALTER TABLE runs DROP COLUMN cancel_requested_at; ALTER TABLE runs DROP COLUMN pruned_at;
      ALTER TABLE messages DROP COLUMN vars; DROP TABLE run_texts;`);
      old.pragma('user_version = 4');
    });
    ledger = new Ledger(file);
    expect(indexed()).toEqual([{ id: 'm-old', rid, row: 2 }]);
    expect(messageIdStoreOf(ledger).indexMessageIds()).toBe(0);
    expect(withLedgerSql(file, (sql) => sql.all(`SELECT name FROM sqlite_master WHERE name = 'messages_message_id'`))).toEqual([]);
  });
});

describe('campaign memory (campaign_memory)', () => {
  const spec = (text: string) => JSON.stringify({ name: 'job', message: { text } });
  const memory = () => withLedgerSql(file, (sql) => sql.all(`SELECT cid, number, rid FROM campaign_memory ORDER BY number`));

  it('remembers sent and in-doubt rows from the attempts log, keyed by campaign, and answers batch lookups', () => {
    messageStoreOf(ledger).commit(rid, { sending: [{ row: 1, at: 1 }, { row: 2, at: 1 }], outcomes: [], attempts: [] });
    messageStoreOf(ledger).commit(rid, {
      sending: [],
      outcomes: [sent(1, 'm-1'), { row: 2, status: 'unknown', errorCode: 'in_doubt', errorDetail: 'reset', at: 5 }],
      attempts: [attempt(1), { ...attempt(2), httpStatus: null, outcome: 'in_doubt' }],
    });
    const cid = runStoreOf(ledger).getRun('r1').cid;
    memoryStoreOf(ledger).rememberCampaign(cid);
    expect(memory()).toEqual([
      { cid, number: '+14155550101', rid },
      { cid, number: '+14155550102', rid },
    ]);
    expect(memoryStoreOf(ledger).alreadySent(cid, { since: 0, fromSlot: null }, ['+14155550101', '+19999999999'])).toEqual(new Map([['+14155550101', { runId: 'r1', at: 2 }]]));
    // Outside the window: nothing.
    expect(memoryStoreOf(ledger).alreadySent(cid, { since: 3, fromSlot: null }, ['+14155550101']).size).toBe(0);
    expect(memoryStoreOf(ledger).hasMemory(cid, { since: 0, fromSlot: null })).toBe(true);
    // Another kind of run of the same job is another campaign.
    const sandbox = runStoreOf(ledger).createRun({ ...newRun('r2'), sandbox: true });
    expect(sandbox.cid).not.toBe(cid);
    expect(memoryStoreOf(ledger).hasMemory(sandbox.cid, { since: 0, fromSlot: null })).toBe(false);
  });

  it('a changed template is a new campaign; the same one is found again', () => {
    const a = runStoreOf(ledger).createRun({ ...newRun('a'), jobSpec: spec('Hi {{name}}') });
    const b = runStoreOf(ledger).createRun({ ...newRun('b'), jobSpec: spec('Hi {{name}}') });
    const c = runStoreOf(ledger).createRun({ ...newRun('c'), jobSpec: spec('Hello {{name}}') });
    expect(b.cid).toBe(a.cid);
    expect(c.cid).not.toBe(a.cid);
    expect(memoryStoreOf(ledger).campaignOf('job', spec('Hi {{name}}'), false)).toBe(a.cid);
    expect(memoryStoreOf(ledger).campaignOf('job', spec('Hi {{name}}'), true)).toBeUndefined();
  });

  it('remembers rows a killed process left sending (no attempt yet)', () => {
    messageStoreOf(ledger).commit(rid, { sending: [{ row: 1, at: 7 }], outcomes: [], attempts: [] });
    const cid = runStoreOf(ledger).getRun('r1').cid;
    memoryStoreOf(ledger).rememberCampaign(cid);
    expect(memoryStoreOf(ledger).alreadySent(cid, { since: 0, fromSlot: null }, ['+14155550101'])).toEqual(new Map([['+14155550101', { runId: 'r1', at: 7 }]]));
  });

  it('is built from the sent rows of a ledger written before it existed (migration 8)', () => {
    messageStoreOf(ledger).commit(rid, { sending: [{ row: 2, at: 1 }], outcomes: [], attempts: [] });
    messageStoreOf(ledger).commit(rid, { sending: [], outcomes: [sent(2, 'm-2')], attempts: [attempt(2)] });
    ledger.close();
    withLedgerSql(file, (old) => {
      old.exec(`${DROP_MIGRATION_11} ALTER TABLE runs DROP COLUMN cid; DROP TABLE campaign_memory; DROP TABLE campaigns;
        DROP TABLE limit_holders; DROP TABLE limit_shares; DROP TABLE limit_usage; ${UNDO_TOTALS}
        ALTER TABLE messages DROP COLUMN vars; DROP TABLE run_texts;`);
      old.pragma('user_version = 7');
    });
    ledger = new Ledger(file);
    const cid = runStoreOf(ledger).getRun('r1').cid;
    expect(cid).toBe(memoryStoreOf(ledger).campaignOf('job', '{}', false));
    expect(memory()).toEqual([{ cid, number: '+14155550102', rid }]);
  });
});

describe('a ledger that cannot be written', () => {
  it('reports a full disk during an ingest batch as unusable (exit 2: nothing sent) and during a send commit as ERR_LEDGER_IO (exit 4, resumable)', async () => {
    const { exitCodeFor } = await import('../../../src/cli/exit-codes.js');
    // Cap the file at its current size: the next page SQLite needs is "disk full".
    const pages = withLedgerSql(file, (sql) => sql.pragma('page_count') as number);
    ledger.close();
    ledger = new Ledger(file, { maxPageCount: pages });
    const big = Array.from({ length: 2_000 }, (_, i) => ({
      row: 10 + i, line: 11 + i, to: `+1415555${String(i).padStart(4, '0')}`, sender: '+18445550001', text: 'x'.repeat(150), subject: null,
      parts: 1, encoding: 'GSM-7', status: 'pending' as const,
    }));
    let caught: unknown;
    try {
      ledger.insertRows(rid, big);
    } catch (err) {
      caught = err;
    }
    expect(storageCode(caught)).toBe('SQLITE_FULL');
    const beforeSending = ledgerStorageError(caught, file, 'before-sending');
    expect(isAppError(beforeSending, 'ERR_LEDGER_UNUSABLE')).toBe(true);
    expect((beforeSending as Error).message).toBe(
      `cannot use the ledger ${file}: the disk is full (SQLITE_FULL: database or disk is full); nothing was sent`,
    );
    expect(exitCodeFor(beforeSending)).toBe(2);
    // Nothing of the failed batch was kept, and the ledger still works for what fits.
    expect(messageStoreOf(ledger).counts(rid).pending).toBe(2);
    const ids = Array.from({ length: 400 }, (_, i) => `${String(i).padStart(8, '0')}-0000-4000-8000-${'9'.repeat(12)}`);
    messageStoreOf(ledger).commit(rid, { sending: [{ row: 1, at: 1 }], outcomes: [], attempts: [] });
    let commitError: unknown;
    try {
      // Hundreds of attempt rows with long details need new pages too.
      messageStoreOf(ledger).commit(rid, { sending: [], outcomes: [sent(1, ids[0]!)], attempts: ids.map((id) => ({ ...attempt(1), detail: id.repeat(20) })) });
    } catch (err) {
      commitError = err;
    }
    expect(isAppError(commitError, 'ERR_LEDGER_IO')).toBe(true);
    expect((commitError as Error).message).toContain('SQLITE_FULL');
    expect(exitCodeFor(commitError)).toBe(4);
    expect(messageStoreOf(ledger).message(rid, 1)?.status).toBe('sending');
  });
});
