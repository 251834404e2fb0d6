/**
 * End to end: a ledger on a full disk, a read-only ledger, a broken ledger and a new ledger opened by
 * several processes at once. The disk is made "full" with PRAGMA max_page_count in the process under
 * test (BULKTEXT_TEST_MAX_PAGE_COUNT, test only); the size is measured first on a copy of the same run.
 */
import { chmodSync, copyFileSync, existsSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadJobSpec } from '../../src/config/load-job-spec.js';
import { startRun } from '../../src/campaign/start-run.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { startSimulator, type InProcessSimulator } from '../../src/telnyx/simulator/index.js';
import { cliEnv, repoRoot, runCli, startProcess } from '../helpers/cli.js';
import { writeCampaign } from '../helpers/campaign-files.js';
import { tempDir } from '../helpers/temp.js';
import { withLedgerSql } from '../helpers/ledger-sql.js';

const fastSim = {
  accountRate: 100_000,
  mmsAccountRate: 100_000,
  senderRates: { longCode: 100_000, tollFree: 100_000, shortCode: 100_000 },
  webhooks: { enabled: false },
};

// Each case spawns the CLI several times on a machine shared with other test runs.
vi.setConfig({ testTimeout: 120_000 });

let tmp: ReturnType<typeof tempDir>;
let sim: InProcessSimulator | undefined;

beforeEach(() => {
  tmp = tempDir('bulktext-hostile-');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  chmodSync(tmp.dir, 0o755);
  tmp.cleanup();
});

/** The ledger's size in pages right after `run` has ingested this job (measured in-process on a scratch file). */
async function pagesAfterIngest(job: string): Promise<number> {
  const scratch = path.join(tmp.dir, 'scratch.db');
  const ledger = new Ledger(scratch);
  try {
    await startRun(ledger, await loadJobSpec(job), { sandbox: false });
    return withLedgerSql(scratch, (sql) => sql.pragma('page_count') as number);
  } finally {
    ledger.close();
  }
}

function rowsOf(db: string): { status: string; n: number }[] {
  return withLedgerSql(db, (raw) => raw.all<{ status: string; n: number }>(`SELECT status, count(*) AS n FROM messages GROUP BY status ORDER BY status`), {
    readonly: true,
  });
}

describe('a full disk', () => {
  it('while ingesting: exit 2 naming the file and the cause, nothing sent, no run id printed, no stack', async () => {
    const { job } = writeCampaign(tmp.dir, { rows: 3000 });
    const db = path.join(tmp.dir, 'l.db');
    // A new ledger's schema fits; 3,000 rows do not.
    const fresh = new Ledger(path.join(tmp.dir, 'fresh.db'));
    fresh.close();
    const pages = withLedgerSql(path.join(tmp.dir, 'fresh.db'), (sql) => sql.pragma('page_count') as number);
    sim = await startSimulator({ apiKey: 'k', ...fastSim });
    const r = await runCli(['run', job, '--db', db], { env: cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url, BULKTEXT_TEST_MAX_PAGE_COUNT: String(pages + 4) }) });
    expect(r.stderr).toBe(`bulktext: cannot use the ledger ${db}: the disk is full (SQLITE_FULL: database or disk is full); nothing was sent\n`);
    expect(r.code).toBe(2);
    expect(sim.messages.count()).toBe(0);
  });

  it('while sending: exit 4, the run resumable; after space is freed resume finishes and nobody is texted twice', async () => {
    const { job, numbers } = writeCampaign(tmp.dir, { rows: 1500 });
    const limit = (await pagesAfterIngest(job)) + 6;
    const db = path.join(tmp.dir, 'l.db');
    sim = await startSimulator({ apiKey: 'k', ...fastSim });
    const env = (extra: Record<string, string> = {}) => cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim!.url, ...extra });
    const r = await runCli(['run', job, '--db', db, '--quiet'], { env: env({ BULKTEXT_TEST_MAX_PAGE_COUNT: String(limit) }) });
    expect(r.stderr).toContain(`bulktext: cannot write the ledger ${db}: the disk is full (SQLITE_FULL`);
    expect(r.stderr).toContain('the run stopped and nothing is lost');
    expect(r.stderr).not.toMatch(/internal error|at Ledger\./);
    expect(r.code).toBe(4);
    const sentBefore = sim.messages.count();
    expect(sentBefore).toBeGreaterThan(0);
    expect(sentBefore).toBeLessThan(1500);

    const list = JSON.parse((await runCli(['status', '--db', db, '--json'])).stdout) as { run_id: string; state: string }[];
    expect(list).toHaveLength(1);
    expect(list[0]!.state).toBe('interrupted');
    const resumed = await runCli(['resume', list[0]!.run_id, '--db', db, '--json', '--quiet'], { env: env() });
    // Rows whose answer could not be recorded are in doubt (unknown), never sent again: exit 3 or 0.
    expect([0, 3]).toContain(resumed.code);
    const status = JSON.parse(resumed.stdout) as { state: string; counts: { sent: number; unknown: number } };
    expect(status.state).toBe('completed');
    expect(status.counts.sent + status.counts.unknown).toBe(1500);
    expect(numbers.filter((n) => sim!.messages.byRecipient(n).length > 1)).toEqual([]);
  });
});

describe('a ledger that is not a usable file', () => {
  const cases: Array<[string, (file: string) => void, string]> = [
    ['not a database', (f) => writeFileSync(f, 'phone,name\n+14155550101,Ann\n'.repeat(200)), 'the file is not a SQLite database (SQLITE_NOTADB'],
    ['truncated', (f) => truncateSync(f, 4096 + 100), 'the file is corrupt (SQLITE_CORRUPT'],
  ];
  for (const [what, damage, cause] of cases) {
    it(`${what}: status, report and run each exit 2 naming the file and the cause; report --out leaves no file`, async () => {
      const db = path.join(tmp.dir, 'l.db');
      const { job } = writeCampaign(tmp.dir, { rows: 400 });
      const made = await runCli(['run', job, '--sandbox', '--db', db, '--quiet']);
      expect(made.code).toBe(0);
      damage(db);
      const out = path.join(tmp.dir, 'report.csv');
      for (const args of [['status'], ['report', 'any-run', '--out', out], ['run', job, '--sandbox']]) {
        const r = await runCli([...args, '--db', db]);
        expect(r.stderr, args.join(' ')).toContain(`bulktext: cannot use the ledger ${db}: ${cause}`);
        expect(r.stderr).not.toContain('internal error');
        expect(r.code, args.join(' ')).toBe(2);
      }
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(tmp.dir).filter((f) => f.startsWith('report'))).toEqual([]);
    });
  }
});

/**
 * The unprivileged user must reach the CLI it runs: a clone under `mktemp -d` (0700) is closed to it. Gives
 * others search (x) on the folders from `dir` up that lack it, and returns what takes it back.
 */
function letOthersTraverse(dir: string): () => void {
  const changed: [string, number][] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    const mode = statSync(d).mode & 0o7777;
    if ((mode & 0o001) === 0) {
      chmodSync(d, mode | 0o001);
      changed.push([d, mode]);
    }
    if (path.dirname(d) === d) break;
  }
  return () => {
    for (const [d, mode] of changed) chmodSync(d, mode);
  };
}

describe('a read-only ledger (file 0444 in a folder 0555, opened by an unprivileged user)', () => {
  const asNobody = { uid: 65534, gid: 65534 };
  // Only root can run a child as another user; as that user, chmod really does make the files read-only.
  const nobodyCan = process.getuid?.() === 0;

  it.skipIf(!nobodyCan)('status and report read it; run refuses with exit 2 naming the file', async () => {
    const dir = path.join(tmp.dir, 'ro');
    const { job } = writeCampaign(tmp.dir, { rows: 50 });
    const made = await runCli(['run', job, '--sandbox', '--db', path.join(tmp.dir, 'made.db'), '--json', '--quiet']);
    const runId = (JSON.parse(made.stdout) as { run_id: string }).run_id;
    // A copy of the closed ledger (no -wal, no -shm beside it), then both made read-only.
    (await import('node:fs')).mkdirSync(dir);
    const db = path.join(dir, 'l.db');
    copyFileSync(path.join(tmp.dir, 'made.db'), db);
    chmodSync(db, 0o444);
    chmodSync(dir, 0o555);
    chmodSync(tmp.dir, 0o755);
    const restore = letOthersTraverse(repoRoot);
    try {
      const asUser = (args: string[]) => runCli(args, { cwd: tmp.dir, ...asNobody });
      const status = await asUser(['status', runId, '--db', db, '--json']);
      expect(status.stderr).toBe('');
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ run_id: runId, state: 'completed', counts: { sent: 50 } });
      const report = await asUser(['report', runId, '--db', db]);
      expect(report.code).toBe(0);
      expect(report.stdout.trim().split('\n')).toHaveLength(51);
      const run = await asUser(['run', job, '--sandbox', '--db', db]);
      expect(run.stderr).toMatch(new RegExp(`^bulktext: cannot use the ledger ${db}: the file \\(or its folder\\) is read-only \\(SQLITE_READONLY`));
      expect(run.code).toBe(2);
      expect(readdirSync(dir)).toEqual(['l.db']);
    } finally {
      restore();
    }
  });
});

describe('a new ledger opened by several processes at once', () => {
  for (const n of [2, 4, 8]) {
    it(`${n} processes all succeed and the schema is migrated once`, async () => {
      const db = path.join(tmp.dir, `new-${n}.db`);
      const ledgerModule = path.join(repoRoot, 'dist', 'ledger', 'ledger.js');
      const runStoreModule = path.join(repoRoot, 'dist', 'ledger', 'run-store.js');
      const script =
        `const { Ledger } = await import(${JSON.stringify(ledgerModule)}); const { runStoreOf } = await import(${JSON.stringify(runStoreModule)}); ` +
        `const l = new Ledger(process.argv[1]); runStoreOf(l).listRuns(); l.close();`;
      const results = await Promise.all(
        Array.from({ length: n }, () => startProcess(process.execPath, ['--input-type=module', '-e', script, db]).done),
      );
      expect(results.map((r) => r.stderr)).toEqual(results.map(() => ''));
      expect(results.map((r) => r.code)).toEqual(results.map(() => 0));
      expect(withLedgerSql(db, (raw) => raw.pragma('user_version'), { readonly: true })).toBeGreaterThanOrEqual(5);
      expect(statSync(db).mode & 0o777).toBe(0o600);
    });
  }
});

describe('file permissions', () => {
  it('a ledger made by run is 0600, and so are its -wal and -shm', async () => {
    const { job } = writeCampaign(tmp.dir, { rows: 20 });
    const db = path.join(tmp.dir, 'l.db');
    const r = await runCli(['run', job, '--sandbox', '--db', db, '--quiet'], { cwd: repoRoot });
    expect(r.code).toBe(0);
    expect(statSync(db).mode & 0o777).toBe(0o600);
    expect(rowsOf(db)).toEqual([{ status: 'sent', n: 20 }]);
  });
});
