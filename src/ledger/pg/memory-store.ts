/**
 * Campaign memory on PostgreSQL (who a campaign texted, across runs): the same behaviour as SQLite's
 * memory-store.ts. The memory is caught up from the attempts log (accepted and in-doubt requests) and
 * from rows left `sending`; ingest looks each batch of numbers up with one `= ANY($n)` probe of the
 * (cid, number) key, and a resume skips rows another run of the campaign texted since.
 */
import type { EarlierSend, MemoryWindow } from '../campaign-memory.js';
import { perLedger } from '../per-ledger.js';
import { rememberInFlight } from './message-store.js';
import type { PgLedger } from './pg-ledger.js';
import { PG_TEMPLATE } from './run-store.js';

/** The window over campaign_memory `m` joined to runs `r`, its parameters numbered from `$from`. */
const windowSql = (from: number) =>
  `m.at >= $${from} AND ($${from + 1}::text IS NULL OR r.slot >= $${from + 1} OR (r.slot IS NULL AND r.started_at >= $${from}))`;
const windowParams = (w: MemoryWindow): unknown[] => [w.since, w.fromSlot];

export class PgMemoryStore {
  readonly #pg: PgLedger;

  constructor(pg: PgLedger) {
    this.#pg = pg;
  }

  async campaignOf(jobName: string, jobSpec: string, sandbox: boolean): Promise<number | undefined> {
    const { rows } = await this.#pg.query<{ cid: number }>(`SELECT cid FROM campaigns WHERE job_name = $1 AND template = ${PG_TEMPLATE} AND sandbox = $3`, [
      jobName,
      jobSpec,
      sandbox,
    ]);
    return rows[0]?.cid;
  }

  /**
   * Catches the memory up with every send committed since the last pass (the attempts log, its message ids
   * indexed on the way) and with rows of the campaign's runs left `sending`. One transaction; the index's
   * row lock makes concurrent passes take turns.
   */
  async rememberCampaign(cid: number): Promise<void> {
    await this.#pg.transaction(async (tx) => {
      const from = (await tx.query<{ last_attempt: number }>(`SELECT last_attempt FROM message_index WHERE id = 1 FOR UPDATE`)).rows[0]?.last_attempt ?? 0;
      const to = (await tx.query<{ n: number }>(`SELECT coalesce(max(id), 0)::bigint AS n FROM attempts`)).rows[0]?.n ?? 0;
      if (to > from) {
        await tx.query(
          `INSERT INTO campaign_memory (cid, number, at, rid)
           SELECT DISTINCT ON (r.cid, m.to_number) r.cid, m.to_number, coalesce(m.sent_at, a.started_at), m.rid
           FROM attempts a JOIN messages m ON m.rid = a.rid AND m.row = a.row JOIN runs r ON r.rid = a.rid
           WHERE a.id > $1 AND a.id <= $2 AND a.outcome IN ('accepted', 'in_doubt') AND r.test_to IS NULL
           ORDER BY r.cid, m.to_number, coalesce(m.sent_at, a.started_at) DESC
           ON CONFLICT (cid, number) DO UPDATE SET at = excluded.at, rid = excluded.rid WHERE excluded.at > campaign_memory.at`,
          [from, to],
        );
        await tx.query(
          `INSERT INTO message_ids (message_id, rid, row)
           SELECT DISTINCT m.message_id, m.rid, m.row FROM attempts a JOIN messages m ON m.rid = a.rid AND m.row = a.row
           WHERE a.id > $1 AND a.id <= $2 AND a.outcome = 'accepted' AND m.message_id IS NOT NULL
           ON CONFLICT DO NOTHING`,
          [from, to],
        );
        await tx.query(`UPDATE message_index SET last_attempt = $1 WHERE id = 1`, [to]);
      }
      await rememberInFlight(tx, `m.rid IN (SELECT rid FROM runs WHERE cid = $1) AND m.status = 'sending'`, [cid]);
    });
  }

  /** Whether campaign `cid` texted anyone within `window` (a first run skips every lookup). */
  async hasMemory(cid: number, window: MemoryWindow): Promise<boolean> {
    const { rows } = await this.#pg.query(`SELECT 1 FROM campaign_memory m LEFT JOIN runs r ON r.rid = m.rid WHERE m.cid = $1 AND ${windowSql(2)} LIMIT 1`, [
      cid,
      ...windowParams(window),
    ]);
    return rows.length > 0;
  }

  /** Which of `numbers` campaign `cid` texted within `window`, with the run that did: one probe per batch. */
  async alreadySent(cid: number, window: MemoryWindow, numbers: readonly string[]): Promise<Map<string, EarlierSend>> {
    const found = new Map<string, EarlierSend>();
    if (numbers.length === 0) return found;
    const { rows } = await this.#pg.query<{ number: string; run_id: string | null; at: number }>(
      `SELECT m.number, r.run_id, m.at FROM campaign_memory m LEFT JOIN runs r ON r.rid = m.rid
       WHERE m.cid = $1 AND m.number = ANY($4::text[]) AND ${windowSql(2)}`,
      [cid, ...windowParams(window), numbers],
    );
    for (const r of rows) found.set(r.number, { runId: r.run_id, at: r.at });
    return found;
  }

  /** A resumed run's pending rows another run of its campaign texted within `window` are skipped as `already_sent`. */
  async skipAlreadySent(rid: number, cid: number, window: MemoryWindow, describe: (runId: string | null, at: number) => string, now = Date.now()): Promise<number> {
    const { rows } = await this.#pg.query<{ row: number; run_id: string | null; at: number }>(
      `SELECT p.row, r.run_id, m.at FROM messages p
         JOIN campaign_memory m ON m.cid = $1 AND m.number = p.to_number AND m.rid <> p.rid
         LEFT JOIN runs r ON r.rid = m.rid
       WHERE p.rid = $4 AND p.status IN ('pending', 'deferred') AND ${windowSql(2)}`,
      [cid, ...windowParams(window), rid],
    );
    if (rows.length === 0) return 0;
    await this.#pg.query(
      `UPDATE messages m SET status = 'skipped', error_code = 'already_sent', error_detail = u.detail, updated_at = $2, claimed_by = NULL
       FROM unnest($3::int[], $4::text[]) AS u (row, detail) WHERE m.rid = $1 AND m.row = u.row AND m.status IN ('pending', 'deferred')`,
      [rid, now, rows.map((r) => r.row), rows.map((r) => `already_sent: ${describe(r.run_id, r.at)}`)],
    );
    return rows.length;
  }
}

export const pgMemoryStoreOf = perLedger((ledger: PgLedger) => new PgMemoryStore(ledger));
