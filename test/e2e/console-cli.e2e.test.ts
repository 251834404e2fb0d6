/**
 * The read-side CLI answers: `status` explains a run (delivery, cost against the estimate, top failure
 * codes, skip reasons); every hint works when pasted into a shell (it keeps --db and quotes the path);
 * `report --status` filters and has a `line` column; `plan` and `report` number and name skipped rows alike.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/telnyx/simulator/index.js';
import { binPath, cliEnv, repoRoot, runCli, startCli } from '../helpers/cli.js';
import { writeCampaign } from '../helpers/campaign-files.js';
import { tempDir } from '../helpers/temp.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('bulktext-console-');
});
afterEach(() => tmp.cleanup());

/** Runs a printed hint as an operator pasting it would: through a shell, with `bulktext` on PATH. */
function paste(command: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const bin = path.join(tmp.dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, 'bulktext'), `#!/bin/sh\nexec "${process.execPath}" "${binPath}" "$@"\n`);
  chmodSync(path.join(bin, 'bulktext'), 0o755);
  // Asynchronous: the simulator these commands talk to runs in this process.
  const child = spawn('/bin/sh', ['-c', command], { cwd: tmp.dir, env: { ...env, PATH: `${bin}:${env.PATH ?? ''}` } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/**
 * Waits until the run has read its source and then until `sending` holds (or, given a number, for that many
 * ms more), then interrupts it. A condition, where the test can see the sends: on a loaded machine this
 * process's timer can fire seconds late, after a 3 s run has already finished.
 */
async function interruptWhileSending(run: ReturnType<typeof startCli>, sending: number | (() => Promise<boolean>)): Promise<void> {
  const until = Date.now() + 30_000;
  while (!/^read \d+ rows/m.test(run.output().stderr) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  if (typeof sending === 'number') await new Promise((r) => setTimeout(r, sending));
  else while (!(await sending()) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  run.child.kill('SIGINT');
}

/** The command after `label` on one line of `text`. */
function hintAfter(text: string, label: string): string {
  const line = text.split('\n').find((l) => l.includes(label));
  expect(line, `a line with "${label}" in:\n${text}`).toBeDefined();
  return line!.slice(line!.indexOf(label) + label.length).trim();
}

describe('status, hints and report for operators', () => {
  it('status explains failures and costs; its hints, pasted, resume the run and list its rows', async () => {
    const { job, numbers } = writeCampaign(tmp.dir, {
      rows: 30,
      rate: 10,
      extraYaml: 'pricing:\n  per_part: "0.0040"\n  currency: USD\n',
    });
    const sim = await startSimulator({ apiKey: 'k', accountRate: 10_000, senderRates: { longCode: 10_000 }, stopList: [numbers[0]!, numbers[1]!] });
    try {
      const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url });
      const db = path.join(tmp.dir, "it's a ledger.db");
      // Interrupted part-way: 30 rows at 10/s.
      const run = startCli(['run', job, '--db', db], { env, timeoutMs: 60_000 });
      // Rows go out in order: after 8 requests both STOP rows (1 and 2) have their answers, 22 rows are left.
      await interruptWhileSending(run, async () => (await sim.stats()).requests >= 8);
      const stopped = await run.done;
      expect(stopped.code).toBe(130);

      const status = await runCli(['status', /^run (\S+)/m.exec(stopped.stderr)![1]!, '--db', db], { env });
      expect(status.code).toBe(0);
      const text = status.stdout;
      expect(text).toContain('interrupted');
      expect(text).toMatch(/cost \d+\.\d{4} USD for \d+ part\(s\) · estimated at start 0\.1200 USD for 30 part\(s\) \(-\d+\.\d{4} USD\)/);
      expect(text).toMatch(/top failures:\n +2 +40300 +failed +Blocked due to STOP message — /);
      // The hint keeps the ledger (its path quoted: it has a space and a quote) and works when pasted.
      const resume = hintAfter(text, 'resume with:');
      expect(resume).toContain(`--db 'it'\\''s a ledger.db'`.replace('it', path.join(tmp.dir, 'it')));
      const resumed = await paste(resume, env);
      expect(resumed.code, resumed.stderr).toBe(3);
      expect(resumed.stderr).toContain('completed');
      expect(resumed.stderr).toMatch(/delivery: delivered \d+/);

      const id = /^run (\S+)/m.exec(stopped.stderr)![1]!;
      const final = JSON.parse((await runCli(['status', id, '--db', db, '--json'], { env })).stdout);
      expect(final.counts).toMatchObject({ total: 30, sent: 28, failed: 2 });

      // report --status: only those rows, with the source line beside the row.
      const failed = await paste(`bulktext report ${id} --db '${db.replace(/'/g, `'\\''`)}' --status failed,unknown`, env);
      const lines = failed.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^row,line,to,/);
      expect(lines.slice(1).map((l) => { const c = l.split(','); return [c[0], c[1], c[2], c[4]]; })).toEqual([
        ['1', '2', numbers[0], 'failed'],
        ['2', '3', numbers[1], 'failed'],
      ]);
      const bad = await runCli(['report', id, '--db', db, '--status', 'failed,lost'], { env });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('"lost"');
      expect(bad.stderr).toContain('pending, sending, sent, failed, unknown, skipped, deferred, expired');
    } finally {
      await sim.close();
    }
  }, 90_000);

  it('an unfinished run blocks a second one with a resume hint that keeps --db', async () => {
    const { job } = writeCampaign(tmp.dir, { rows: 40, rate: 5 });
    const db = path.join(tmp.dir, 'with space.db');
    const run = startCli(['run', job, '--sandbox', '--db', db], { timeoutMs: 60_000 });
    await interruptWhileSending(run, 1500);
    expect((await run.done).code).toBe(130);
    const again = await runCli(['run', job, '--sandbox', '--db', db]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/resume it with `bulktext resume \S+ --db '.*with space\.db'`/);
  }, 60_000);

  it('plan and report number and name the sample job’s skipped rows alike', async () => {
    const db = path.join(tmp.dir, 'l.db');
    const plan = await runCli(['plan', 'jobs/spring-promo.yaml', '--db', db], { cwd: repoRoot });
    const run = await runCli(['run', 'jobs/spring-promo.yaml', '--sandbox', '--db', db, '--json', '--quiet'], { cwd: repoRoot });
    const id = JSON.parse(run.stdout).run_id as string;
    const report = JSON.parse((await runCli(['report', id, '--db', db, '--format', 'json', '--status', 'skipped'])).stdout) as {
      row: number;
      line: number;
      error_code: string;
    }[];
    for (const reason of ['invalid_number', 'duplicate', 'missing_field', 'invalid_row']) {
      const rows = report.filter((r) => r.error_code === reason);
      expect(rows.length).toBeGreaterThan(0);
      const listed = `${rows.length > 1 ? 'rows' : 'row'} ${rows.map((r) => r.row).join(', ')} (${rows.length > 1 ? 'lines' : 'line'} ${rows.map((r) => r.line).join(', ')})`;
      expect(plan.stdout).toMatch(new RegExp(`^  ${reason} +${rows.length} +${listed.replace(/[()]/g, '\\$&')}$`, 'm'));
    }
  }, 60_000);
});
