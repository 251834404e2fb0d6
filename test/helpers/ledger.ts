/** A real SQLite ledger in a temp directory, runs seeded with pending rows, and rows moved on as a send would. */
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { Ledger, type AttemptRecord } from '../../src/ledger/ledger.js';
import { tempDir } from './temp.js';
import { messageStoreOf } from '../../src/ledger/message-store.js';
import { runStoreOf } from '../../src/ledger/run-store.js';

export interface TempLedger {
  ledger: Ledger;
  file: string;
  /** Closes the ledger, then removes its directory. */
  cleanup: () => void;
}

export function tempLedger(prefix = 'bulktext-ledger-'): TempLedger {
  const tmp = tempDir(prefix);
  const file = path.join(tmp.dir, 'ledger.db');
  const ledger = new Ledger(file);
  return {
    ledger,
    file,
    cleanup: () => {
      ledger.close();
      tmp.cleanup();
    },
  };
}

/** The current test's temp ledger: opened before each test of the file, closed and removed after it. */
export function useTempLedger(): Pick<TempLedger, 'ledger' | 'file'> {
  let current: TempLedger | undefined;
  beforeEach(() => {
    current = tempLedger();
  });
  afterEach(() => {
    current?.cleanup();
    current = undefined;
  });
  const now = (): TempLedger => {
    if (current === undefined) throw new Error('the temp ledger exists only while a test runs');
    return current;
  };
  return {
    get ledger() {
      return now().ledger;
    },
    get file() {
      return now().file;
    },
  };
}

export interface SeedRow {
  to: string;
  sender: string;
  text: string;
}

/** A run with `rows` pending, numbered from 1 (line = row + 1, as under a CSV header); returns its rid. */
export function seedRun(ledger: Ledger, runId: string, rows: readonly SeedRow[], startedAt = Date.now()): number {
  const rid = runStoreOf(ledger).createRun({
    runId, jobName: 'job', jobFile: '/jobs/job.yaml', jobSpec: JSON.stringify({ rate: { messages_per_second: 200 } }), specHash: 'h',
    sourcePath: '/data/a.csv', sourceSha256: runId, sandbox: false, startedAt,
  }).rid;
  ledger.insertRows(
    rid,
    rows.map((r, i) => ({ row: i + 1, line: i + 2, to: r.to, sender: r.sender, text: r.text, subject: null, parts: 1, encoding: 'GSM-7', status: 'pending' as const })),
  );
  return rid;
}

export function markSending(ledger: Ledger, rid: number, row: number, at = Date.now()): void {
  messageStoreOf(ledger).commit(rid, { sending: [{ row, at }], outcomes: [], attempts: [] });
}

/** The attempt record that goes with a `sent` outcome (the ledger insists on it). */
export function acceptedAttempt(row: number, messageId: string, at = Date.now()): AttemptRecord {
  return { row, attempt: 1, startedAt: at, latencyMs: 1, httpStatus: 200, outcome: 'accepted', telnyxCode: null, detail: messageId };
}

export function markSent(ledger: Ledger, rid: number, row: number, messageId: string, at = Date.now(), cost: string | null = '0.0040'): void {
  markSending(ledger, rid, row, at);
  messageStoreOf(ledger).commit(rid, {
    sending: [],
    outcomes: [{ row, status: 'sent', messageId, fromNumber: null, parts: 1, cost, currency: cost === null ? null : 'USD', at }],
    attempts: [acceptedAttempt(row, messageId, at)],
  });
}

export function markUnknown(ledger: Ledger, rid: number, row: number, at = Date.now()): void {
  markSending(ledger, rid, row, at);
  messageStoreOf(ledger).commit(rid, {
    sending: [],
    outcomes: [{ row, status: 'unknown', errorCode: 'ECONNRESET', errorDetail: 'reset after the request was written', at }],
    attempts: [],
  });
}
