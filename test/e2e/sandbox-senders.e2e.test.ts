/**
 * Sandbox runs through the spawned CLI: sealed (the job's webhook URLs get nothing, the run still ends
 * with delivery statuses), a short-code job end to end, and an alphanumeric job whose +1 rows are
 * skipped as unsupported_destination, warned about by plan and shown by report.
 */
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/cli.js';
import { validNumbers } from '../helpers/campaign-files.js';
import { tempDir } from '../helpers/temp.js';

const PROFILE = '4000eba1-a0c0-4563-9925-b25e842a7cb6';

let tmp: ReturnType<typeof tempDir>;
let listener: { server: Server; url: string; requests: string[] } | undefined;
beforeEach(() => {
  tmp = tempDir('bulktext-sandbox-');
});
afterEach(async () => {
  if (listener !== undefined) await new Promise((resolve) => listener!.server.close(resolve));
  listener = undefined;
  tmp.cleanup();
});

/** A local stand-in for the job's real webhook endpoint: it records whatever reaches it. */
async function startListener(): Promise<NonNullable<typeof listener>> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests };
}

/** Writes recipients.csv (one number per line) and job.yaml with the given sender and message blocks. */
function writeJob(numbers: string[], sender: string, message: string): string {
  writeFileSync(path.join(tmp.dir, 'recipients.csv'), `phone\n${numbers.join('\n')}\n`);
  const job = path.join(tmp.dir, 'job.yaml');
  writeFileSync(
    job,
    ['name: sandbox-e2e', 'source:', '  path: recipients.csv', sender, message, 'rate:', '  messages_per_second: 200', '  per_sender_per_second: 200', ''].join('\n'),
  );
  return job;
}

interface Status {
  run_id: string;
  state: string;
  counts: Record<string, number>;
  delivery: Record<string, number>;
}

async function sandboxRun(job: string, db: string): Promise<Status> {
  const r = await runCli(['run', job, '--sandbox', '--db', db, '--quiet', '--json'], { env: cliEnv(), cwd: tmp.dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Status;
}

async function report(runId: string, db: string): Promise<Record<string, string | number | null>[]> {
  const r = await runCli(['report', runId, '--db', db, '--format', 'json'], { env: cliEnv(), cwd: tmp.dir });
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, string | number | null>[];
}

describe('a sandbox run', { timeout: 60_000 }, () => {
  it('sends nothing to the job’s webhook_url or failover URL, and still ends with delivery statuses', async () => {
    listener = await startListener();
    const numbers = validNumbers(5);
    const job = writeJob(
      numbers,
      'sender:\n  mode: long_code\n  from: "+18445550001"',
      `message:\n  text: "Hello"\n  webhook_url: "${listener.url}/hooks"\n  webhook_failover_url: "${listener.url}/failover"`,
    );
    const db = path.join(tmp.dir, 'l.db');
    const status = await sandboxRun(job, db);
    expect(status.counts).toMatchObject({ total: 5, sent: 5 });
    expect(status.delivery).toMatchObject({ delivered: 5, awaiting: 0 });
    expect(listener.requests).toEqual([]);
  });
});

describe('sender forms end to end in the sandbox', { timeout: 60_000 }, () => {
  it('a short-code job, bare digits and the E.164 form, sends every row', async () => {
    const numbers = validNumbers(4);
    const job = writeJob(numbers, 'sender:\n  mode: short_code\n  from: ["22000", "+18445550003"]', 'message:\n  text: "Your code is 1234"');
    const db = path.join(tmp.dir, 'l.db');
    const status = await sandboxRun(job, db);
    expect(status.counts).toMatchObject({ total: 4, sent: 4, failed: 0 });
    const rows = await report(status.run_id, db);
    expect(new Set(rows.map((r) => r.from))).toEqual(new Set(['22000', '+18445550003']));
  });

  it('an alphanumeric job: plan warns about +1 rows, run skips them as unsupported_destination and sends the rest', async () => {
    const us = validNumbers(2);
    const job = writeJob(
      [us[0]!, '+447911123456', us[1]!, '+4915123456789'],
      `sender:\n  mode: alphanumeric\n  from: "ACME Shop"\n  messaging_profile_id: "${PROFILE}"`,
      'message:\n  text: "Your parcel is on its way"',
    );
    const db = path.join(tmp.dir, 'l.db');

    const plan = await runCli(['plan', job, '--db', db, '--json'], { env: cliEnv(), cwd: tmp.dir });
    expect(plan.code).toBe(0);
    const planned = JSON.parse(plan.stdout) as { rows: Record<string, number>; warnings: { code: string; message: string; lines?: number[] }[] };
    expect(planned.rows).toMatchObject({ total: 4, sendable: 2, unsupported_destination: 2 });
    expect(planned.warnings).toContainEqual(
      expect.objectContaining({ code: 'unsupported_destinations', lines: [2, 4], message: expect.stringContaining('refuse alphanumeric sender IDs') }),
    );
    const text = await runCli(['plan', job, '--db', db], { env: cliEnv(), cwd: tmp.dir });
    expect(text.stdout).toMatch(/unsupported_destination\s+2\s+rows 1, 3 \(lines 2, 4\)/);

    const status = await sandboxRun(job, db);
    expect(status.counts).toMatchObject({ total: 4, sent: 2, skipped: 2, failed: 0 });
    const rows = await report(status.run_id, db);
    expect(rows.map((r) => [r.to, r.status, r.error_code])).toEqual([
      [us[0], 'skipped', 'unsupported_destination'],
      ['+447911123456', 'sent', null],
      [us[1], 'skipped', 'unsupported_destination'],
      ['+4915123456789', 'sent', null],
    ]);
    expect(rows[0]!.error_detail).toMatch(/alphanumeric sender IDs cannot send to \+1 \(US, Canada, Puerto Rico/);
  });

  it('an alphanumeric job with fields its endpoint does not take is refused before anything is read, naming them', async () => {
    const job = writeJob(
      ['+447911123456'],
      `sender:\n  mode: alphanumeric\n  from: "ACME"\n  messaging_profile_id: "not-a-uuid"`,
      'message:\n  text: "Hi"\n  subject: "Hello"\n  encoding: gsm7',
    );
    const r = await runCli(['run', job, '--sandbox', '--db', 'l.db'], { env: cliEnv(), cwd: tmp.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('sender.messaging_profile_id: must be a UUID');
    expect(r.stderr).toContain('message.subject: is not taken by alphanumeric senders');
    expect(r.stderr).toContain('message.encoding: is not taken by alphanumeric senders');
  });
});
