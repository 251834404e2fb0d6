/** What `plan` says a job will send is what a sandbox `run` of it then records. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';
import { validNumbers } from '../helpers/campaign-files.js';
import { tempDir } from '../helpers/temp.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('bulktext-plan-');
});
afterEach(() => tmp.cleanup());

async function planThenRun(job: string, db: string) {
  const plan = await runCli(['plan', job, '--json', '--db', db], { cwd: repoRoot });
  expect(plan.code).toBe(0);
  const planned = JSON.parse(plan.stdout);
  const run = await runCli(['run', job, '--sandbox', '--db', db, '--json', '--quiet', '--plan', planned.plan_hash], { cwd: repoRoot });
  expect(run.code).toBe(0);
  const status = JSON.parse(run.stdout);
  const report = JSON.parse((await runCli(['report', status.run_id, '--db', db, '--format', 'json'])).stdout) as { status: string; parts: number; error_code: string | null }[];
  return { planned, status, report };
}

function byParts(report: { status: string; parts: number }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of report) if (r.status === 'sent') out[String(r.parts)] = (out[String(r.parts)] ?? 0) + 1;
  return out;
}

describe('plan against a sandbox run', () => {
  it('the sample campaign: the same rows, skips, segments and cost', async () => {
    const { planned, status, report } = await planThenRun('jobs/spring-promo.yaml', path.join(tmp.dir, 'l.db'));
    expect(status.counts.total).toBe(planned.rows.total);
    expect(status.counts.sent).toBe(planned.rows.sendable);
    expect(status.parts).toBe(planned.segments.total);
    expect(byParts(report)).toEqual(planned.segments.by_parts);
    expect(report.filter((r) => r.error_code === 'duplicate')).toHaveLength(planned.rows.duplicate);
    expect(report.filter((r) => r.error_code === 'invalid_number')).toHaveLength(planned.rows.invalid);
    // The sample prices a part at the simulator's own price, so estimate and bill agree.
    expect(status.cost).toEqual({ amount: planned.cost.amount, currency: planned.cost.currency });
    expect(status.estimate).toEqual({ parts: planned.segments.total, cost: { amount: planned.cost.amount, currency: planned.cost.currency } });
  });

  it('multi-part and UCS-2 messages: Telnyx (the simulator) bills the parts plan counted', async () => {
    const numbers = validNumbers(30);
    // Names of growing length push the text across the 160/306/459 boundaries; some force UCS-2.
    const rows = numbers.map((n, i) => `${n},${'x'.repeat(i * 11)}${i % 7 === 0 ? '’' : ''}`);
    writeFileSync(path.join(tmp.dir, 'r.csv'), `phone,name\n${rows.join('\n')}\n`);
    const job = path.join(tmp.dir, 'job.yaml');
    writeFileSync(
      job,
      `name: parts\nsource:\n  path: r.csv\nsender:\n  mode: long_code\n  from: "+18445550001"\n` +
        `message:\n  text: "Hello {{name}} — ${'this sentence pads the message. '.repeat(3)}"\n` +
        `rate:\n  messages_per_second: 200\n  per_sender_per_second: 200\npricing:\n  per_part: "0.0040"\n`,
    );
    const { planned, status, report } = await planThenRun(job, path.join(tmp.dir, 'l.db'));
    expect(Object.keys(planned.segments.by_parts).length).toBeGreaterThan(2);
    expect(byParts(report)).toEqual(planned.segments.by_parts);
    expect(status.parts).toBe(planned.segments.total);
    expect(status.cost.amount).toBe(planned.cost.amount);
  });
});
