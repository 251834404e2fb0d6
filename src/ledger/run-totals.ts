/**
 * A run's totals two ways: as the ledger's triggers keep them (migration 10) and counted afresh from its
 * rows. Status, resume and the dashboard read the kept ones; the fresh count is the proof that they are
 * exact (tests compare the two after every kind of write, the totals benchmark checks its 10M-row ledger).
 * The fresh count reads every row of the run: never on a path an operator waits for.
 */
import { connectionOf, type Ledger } from './ledger.js';

export interface RunTotals {
  /** Rows by status and code, `status|code` ('' for none; empty groups left out). */
  status: Record<string, number>;
  /** Accepted rows by `delivery status|code|price|currency` ('' for none): `n` rows, `parts` segments. */
  sent: Record<string, { n: number; parts: number }>;
  /** Attempts started (`wire`) and final receipts (`delivered`) per epoch second, seconds with neither left out. */
  seconds: Record<string, { wire: number; delivered: number }>;
}

const SENT_KEY = `delivery_status || '|' || code || '|' || price || '|' || currency`;

export function keptTotals(ledger: Ledger, rid: number): RunTotals {
  const db = connectionOf(ledger);
  return shape(
    db.prepare(`SELECT status || '|' || code AS k, n FROM run_status_totals WHERE rid = ? AND n <> 0`).all(rid),
    db.prepare(`SELECT ${SENT_KEY} AS k, n, parts FROM run_sent_totals WHERE rid = ? AND (n <> 0 OR parts <> 0)`).all(rid),
    db.prepare(`SELECT second AS k, wire, delivered FROM run_seconds WHERE rid = ? AND (wire <> 0 OR delivered <> 0)`).all(rid),
  );
}

export function countedTotals(ledger: Ledger, rid: number): RunTotals {
  const db = connectionOf(ledger);
  return shape(
    db.prepare(`SELECT status || '|' || coalesce(error_code, '') AS k, count(*) AS n FROM messages WHERE rid = ? GROUP BY 1`).all(rid),
    db
      .prepare(
        `SELECT ${SENT_KEY} AS k, count(*) AS n, sum(parts) AS parts FROM (
           SELECT coalesce(delivery_status, '') AS delivery_status, coalesce(delivery_error_code, '') AS code, coalesce(final_cost, cost, '') AS price,
                  coalesce(final_currency, currency, '') AS currency, parts
           FROM messages WHERE rid = ? AND status = 'sent') GROUP BY 1`,
      )
      .all(rid),
    db
      .prepare(
        `SELECT second AS k, sum(wire) AS wire, sum(delivered) AS delivered FROM (
           SELECT CAST(started_at / 1000 AS INTEGER) AS second, 1 AS wire, 0 AS delivered FROM attempts WHERE rid = ?
           UNION ALL
           SELECT delivered_at / 1000, 0, 1 FROM messages WHERE rid = ? AND delivered_at IS NOT NULL)
         GROUP BY 1`,
      )
      .all(rid, rid),
  );
}

type Keyed = { k: string | number } & Record<string, unknown>;

function shape(status: unknown[], sent: unknown[], seconds: unknown[]): RunTotals {
  const byKey = <T>(rows: unknown[], value: (r: Keyed) => T) => Object.fromEntries((rows as Keyed[]).map((r) => [String(r.k), value(r)]));
  return {
    status: byKey(status, (r) => r.n as number),
    sent: byKey(sent, (r) => ({ n: r.n as number, parts: r.parts as number })),
    seconds: byKey(seconds, (r) => ({ wire: r.wire as number, delivered: r.delivered as number })),
  };
}
