/** Send windows (quiet hours) and deadlines through the real CLI and simulator. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type InProcessSimulator } from '../../src/telnyx/simulator/index.js';
import { cliEnv, runCli } from '../helpers/cli.js';
import { validNumbers } from '../helpers/campaign-files.js';
import { tempDir } from '../helpers/temp.js';

let tmp: ReturnType<typeof tempDir>;
let sim: InProcessSimulator;
beforeEach(async () => {
  tmp = tempDir('bulktext-window-');
  sim = await startSimulator({ apiKey: 'k', accountRate: 10_000, senderRates: { longCode: 10_000 }, webhooks: { enabled: false } });
});
afterEach(async () => {
  await sim.close();
  tmp.cleanup();
});

/** A zone whose local hour is now inside [9, 17) and one where it is outside. */
function zones(): { open: string; closed: string } {
  const candidates = ['Pacific/Honolulu', 'America/Los_Angeles', 'America/New_York', 'Europe/London', 'Europe/Berlin', 'Asia/Kolkata', 'Asia/Tokyo', 'Australia/Sydney', 'Pacific/Auckland', 'America/Sao_Paulo'];
  const hour = (zone: string) => Number(new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', hourCycle: 'h23' }).format(new Date()));
  // Stay away from the edges so the test does not straddle a window boundary.
  const open = candidates.find((z) => hour(z) >= 10 && hour(z) <= 15);
  const closed = candidates.find((z) => hour(z) <= 7 || hour(z) >= 19);
  if (open === undefined || closed === undefined) throw new Error('no suitable zones right now');
  return { open, closed };
}

function job(extra: string, rows: { phone: string; tz: string }[], rate = 100): string {
  writeFileSync(path.join(tmp.dir, 'r.csv'), `phone,tz\n${rows.map((r) => `${r.phone},${r.tz}`).join('\n')}\n`);
  const file = path.join(tmp.dir, 'job.yaml');
  writeFileSync(
    file,
    `name: windowed\nsource:\n  path: r.csv\nsender:\n  mode: long_code\n  from: "+18445550001"\nmessage:\n  text: "Reminder"\n` +
      `rate:\n  messages_per_second: ${rate}\n  per_sender_per_second: ${rate}\n${extra}`,
  );
  return file;
}

const env = () => cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url });

describe('send windows', () => {
  it('defers recipients outside their window and, with --no-wait, leaves them for resume', async () => {
    const { open, closed } = zones();
    const numbers = validNumbers(6);
    const file = job(
      'window:\n  start: "09:00"\n  end: "17:00"\n  timezone_field: tz\n  timezone: UTC\n',
      numbers.map((phone, i) => ({ phone, tz: i % 2 === 0 ? open : closed })),
    );
    const db = path.join(tmp.dir, 'l.db');
    const r = await runCli(['run', file, '--db', db, '--no-wait', '--json', '--quiet'], { env: env() });
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status.counts).toMatchObject({ sent: 3, deferred: 3, pending: 0 });
    expect(status.stop.code).toBe('deferred');
    for (const [i, n] of numbers.entries()) expect(sim.messages.byRecipient(n)).toHaveLength(i % 2 === 0 ? 1 : 0);

    const report = JSON.parse((await runCli(['report', status.run_id, '--db', db, '--format', 'json'])).stdout) as Record<string, string>[];
    const deferred = report.filter((row) => row.status === 'deferred');
    expect(deferred).toHaveLength(3);
    expect(deferred[0]!.error_detail).toContain(`outside the send window 09:00-17:00 every day ${closed}`);

    // resume sees the deferred rows as work left, not as "nothing left to send": still shut, they stay deferred.
    const again = await runCli(['resume', status.run_id, '--db', db, '--no-wait', '--json', '--quiet'], { env: env() });
    expect(again.code).toBe(0);
    const resumed = JSON.parse(again.stdout);
    expect(resumed.counts).toMatchObject({ sent: 3, deferred: 3, pending: 0 });
    expect(resumed.state).not.toBe('completed');
    expect(resumed.stop.code).toBe('deferred');
    for (const [i, n] of numbers.entries()) expect(sim.messages.byRecipient(n)).toHaveLength(i % 2 === 0 ? 1 : 0);
  });

  it('a row whose time zone is unusable and has no fallback is skipped, not sent', async () => {
    const numbers = validNumbers(2);
    const file = job('window:\n  start: "00:00"\n  end: "23:59"\n  timezone_field: tz\n', [
      { phone: numbers[0]!, tz: 'Mars/Olympus' },
      { phone: numbers[1]!, tz: 'UTC' },
    ]);
    const r = await runCli(['run', file, '--db', path.join(tmp.dir, 'l.db'), '--json', '--quiet'], { env: env() });
    const status = JSON.parse(r.stdout);
    expect(status.counts).toMatchObject({ skipped: 1 });
    expect(sim.messages.byRecipient(numbers[0]!)).toHaveLength(0);
  });
});

describe('expires_after', () => {
  it('rows still unsent when the deadline passes are expired and never sent', async () => {
    const numbers = validNumbers(40);
    const file = job('expires_after: 1s\n', numbers.map((phone) => ({ phone, tz: 'UTC' })), 10);
    const r = await runCli(['run', file, '--db', path.join(tmp.dir, 'l.db'), '--json', '--quiet'], { env: env() });
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status.state).toBe('completed');
    expect(status.counts.sent + status.counts.expired).toBe(40);
    expect(status.counts.expired).toBeGreaterThan(20);
    expect(sim.messages.count()).toBe(status.counts.sent);
  });
});
