/**
 * Message rows on PostgreSQL: ingest with COPY, and the dispatcher's ledger for many workers on one run.
 *
 * A worker *claims* rows before it sends them (claimed_by = its id, FOR UPDATE SKIP LOCKED: two workers
 * never claim one row), marks each `sending` in a committed transaction before its request is written
 * (only a row it has claimed: a claim lost to the reaper makes the commit fail and the worker stop), and
 * commits each batch of outcomes, attempts and marks in one transaction. The totals (run_status_totals,
 * run_sent_totals, run_seconds) are kept by schema 1's statement-level triggers, the state moves checked
 * by its row triggers as well as by each UPDATE's WHERE (states.ts, as SQLite's).
 */
import { AppError } from '../../shared/errors.js';
import type { StatusCounts } from '../message-store.js';
import type { MessageColumns } from '../message-columns.js';
import { restoreRow, type StoredTexts } from '../message-text.js';
import { INGESTED_AT } from '../message-insert.js';
import { perLedger } from '../per-ledger.js';
import { rowStatuses, sourcesOf, sqlList, type RowStatus } from '../states.js';
import type { DeferrableBatch, Outcome, PendingMessage } from '../types.js';
import { copyInto, type CopyValue } from './copy-rows.js';
import type { PgLedger, PgTx } from './pg-ledger.js';

const INSERT_COLUMNS = ['rid', 'row', 'line', 'to_number', 'sender', 'text', 'vars', 'subject', 'parts', 'encoding', 'tz', 'status', 'error_code', 'error_detail', 'updated_at'];

const PENDING = `m.row, m.to_number AS "to", m.sender, m.text, m.vars, m.subject, m.parts, m.attempts, m.tz`;

/** A pending or due row claimed for `$3` (the worker), from a run still `running`. */
const claimSql = (where: string, order: string) => `
  UPDATE messages m SET claimed_by = $3
  FROM (SELECT rid, row FROM messages WHERE rid = $1 AND ${where} AND claimed_by IS NULL ORDER BY ${order} LIMIT $2 FOR UPDATE SKIP LOCKED) c, runs r
  WHERE m.rid = c.rid AND m.row = c.row AND r.rid = m.rid AND r.state = 'running'
  RETURNING ${PENDING}`;

const IN_DOUBT = 'the run stopped while this request may have been in flight; Telnyx may have sent it';

export class PgMessageStore {
  readonly #pg: PgLedger;
  readonly #texts = new Map<number, StoredTexts | null>();

  constructor(pg: PgLedger) {
    this.#pg = pg;
  }

  /** What a run's rows stored in short form stand for (message-text.ts); set before ingest writes such rows. */
  async setRunTexts(rid: number, literals: readonly string[], sender: string | null): Promise<void> {
    await this.#pg.query(
      `INSERT INTO run_texts (rid, literals, sender) VALUES ($1, $2::jsonb, $3) ON CONFLICT (rid) DO UPDATE SET literals = excluded.literals, sender = excluded.sender`,
      [rid, JSON.stringify(literals), sender],
    );
    this.#texts.delete(rid);
  }

  async #textsOf(rid: number): Promise<StoredTexts | null> {
    let texts = this.#texts.get(rid);
    if (texts === undefined) {
      const { rows } = await this.#pg.query<{ literals: string[]; sender: string | null }>(`SELECT literals, sender FROM run_texts WHERE rid = $1`, [rid]);
      texts = rows[0] === undefined ? null : { literals: rows[0].literals, sender: rows[0].sender };
      this.#texts.set(rid, texts);
    }
    return texts;
  }

  /** A batch of ingested rows, COPYed in one transaction (the triggers count them into the run's totals). */
  async insertColumns(rid: number, c: MessageColumns): Promise<void> {
    function* rows(): Generator<CopyValue[]> {
      for (let j = 0; j < c.count; j++) {
        yield [rid, c.row[j], c.line[j], c.to[j], c.sender[j], c.text[j], c.vars[j], c.subject[j], c.parts[j], c.encoding[j], c.tz[j], c.status[j], c.errorCode[j], c.errorDetail[j], INGESTED_AT];
      }
    }
    await this.#pg.transaction(async (tx) => {
      await copyInto(tx.client, 'messages', INSERT_COLUMNS, rows());
    });
  }

  /** Claims up to `limit` unclaimed pending rows of a running run for `worker`, in row order. */
  async claimPending(rid: number, worker: string, limit: number): Promise<PendingMessage[]> {
    const { rows } = await this.#pg.query<PendingMessage & { vars: string | null }>(claimSql(`status = 'pending'`, 'row'), [rid, limit, worker]);
    return this.#restored(rid, rows);
  }

  /** Claims deferred rows whose send window has opened by `now`, earliest first. */
  async claimDue(rid: number, worker: string, now: number, limit: number): Promise<PendingMessage[]> {
    const { rows } = await this.#pg.query<PendingMessage & { vars: string | null }>(
      claimSql(`status = 'deferred' AND not_before <= $4`, 'not_before, row'),
      [rid, limit, worker, now],
    );
    return this.#restored(rid, rows);
  }

  async #restored(rid: number, rows: (PendingMessage & { vars?: string | null })[]): Promise<PendingMessage[]> {
    rows.sort((a, b) => a.row - b.row);
    const texts = await this.#textsOf(rid);
    for (const r of rows) restoreRow(r, texts);
    return rows;
  }

  /** When the earliest deferred row of the run may go (undefined: none is deferred). */
  async nextDeferral(rid: number): Promise<number | undefined> {
    const { rows } = await this.#pg.query<{ t: number | null }>(`SELECT min(not_before) AS t FROM messages WHERE rid = $1 AND status = 'deferred'`, [rid]);
    return rows[0]?.t ?? undefined;
  }

  /**
   * One batch of `worker`'s outcomes, attempts and `sending` marks, in one transaction; throws
   * ERR_LEDGER_TRANSITION (nothing committed) when a row is not where the batch says — a mark of a row
   * the worker no longer holds included.
   */
  async commit(rid: number, worker: string, batch: DeferrableBatch): Promise<void> {
    await this.#pg.transaction(async (tx) => {
      await lockRunTotals(tx, rid);
      await applyOutcomes(tx, rid, batch.outcomes);
      const a = batch.attempts;
      if (a.length > 0) {
        await tx.query(
          `INSERT INTO attempts (rid, row, attempt, started_at, latency_ms, http_status, outcome, telnyx_code, detail)
           SELECT $1, * FROM unnest($2::int[], $3::int[], $4::bigint[], $5::int[], $6::int[], $7::text[], $8::text[], $9::text[])`,
          [
            rid,
            a.map((x) => x.row),
            a.map((x) => x.attempt),
            a.map((x) => x.startedAt),
            a.map((x) => x.latencyMs),
            a.map((x) => x.httpStatus),
            a.map((x) => x.outcome),
            a.map((x) => x.telnyxCode),
            a.map((x) => x.detail),
          ],
        );
      }
      const s = batch.sending;
      if (s.length > 0) {
        const { rowCount } = await tx.query(
          `UPDATE messages m SET status = 'sending', attempts = m.attempts + 1, sending_at = u.at, updated_at = u.at
           FROM unnest($2::int[], $3::bigint[]) AS u (row, at)
           WHERE m.rid = $1 AND m.row = u.row AND m.claimed_by = $4 AND m.status IN (${sqlList(sourcesOf('sending'))})`,
          [rid, s.map((x) => x.row), s.map((x) => x.at), worker],
        );
        if (rowCount !== s.length) {
          throw new AppError('ERR_LEDGER_TRANSITION', `run ${rid}: ${s.length - (rowCount ?? 0)} row(s) to mark sending are no longer pending and claimed by this worker`);
        }
      }
    });
  }

  /** The run's deadline passed: every row not yet sent is expired. Returns how many. */
  async expireUnsent(rid: number, detail: string, now = Date.now()): Promise<number> {
    const { rowCount } = await this.#pg.query(
      `UPDATE messages SET status = 'expired', error_code = 'expired', error_detail = $1, updated_at = $2, claimed_by = NULL WHERE rid = $3 AND status IN (${sqlList(sourcesOf('expired'))})`,
      [detail, now, rid],
    );
    return rowCount ?? 0;
  }

  /**
   * Rows of the run left `sending` by workers that are not alive (`alive`: the live workers' ids) become
   * `unknown`, remembered by campaign memory first; rows they claimed but never marked go back to the pool.
   * Returns how many became unknown.
   */
  async settleDeadClaims(rid: number, alive: readonly string[], now = Date.now()): Promise<number> {
    return this.#pg.transaction(async (tx) => {
      await lockRunTotals(tx, rid);
      const dead = `m.rid = $1 AND m.claimed_by IS NOT NULL AND NOT (m.claimed_by = ANY($2::text[]))`;
      await rememberInFlight(tx, `${dead} AND m.status = 'sending'`, [rid, alive]);
      const { rowCount } = await tx.query(
        `UPDATE messages m SET status = 'unknown', error_code = 'in_doubt', error_detail = $3, updated_at = $4, claimed_by = NULL
         WHERE ${dead} AND m.status = 'sending'`,
        [rid, alive, IN_DOUBT, now],
      );
      await tx.query(`UPDATE messages m SET claimed_by = NULL WHERE ${dead} AND m.status IN ('pending', 'deferred')`, [rid, alive]);
      return rowCount ?? 0;
    });
  }

  /** Gives back `worker`'s claimed rows it did not start (it stops): any worker may take them. */
  async releaseClaims(worker: string): Promise<number> {
    const { rowCount } = await this.#pg.query(`UPDATE messages SET claimed_by = NULL WHERE claimed_by = $1 AND status IN ('pending', 'deferred')`, [worker]);
    return rowCount ?? 0;
  }

  /** `resume --resend-unknown`: unknown rows back to pending. */
  async reopenUnknown(rid: number, now = Date.now()): Promise<number> {
    const { rowCount } = await this.#pg.query(
      `UPDATE messages SET status = 'pending', error_detail = 'resent by --resend-unknown after: ' || coalesce(error_detail, ''), updated_at = $1
       WHERE rid = $2 AND status = 'unknown'`,
      [now, rid],
    );
    return rowCount ?? 0;
  }

  /** Read from the totals the triggers keep: a few rows, whatever the run's size. */
  async counts(rid: number): Promise<StatusCounts> {
    const counts = Object.fromEntries(rowStatuses.map((s) => [s, 0])) as Record<RowStatus, number>;
    let total = 0;
    const { rows } = await this.#pg.query<{ status: RowStatus; n: number }>(`SELECT status, sum(n)::bigint AS n FROM run_status_totals WHERE rid = $1 GROUP BY status`, [rid]);
    for (const r of rows) {
      counts[r.status] = r.n;
      total += r.n;
    }
    return { ...counts, total };
  }

  /** Rows of the run by (status, code), from the totals: why rows failed or were skipped. */
  async byCode(rid: number, status: RowStatus): Promise<{ code: string | null; count: number }[]> {
    const { rows } = await this.#pg.query<{ code: string; n: number }>(
      `SELECT code, n FROM run_status_totals WHERE rid = $1 AND status = $2 AND n > 0 ORDER BY n DESC, code`,
      [rid, status],
    );
    return rows.map((r) => ({ code: r.code === '' ? null : r.code, count: r.n }));
  }

  /** The run's sent rows by final delivery status ('' none yet), code, price and currency, from the totals. */
  async sentTotals(rid: number): Promise<{ deliveryStatus: string; price: string; currency: string; n: number; parts: number }[]> {
    const { rows } = await this.#pg.query<{ delivery_status: string; price: string; currency: string; n: number; parts: number }>(
      `SELECT delivery_status, price, currency, sum(n)::bigint AS n, sum(parts)::bigint AS parts FROM run_sent_totals
       WHERE rid = $1 GROUP BY 1, 2, 3 HAVING sum(n) <> 0 OR sum(parts) <> 0`,
      [rid],
    );
    return rows.map((r) => ({ deliveryStatus: r.delivery_status, price: r.price, currency: r.currency, n: r.n, parts: r.parts }));
  }

  /** A row's recipient (a 40300 refusal's number goes on the suppression list). */
  async recipientOf(rid: number, row: number): Promise<string | undefined> {
    const { rows } = await this.#pg.query<{ to: string }>(`SELECT to_number AS "to" FROM messages WHERE rid = $1 AND row = $2`, [rid, row]);
    return rows[0]?.to;
  }
}

/** The outcomes of a batch, one UPDATE per kind over unnest'ed arrays; each must move exactly its rows. */
async function applyOutcomes(tx: PgTx, rid: number, outcomes: readonly Outcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  const moved = async (to: RowStatus, sql: string, params: unknown[], n: number) => {
    if (n === 0) return;
    const { rowCount } = await tx.query(sql, [rid, ...params]);
    if (rowCount !== n) {
      throw new AppError('ERR_LEDGER_TRANSITION', `illegal ledger move: run ${rid}: ${n - (rowCount ?? 0)} row(s) cannot become ${to} (allowed only from ${sourcesOf(to).join(', ')})`);
    }
  };
  const sent = outcomes.filter((o): o is Extract<Outcome, { status: 'sent' }> => o.status === 'sent');
  await moved(
    'sent',
    `UPDATE messages m SET status = 'sent', message_id = u.id, from_number = coalesce(u.from_number, m.from_number), parts = coalesce(u.parts, m.parts),
       cost = u.cost, currency = u.currency, sent_at = u.at, updated_at = u.at, error_code = NULL, error_detail = u.note, claimed_by = NULL
     FROM unnest($2::int[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::bigint[], $9::text[]) AS u (row, id, from_number, parts, cost, currency, at, note)
     WHERE m.rid = $1 AND m.row = u.row AND m.status IN (${sqlList(sourcesOf('sent'))})`,
    [
      sent.map((o) => o.row),
      sent.map((o) => o.messageId),
      sent.map((o) => o.fromNumber),
      sent.map((o) => o.parts),
      sent.map((o) => o.cost),
      sent.map((o) => o.currency),
      sent.map((o) => o.at),
      sent.map((o) => o.note ?? null),
    ],
    sent.length,
  );
  for (const to of ['failed', 'unknown', 'pending', 'skipped'] as const) {
    const these = outcomes.filter((o): o is Extract<Outcome, { status: typeof to }> => o.status === to);
    // A retry keeps its claim (the worker sends it again); a final row's claim is over.
    const claim = to === 'pending' ? '' : ', claimed_by = NULL';
    await moved(
      to,
      `UPDATE messages m SET status = '${to}', error_code = u.code, error_detail = u.detail, updated_at = u.at${claim}
       FROM unnest($2::int[], $3::text[], $4::text[], $5::bigint[]) AS u (row, code, detail, at)
       WHERE m.rid = $1 AND m.row = u.row AND m.status IN (${sqlList(sourcesOf(to))})`,
      [these.map((o) => o.row), these.map((o) => o.errorCode), these.map((o) => o.errorDetail), these.map((o) => o.at)],
      these.length,
    );
  }
  const deferred = outcomes.filter((o): o is Extract<Outcome, { status: 'deferred' }> => o.status === 'deferred');
  // A deferred row waits unclaimed: whichever worker is there when its window opens sends it.
  await moved(
    'deferred',
    `UPDATE messages m SET status = 'deferred', not_before = u.until, error_code = 'deferred', error_detail = u.detail, updated_at = u.at, claimed_by = NULL
     FROM unnest($2::int[], $3::bigint[], $4::text[], $5::bigint[]) AS u (row, until, detail, at)
     WHERE m.rid = $1 AND m.row = u.row AND m.status IN (${sqlList(sourcesOf('deferred'))})`,
    [deferred.map((o) => o.row), deferred.map((o) => o.until), deferred.map((o) => o.errorDetail), deferred.map((o) => o.at)],
    deferred.length,
  );
  const expired = outcomes.filter((o): o is Extract<Outcome, { status: 'expired' }> => o.status === 'expired');
  await moved(
    'expired',
    `UPDATE messages m SET status = 'expired', error_code = 'expired', error_detail = u.detail, updated_at = u.at, claimed_by = NULL
     FROM unnest($2::int[], $3::text[], $4::bigint[]) AS u (row, detail, at)
     WHERE m.rid = $1 AND m.row = u.row AND m.status IN (${sqlList(sourcesOf('expired'))})`,
    [expired.map((o) => o.row), expired.map((o) => o.errorDetail), expired.map((o) => o.at)],
    expired.length,
  );
}

/**
 * Workers' commits on one run take turns: each statement of a commit upserts the run's totals rows in key
 * order, but a commit's several statements together do not, so two interleaved commits could deadlock on
 * them. A transaction-scoped advisory lock per run (key space 'bt' + rid) orders them; it ends with the commit.
 */
export async function lockRunTotals(tx: PgTx, rid: number): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(${TOTALS_LOCK_SPACE}, $1::int)`, [rid]);
}
const TOTALS_LOCK_SPACE = 0x6274;

/** In-flight rows have no attempt in the log for campaign memory to find: they are remembered here (test runs never are). */
export async function rememberInFlight(tx: PgTx, where: string, params: unknown[]): Promise<void> {
  await tx.query(
    `INSERT INTO campaign_memory (cid, number, at, rid)
     SELECT DISTINCT ON (r.cid, m.to_number) r.cid, m.to_number, coalesce(m.sending_at, m.updated_at), m.rid
     FROM messages m JOIN runs r ON r.rid = m.rid
     WHERE ${where} AND r.test_to IS NULL
     ORDER BY r.cid, m.to_number, coalesce(m.sending_at, m.updated_at) DESC
     ON CONFLICT (cid, number) DO UPDATE SET at = excluded.at, rid = excluded.rid WHERE excluded.at > campaign_memory.at`,
    params,
  );
}

export const pgMessageStoreOf = perLedger((ledger: PgLedger) => new PgMessageStore(ledger));
