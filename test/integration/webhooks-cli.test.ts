/**
 * The `webhooks` and `suppressions` command functions, in-process with their own Io: key handling,
 * serving until the signal aborts, one log line per event, and the suppression listing.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { suppressionsCommand } from '../../src/cli/commands/suppressions.js';
import { webhooksCommand } from '../../src/cli/commands/webhooks.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import type { Io } from '../../src/cli/io.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { addSuppression } from '../../src/campaign/suppressions.js';
import { deliveryStoreFor } from '../../src/ledger/delivery-store.js';
import { markSent, seedRun, useTempLedger } from '../helpers/ledger.js';
import { withLedgerSql } from '../helpers/ledger-sql.js';
import { inboundEvent, keyPair, post, signedHeaders, waitFor } from '../unit/webhooks/helpers.js';
import { suppressionStoreOf } from '../../src/ledger/suppression-store.js';

const t = useTempLedger();

function testIo(env: Record<string, string> = {}): Io & { out: string[]; err: string[]; abort: () => void } {
  const out: string[] = [];
  const err: string[] = [];
  const controller = new AbortController();
  return {
    out, err, abort: () => controller.abort(new Error('SIGINT')),
    stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), env, isTTY: false, signal: controller.signal, cwd: '/',
  };
}

describe('webhooksCommand', () => {
  it('exits 2 (ERR_WEBHOOK_KEY) without a key or with one that is not 32 bytes', async () => {
    for (const options of [{ db: t.file }, { db: t.file, publicKey: 'c2hvcnQ=' }]) {
      const err = await webhooksCommand(options, testIo()).then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_WEBHOOK_KEY' });
      expect(exitCodeFor(err)).toBe(2);
    }
  });

  it('indexes the message ids of sends no run indexed (a killed run) as it starts, before any receipt is answered', async () => {
    const rid = seedRun(t.ledger, 'r1', [{ to: '+14155550101', sender: '+18445550001', text: 'hi' }]);
    markSent(t.ledger, rid, 1, 'm-killed');
    const indexed = () => withLedgerSql(t.file, (sql) => sql.all(`SELECT message_id AS id, row FROM message_ids`));
    expect(indexed()).toEqual([]);
    const io = testIo({ TELNYX_PUBLIC_KEY: keyPair().publicKey });
    const running = webhooksCommand({ port: 0, db: t.file }, io);
    await waitFor(() => io.err.join('').includes('listening on'), 'the receiver to listen');
    expect(indexed()).toEqual([{ id: 'm-killed', row: 1 }]);
    io.abort();
    expect(await running).toBe(0);
  });

  it('serves with the key from TELNYX_PUBLIC_KEY, logs each event as a line, and stops on the signal', async () => {
    const { privateKey, publicKey } = keyPair();
    const io = testIo({ TELNYX_PUBLIC_KEY: publicKey });
    const running = webhooksCommand({ port: 0, db: t.file }, io);
    await waitFor(() => io.err.join('').includes('listening on'), 'the receiver to listen');
    const [, hostPort, route] = /listening on (\S+), path (\S+) /.exec(io.err.join(''))!;
    expect(hostPort).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(route).toBe('/telnyx');
    const url = `http://${hostPort}${route}`;
    const body = inboundEvent('+14155550101', '+18445550001', 'STOP', 'ev-stop-1');
    expect((await post(url, body, signedHeaders(privateKey, body))).status).toBe(200);
    expect((await post(url, body, signedHeaders(privateKey, body))).status).toBe(200);
    expect((await post(url, body, { 'content-type': 'application/json' })).status).toBe(401);
    io.abort();
    expect(await running).toBe(0);
    const lines = io.out.join('').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/ message\.received ev-stop-1 \+14155550101 replied STOP: added to suppressions$/);
    expect(lines[1]).toMatch(/ message\.received ev-stop-1 duplicate, ignored$/);
    expect(io.err.join('')).toMatch(/rejected 401 from 127\.0\.0\.1/);
    const ledger = new Ledger(t.file);
    try {
      expect(suppressionStoreOf(ledger).suppressions().map(({ number, source }) => ({ number, source }))).toEqual([{ number: '+14155550101', source: 'stop_reply' }]);
    } finally {
      ledger.close();
    }
  });
});

describe('webhooksCommand on a hostile network', () => {
  it('shows the address actually bound (--host 0.0.0.0)', async () => {
    const io = testIo({ TELNYX_PUBLIC_KEY: keyPair().publicKey });
    const running = webhooksCommand({ port: 0, host: '0.0.0.0', db: t.file }, io);
    await waitFor(() => io.err.join('').includes('listening on'), 'the receiver to listen');
    expect(io.err.join('')).toMatch(/^webhook receiver listening on 0\.0\.0\.0:\d+, path \/telnyx \(ledger /);
    io.abort();
    expect(await running).toBe(0);
  });

  it('logs rejected requests at most once a second, with counts', async () => {
    const io = testIo({ TELNYX_PUBLIC_KEY: keyPair().publicKey });
    const running = webhooksCommand({ port: 0, db: t.file }, io);
    await waitFor(() => io.err.join('').includes('listening on'), 'the receiver to listen');
    const [, hostPort] = /listening on (\S+), path/.exec(io.err.join(''))!;
    const url = `http://${hostPort}/telnyx`;
    const body = inboundEvent('+14155550101', '+18445550001', 'hi', 'ev-1');
    const started = Date.now();
    for (let i = 0; i < 60; i++) expect((await post(url, body, { 'content-type': 'application/json' })).status).toBe(401);
    const seconds = Math.ceil((Date.now() - started) / 1000);
    io.abort();
    expect(await running).toBe(0);
    const lines = io.err.join('').trimEnd().split('\n').filter((l) => l.includes('rejected'));
    // One line when the first arrives, then at most one summary a second (and one when the receiver stops).
    expect(lines.length).toBeLessThanOrEqual(seconds + 2);
    expect(lines[0]).toMatch(/ rejected 401 from 127\.0\.0\.1: /);
    const summarised = lines.slice(1).reduce((n, l) => n + Number(/rejected (\d+) more requests? in the last second: \d+ × 401 /.exec(l)![1]), 0);
    expect(1 + summarised).toBe(60);
  });
});

describe('suppressionsCommand', () => {
  it('lists entries with their source and time, as text or JSON, and manages manual entries', () => {
    addSuppression(t.ledger, '+14155550101', 'stop_reply', 'replied STOP to +18445550001', Date.UTC(2026, 0, 2));
    addSuppression(t.ledger, '+14155550102', '40300', 'send rejected with 40300', Date.UTC(2026, 0, 3));
    const json = testIo();
    expect(suppressionsCommand({ db: t.file, json: true }, json)).toBe(0);
    expect(JSON.parse(json.out.join(''))).toEqual([
      { number: '+14155550101', source: 'stop_reply', detail: 'replied STOP to +18445550001', added_at: '2026-01-02T00:00:00.000Z' },
      { number: '+14155550102', source: '40300', detail: 'send rejected with 40300', added_at: '2026-01-03T00:00:00.000Z' },
    ]);
    const text = testIo();
    suppressionsCommand({ db: t.file, json: false, add: ['+14155550103'], remove: ['+14155550101'] }, text);
    const lines = text.out.join('').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\+14155550102\s+40300\s+2026-01-03T00:00:00\.000Z  send rejected with 40300$/);
    expect(lines[1]).toMatch(/^\+14155550103\s+manual\s+/);
    expect(() => suppressionsCommand({ db: t.file, json: false, add: ['555-0101'] }, testIo())).toThrow(/E\.164/);
  });

  it('refuses a ledger path with no ledger, listing or adding, and creates none', () => {
    const absent = `${t.file}.absent`;
    for (const add of [undefined, ['+14155550101']]) {
      expect(() => suppressionsCommand({ db: absent, json: true, add }, testIo())).toThrow(
        expect.objectContaining({ code: 'ERR_LEDGER_NOT_FOUND', message: expect.stringContaining(absent) }),
      );
    }
    expect(existsSync(absent)).toBe(false);
  });
});
