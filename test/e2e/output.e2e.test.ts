/**
 * End to end: output like a good Unix tool (a closed pipe, a full device, a missing folder, an atomic
 * --out) and a CSV report that spreadsheets open as data, not formulas.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spreadsheetSafe } from '../../src/campaign/report.js';
import { binPath, runCli, startProcess } from '../helpers/cli.js';
import { validNumbers, writeCampaign } from '../helpers/campaign-files.js';
import { tempDir } from '../helpers/temp.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let tmp: ReturnType<typeof tempDir>;
let db: string;
let runId: string;

const hostile = ['=HYPERLINK("http://evil","click")', "+cmd|' /C calc'!A0", '@SUM(1+1)', '-2+3', '\t=1+1'];

beforeAll(async () => {
  tmp = tempDir('bulktext-output-');
  const { job, csv } = writeCampaign(tmp.dir, { rows: 20 });
  // 3,000 rows without a number: a report far larger than a pipe holds, from a run that sends only 20.
  const junk = Array.from({ length: 3000 }, (_, i) => `no number ${i},Nobody`).join('\n');
  // Rows whose "phone" is a formula are skipped as invalid_number, and their raw value is in the report.
  const extra = hostile.map((h) => `"${h.replaceAll('"', '""')}",Eve`).join('\n');
  writeFileSync(csv, `${readFileSync(csv, 'utf8')}${junk}\n${extra}\n`);
  db = path.join(tmp.dir, 'l.db');
  const r = await runCli(['run', job, '--sandbox', '--db', db, '--json', '--quiet'], { timeoutMs: 110_000 });
  expect(r.code).toBe(0);
  runId = (JSON.parse(r.stdout) as { run_id: string }).run_id;
});
afterAll(() => tmp.cleanup());

/** Runs `cli … [| reader]` in sh; returns the CLI's own exit status and what reached stderr. */
async function pipeline(command: string): Promise<{ status: number; stderr: string; stdout: string }> {
  // `{ cli; echo status=$? >&2; } | head`: the CLI's own exit status, with only its stdout in the pipe.
  const [left, right] = command.split(' | ');
  const line = right === undefined ? `${left}; echo "status=$?" >&2` : `{ ${left}; echo "status=$?" >&2; } | ${right}`;
  const r = await startProcess('/bin/sh', ['-c', line], { cwd: tmp.dir, env: { PATH: process.env.PATH } }).done;
  const m = /status=(\d+)\n$/.exec(r.stderr);
  return { status: m === null ? -1 : Number(m[1]), stderr: r.stderr.replace(/status=\d+\n$/, ''), stdout: r.stdout };
}

const cli = `"${process.execPath}" "${binPath}"`;

describe('a closed or failing standard output', () => {
  it('report | head -1 and status | head -1 end quietly with exit 0', async () => {
    // 3,000 rows are far more than a pipe holds, so the CLI is still writing when head exits.
    const report = await pipeline(`${cli} report ${runId} --db "${db}" | head -1`);
    expect(report.stdout).toBe('row,line,to,from,status,message_id,parts,cost,currency,attempts,error_code,error_detail,sent_at,delivery_status,delivery_error_code,delivered_at\n');
    expect(report.stderr).toBe('');
    expect(report.status).toBe(0);
    const json = await pipeline(`${cli} report ${runId} --db "${db}" --format json | head -c 10`);
    expect(json.stderr).toBe('');
    expect(json.status).toBe(0);
    const status = await pipeline(`${cli} status --db "${db}" | head -1`);
    expect(status.stdout).toContain(runId);
    expect(status.stderr).toBe('');
    expect(status.status).toBe(0);
  });

  it('report > /dev/full is one clear line and exit 2', async () => {
    const r = await pipeline(`${cli} report ${runId} --db "${db}" > /dev/full`);
    expect(r.stderr).toBe('bulktext: cannot write to standard output: ENOSPC: no space left on device, write\n');
    expect(r.status).toBe(2);
  });
});

describe('report --out', () => {
  it('writes the whole report through a temporary file, renamed when complete, mode 0600', async () => {
    const out = path.join(tmp.dir, 'out', 'report.csv');
    (await import('node:fs')).mkdirSync(path.dirname(out));
    writeFileSync(out, 'an older report\n', { mode: 0o644 });
    const r = await runCli(['report', runId, '--db', db, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 20 + 3000 + hostile.length);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readdirSync(path.dirname(out))).toEqual(['report.csv']);
  });

  it('into a folder that does not exist is exit 2 naming the folder', async () => {
    const out = path.join(tmp.dir, 'no', 'such', 'report.csv');
    const r = await runCli(['report', runId, '--db', db, '--out', out]);
    expect(r.stderr).toBe(`bulktext: cannot write the report ${out}: the folder ${path.dirname(out)} does not exist\n`);
    expect(r.code).toBe(2);
  });

  it('for a run that does not exist leaves no file, not even a header', async () => {
    const out = path.join(tmp.dir, 'missing-run.csv');
    const r = await runCli(['report', 'no-such-run', '--db', db, '--out', out]);
    expect(r.code).toBe(2);
    expect(readdirSync(tmp.dir).filter((f) => f.includes('missing-run'))).toEqual([]);
  });
});

describe('spreadsheet-safe CSV', () => {
  it("prefixes cells a spreadsheet would evaluate with ', keeps E.164 numbers in phone columns, and --raw turns it off", async () => {
    const safe = (await runCli(['report', runId, '--db', db])).stdout.trimEnd().split('\n');
    const skipped = safe.slice(-hostile.length);
    expect(skipped.map((l) => l.split(',')[0])).toEqual(hostile.map((_, i) => String(3021 + i)));
    expect(skipped[0]).toMatch(/^3021,3022,"'=HYPERLINK\(""http:\/\/evil"",""click""\)",,skipped,/);
    expect(skipped[1]).toMatch(/^3022,3023,'\+cmd\|' \/C calc'!A0,,skipped,/);
    expect(skipped[2]).toMatch(/^3023,3024,'@SUM\(1\+1\),,skipped,/);
    expect(skipped[3]).toMatch(/^3024,3025,'-2\+3,,skipped,/);
    expect(skipped[4]).toMatch(/^3025,3026,'\t=1\+1,,skipped,/);
    // A sent row's numbers are E.164 and stay exactly as they are.
    const [first] = validNumbers(1);
    expect(safe[1]).toMatch(new RegExp(`^1,2,\\${first},\\+1844555000\\d,sent,`));
    const raw = (await runCli(['report', runId, '--db', db, '--raw'])).stdout.trimEnd().split('\n').slice(-hostile.length);
    expect(raw[0]).toMatch(/^3021,3022,"=HYPERLINK\(""http:\/\/evil"",""click""\)",,skipped,/);
    expect(raw[2]).toMatch(/^3023,3024,@SUM\(1\+1\),,skipped,/);
  });

  it('follows the rule cell by cell', () => {
    expect(spreadsheetSafe('to', '+14155550101')).toBe('+14155550101');
    expect(spreadsheetSafe('to', '+14155550101,+14155550102')).toBe('+14155550101,+14155550102');
    expect(spreadsheetSafe('to', '+1 415 555 0101')).toBe("'+1 415 555 0101");
    expect(spreadsheetSafe('error_detail', '+14155550101')).toBe("'+14155550101");
    expect(spreadsheetSafe('error_detail', '\rx')).toBe("'\rx");
    expect(spreadsheetSafe('error_detail', 'plain = text')).toBe('plain = text');
    expect(spreadsheetSafe('parts', 3)).toBe(3);
    expect(spreadsheetSafe('cost', null)).toBe(null);
  });
});
