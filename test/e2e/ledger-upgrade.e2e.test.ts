/**
 * A ledger written before migration 12 (texts and senders stored in full) with a run killed half-way:
 * the new bulktext migrates it on open and `resume` sends the rest with the texts the old rows hold.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/cli.js';
import { writeCampaign } from '../helpers/campaign-files.js';
import { fastSim, killAfterAccepts, textedTwice, useE2eEnv } from '../helpers/e2e-run.js';
import { withLedgerSql } from '../helpers/ledger-sql.js';

const e2e = useE2eEnv('bulktext-e2e-');

/** The migration that stores texts short; the ledger is taken back to the version before it. */
const SHORT_TEXTS = 12;

describe('a ledger from before short texts', () => {
  it('migrates on open and resumes a half-sent run with the texts and senders its rows hold', { timeout: 60_000 }, async () => {
    const sim = await e2e.start({ apiKey: 'k', ...fastSim });
    const { job, numbers } = writeCampaign(e2e.dir, { rows: 600, rate: 300, maxConcurrent: 8 });
    const db = path.join(e2e.dir, 'l.db');
    const env = cliEnv({ TELNYX_API_KEY: 'k', TELNYX_BASE_URL: sim.url });
    const { runId } = await killAfterAccepts(sim, ['run', job, '--db', db, '--quiet'], env, 150);
    expect(sim.messages.count()).toBeLessThan(600);

    // Rewrite the run as the previous schema held it: every text whole, no vars column, no run_texts.
    const rewritten = withLedgerSql(db, (old) => {
      const changed = old.run(`UPDATE messages SET text = 'Hi ' || vars || ', this is a test.', vars = NULL WHERE vars IS NOT NULL`);
      // Migrations 13 and 14 come after it: their tables go too (13's trigger is replaced when 13 runs again).
      old.exec(`ALTER TABLE messages DROP COLUMN vars; DROP TABLE run_texts; DROP TABLE messages_insert_counted; DROP TABLE scheduler_leader;`);
      old.pragma(`user_version = ${SHORT_TEXTS - 1}`);
      return changed;
    });
    expect(rewritten).toBe(600);

    const resumed = await runCli(['resume', runId, '--db', db, '--quiet', '--json'], { env });
    expect([0, 3]).toContain(resumed.code);
    const status = JSON.parse(resumed.stdout);
    expect(status.state).toBe('completed');
    expect(status.counts.sent + status.counts.unknown).toBe(600);
    expect(textedTwice(sim, numbers)).toEqual([]);

    const { version, rows } = withLedgerSql(
      db,
      (ledger) => ({
        version: Number(ledger.pragma('user_version')),
        rows: ledger.all<{ row: number; to: string; sender: string; status: string }>(
          `SELECT row, to_number AS "to", sender, status FROM messages ORDER BY row`,
        ),
      }),
      { readonly: true },
    );
    expect(version).toBeGreaterThanOrEqual(SHORT_TEXTS);
    for (const row of rows) {
      const got = sim.messages.byRecipient(row.to);
      if (row.status === 'unknown') expect(got.length).toBeLessThanOrEqual(1);
      else expect(got).toHaveLength(1);
      for (const m of got) {
        expect(m.text).toBe(`Hi Person${row.row}, this is a test.`);
        expect(m.from.phone_number).toBe(row.sender);
      }
    }
  });
});
