/**
 * The suppression list on PostgreSQL (STOP replies, Telnyx's 40300 refusals, the operator's numbers): the
 * same SuppressionStore as SQLite's, each method a round trip. A run reads the list before ingest and
 * re-reads it while it sends.
 */
import { perLedger } from '../per-ledger.js';
import type { SuppressionRecord, SuppressionSource } from '../suppression-store.js';
import type { PgLedger } from './pg-ledger.js';

export class PgSuppressionStore {
  readonly #pg: PgLedger;

  constructor(pg: PgLedger) {
    this.#pg = pg;
  }

  /** Adds a number; an existing entry keeps its first reason. True if added. */
  async addSuppression(number: string, source: SuppressionSource, detail: string | null, at: number): Promise<boolean> {
    const { rowCount } = await this.#pg.query(
      `INSERT INTO suppressions (number, source, detail, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT (number) DO NOTHING`,
      [number, source, detail, at],
    );
    return rowCount === 1;
  }

  /** Removes a number if its entry came from one of `sources`. True if removed. */
  async removeSuppression(number: string, sources: readonly SuppressionSource[]): Promise<boolean> {
    const { rowCount } = await this.#pg.query(`DELETE FROM suppressions WHERE number = $1 AND source = ANY($2::text[])`, [number, sources]);
    return rowCount === 1;
  }

  /** Every entry, oldest first. */
  async suppressions(): Promise<SuppressionRecord[]> {
    const { rows } = await this.#pg.query<SuppressionRecord>(`SELECT number, source, detail, added_at AS "addedAt" FROM suppressions ORDER BY added_at, number`);
    return rows;
  }

  async isSuppressed(number: string): Promise<boolean> {
    return (await this.#pg.query(`SELECT 1 FROM suppressions WHERE number = $1`, [number])).rows.length > 0;
  }

  /** Every suppressed number. */
  async suppressedNumbers(): Promise<string[]> {
    const { rows } = await this.#pg.query<{ number: string }>(`SELECT number FROM suppressions`);
    return rows.map((r) => r.number);
  }
}

export const pgSuppressionStoreOf = perLedger((ledger: PgLedger) => new PgSuppressionStore(ledger));
