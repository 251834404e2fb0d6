/**
 * Campaign memory (migration 6): which numbers a campaign — a job's name, its message template, sandbox
 * or real — texted, and when, so a new run or a resume does not text them again within the job's
 * window. The memory is filled from the attempts log by the message-id pass (message-id-store.ts) and
 * here from rows a killed process left `sending`. Statements prepared once per ledger, like every store
 * here; ingest's thread reads the same memory on a connection of its own (campaign-memory.ts).
 */
import type Database from 'better-sqlite3';
import { connectionOf, type Ledger } from './ledger.js';
import { alreadySentQuery, REMEMBER_LATEST, WINDOW_SQL, windowParams, type AlreadySentLookup, type EarlierSend, type MemoryWindow } from './campaign-memory.js';
import { messageIdStoreOf, type MessageIdStore } from './message-id-store.js';
import { sqliteMessageStoreOf, type SqliteMessageStore } from './message-store.js';
import { templateOf } from './migrations.js';
import { perLedger } from './per-ledger.js';
import { writingTo } from './storage-error.js';
import { onPg } from './backend.js';
import type { PgLedger } from './pg/pg-ledger.js';
import { pgMemoryStoreOf, type PgMemoryStore } from './pg/memory-store.js';

export type { EarlierSend, MemoryWindow };

/**
 * The seam a second backend implements. On PostgreSQL each method is a round trip and would return a
 * Promise; none is on the send path (a run consults the memory before it sends, in batches).
 */
export interface MemoryStore {
  /** The campaign of a job spec (JSON) and kind, or undefined when no run of it exists yet. */
  campaignOf(jobName: string, jobSpec: string, sandbox: boolean): number | undefined;
  /** Brings campaign `cid`'s memory up to date before a new run looks numbers up in it. */
  rememberCampaign(cid: number): void;
  /**
   * A resumed run's rows that another run of its campaign texted within `window` are skipped as
   * `already_sent` instead of sent again. Returns how many.
   */
  skipAlreadySent(rid: number, cid: number, window: MemoryWindow, describe: (runId: string | null, at: number) => string, now?: number): number;
  /** Whether campaign `cid` texted anyone within `window` (a first run skips every lookup). */
  hasMemory(cid: number, window: MemoryWindow): boolean;
  /** Which of `numbers` campaign `cid` texted within `window`, with the run that did (the latest one). */
  alreadySent(cid: number, window: MemoryWindow, numbers: readonly string[]): Map<string, EarlierSend>;
}

export class SqliteMemoryStore implements MemoryStore {
  readonly #db: Database.Database;
  readonly #ledger: Ledger;
  readonly #ids: MessageIdStore;
  readonly #rows: SqliteMessageStore;
  readonly #addCampaign: Database.Statement;
  readonly #campaign: Database.Statement;
  readonly #rememberInFlight: Database.Statement;
  readonly #textedElsewhere: Database.Statement;
  readonly #anyWithin: Database.Statement;
  readonly #alreadySent: AlreadySentLookup;

  constructor(ledger: Ledger) {
    const db = connectionOf(ledger);
    this.#db = db;
    this.#ledger = ledger;
    this.#ids = messageIdStoreOf(ledger);
    this.#rows = sqliteMessageStoreOf(ledger);
    this.#addCampaign = db.prepare(`INSERT OR IGNORE INTO campaigns (job_name, template, sandbox) VALUES (?, ${templateOf('?')}, ?)`);
    this.#campaign = db.prepare(`SELECT cid FROM campaigns WHERE job_name = ? AND sandbox = ? AND template = ${templateOf('?')}`).pluck();
    this.#rememberInFlight = db.prepare(
      `INSERT INTO campaign_memory (cid, number, at, rid)
       SELECT ?, m.to_number, coalesce(m.sending_at, m.updated_at), m.rid FROM messages m INDEXED BY messages_status
       WHERE m.rid IN (SELECT rid FROM runs WHERE cid = ? AND test_to IS NULL) AND m.status = 'sending'
       ORDER BY 2
       ${REMEMBER_LATEST}`,
    );
    this.#textedElsewhere = db.prepare(
      `SELECT row, r.run_id AS runId, m.at FROM messages p INDEXED BY messages_status
         JOIN campaign_memory m ON m.cid = ? AND m.number = p.to_number AND m.rid <> p.rid
         LEFT JOIN runs r ON r.rid = m.rid
       WHERE p.rid = ? AND p.status IN ('pending', 'deferred') AND ${WINDOW_SQL}`,
    );
    // The memory is keyed by number, not time: the first row within the window answers, or a full scan says none.
    this.#anyWithin = db.prepare(`SELECT 1 FROM campaign_memory m LEFT JOIN runs r ON r.rid = m.rid WHERE m.cid = ? AND ${WINDOW_SQL} LIMIT 1`);
    this.#alreadySent = alreadySentQuery(db);
  }

  /** A campaign is the job's name, its message template and sandbox-or-real (migration 6). */
  campaignOf(jobName: string, jobSpec: string, sandbox: boolean): number | undefined {
    return this.#campaign.get(jobName, sandbox ? 1 : 0, jobSpec, jobSpec, jobSpec) as number | undefined;
  }

  /** The campaign of a job spec and kind, made if no run of it exists yet (a new run's, inside its transaction). */
  campaignFor(jobName: string, jobSpec: string, sandbox: boolean): number {
    this.#addCampaign.run(jobName, jobSpec, jobSpec, jobSpec, sandbox ? 1 : 0);
    return this.campaignOf(jobName, jobSpec, sandbox)!;
  }

  /**
   * Catches up the sends committed since the last pass (the attempts log, with message ids) and rows
   * its runs left `sending` (a killed process's requests that may have gone out; they have no attempt yet).
   */
  rememberCampaign(cid: number): void {
    // A reader (plan on a read-only ledger) cannot catch the memory up: it reads what the last writer
    // indexed, which lacks only the sends of a run killed since (their rows still show as sending/unknown).
    if (this.#ledger.readonly) return;
    this.#ids.indexMessageIds();
    writingTo(this.#ledger.path, () => this.#rememberInFlight.run(cid, cid));
  }

  /** E.g. a newer run started with --force meanwhile texted them. */
  skipAlreadySent(rid: number, cid: number, window: MemoryWindow, describe: (runId: string | null, at: number) => string, now = Date.now()): number {
    const rows = this.#textedElsewhere.all(cid, rid, ...windowParams(window)) as { row: number; runId: string | null; at: number }[];
    if (rows.length === 0) return 0;
    this.#db.transaction(() => {
      for (const r of rows) {
        this.#rows.applyOutcome(rid, { row: r.row, status: 'skipped', errorCode: 'already_sent', errorDetail: `already_sent: ${describe(r.runId, r.at)}`, at: now });
      }
    })();
    return rows.length;
  }

  hasMemory(cid: number, window: MemoryWindow): boolean {
    return this.#anyWithin.get(cid, ...windowParams(window)) !== undefined;
  }

  /** One indexed probe per number, in sorted order: a batch of 1,000 costs about a millisecond. */
  alreadySent(cid: number, window: MemoryWindow, numbers: readonly string[]): Map<string, EarlierSend> {
    return this.#alreadySent(cid, window, numbers);
  }
}

/** The campaign memory of an open ledger: one per ledger, so its statements are prepared once. */
export const sqliteMemoryStoreOf: (ledger: Ledger) => SqliteMemoryStore = perLedger((ledger) => new SqliteMemoryStore(ledger));
/** The campaign memory of either backend's handle: SQLite's answers now, PostgreSQL's with Promises. */
export function memoryStoreOf(ledger: Ledger): MemoryStore;
export function memoryStoreOf(ledger: PgLedger): PgMemoryStore;
export function memoryStoreOf(ledger: Ledger | PgLedger): MemoryStore | PgMemoryStore;
export function memoryStoreOf(ledger: Ledger | PgLedger): MemoryStore | PgMemoryStore {
  return onPg(ledger) ? pgMemoryStoreOf(ledger) : sqliteMemoryStoreOf(ledger);
}
