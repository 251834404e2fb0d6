/**
 * Telnyx's limits shared by every process on one ledger (migration 6): each process's share of each
 * per-second / per-minute limit (tables `limit_holders`, `limit_shares`) and what each daily cap has
 * used per UTC day (`limit_usage`), so tomorrow's run knows today's use.
 *
 * `LimitsStore` is the contract (a PostgreSQL ledger can keep it with the same rule from
 * limit-shares.ts); `SqliteLimitsStore` keeps it in one small IMMEDIATE transaction per sync, every few
 * tens of ms per process — never a write per message.
 */
import type Database from 'better-sqlite3';
import { connectionOf, type Ledger } from './ledger.js';
import { expired, FENCE_MS, leftWith, lowered, moreRoomAt, settleShare, SLACK_MS, type ShareRow } from './limit-shares.js';

export interface LimitClaim {
  key: string;
  windowMs: number;
  /** Units per window for the whole account, as this process reads its account file. */
  capacity: number;
  /** Units per window this process could use now (0: idle, give the share to others). */
  demand: number;
}

export interface Settled {
  /** This holder's row per limit claimed. */
  shares: Map<string, ShareRow>;
  /** When a limit this holder has less than its fair share of may have more room (limit-shares.ts `moreRoomAt`). */
  moreRoomAt: number | undefined;
}

export interface LimitsStore {
  /**
   * One transaction: heartbeat `holder`, forget holders dead for longer than their windows, and settle
   * this holder's share of each claimed limit. Returns its row per limit: the share (units per window)
   * it may pace at now, and what it still reserves while a lowering fades (limit-shares.ts `windowHold`);
   * and when it may find more room where it has less than its fair share (worth syncing again then).
   */
  sync(holder: string, claims: readonly LimitClaim[], now: number): Settled;
  /**
   * The holder stops: its shares drop to nothing, still reserved for a window (what it just sent counts).
   * `leaving`: per limit key, when each unit its window still counts leaves it (epoch ms, units), known
   * when every request it wrote was answered: it then reserves only that (limit-shares.ts `leftWith`).
   */
  leave(holder: string, now: number, leaving?: ReadonlyMap<string, readonly (readonly [number, number])[]>): void;
  /** Takes up to `want` units of a daily cap for `day` (YYYY-MM-DD, UTC); returns how many it got. */
  takeDaily(key: string, day: string, cap: number, want: number): number;
  /** Gives back units taken and not used (a process ending with some left). */
  returnDaily(key: string, day: string, units: number): void;
  dailyUsed(key: string, day: string): number;
}

interface Row {
  key: string;
  holder: string;
  capacity: number;
  window_ms: number;
  demand: number;
  share: number;
  peak: number;
  peak_until: number;
  alive_until: number | null;
}

const toShare = (r: Row): ShareRow => ({
  holder: r.holder,
  capacity: r.capacity,
  windowMs: r.window_ms,
  demand: r.demand,
  share: r.share,
  peak: r.peak,
  peakUntil: r.peak_until,
  // A row whose holder row is gone counts as long dead.
  aliveUntil: r.alive_until ?? 0,
});

export class SqliteLimitsStore implements LimitsStore {
  readonly #db: Database.Database;
  readonly #sync: Database.Transaction<(holder: string, claims: readonly LimitClaim[], now: number) => Settled>;
  readonly #leave: Database.Transaction<(holder: string, now: number, leaving: ReadonlyMap<string, readonly (readonly [number, number])[]>) => void>;
  readonly #takeDaily: Database.Transaction<(key: string, day: string, cap: number, want: number) => number>;
  readonly #used: Database.Statement;
  readonly #addUsed: Database.Statement;
  readonly #syncNormal: Database.Statement;
  readonly #syncFull: Database.Statement;

  constructor(ledger: Ledger) {
    const db = connectionOf(ledger);
    this.#db = db;
    this.#syncNormal = db.prepare('PRAGMA synchronous = NORMAL');
    this.#syncFull = db.prepare('PRAGMA synchronous = FULL');
    const heartbeat = db.prepare(
      `INSERT INTO limit_holders (holder, alive_until) VALUES (?, ?) ON CONFLICT (holder) DO UPDATE SET alive_until = excluded.alive_until`,
    );
    // Every row of every limit claimed, in one statement: a process sending from 500 numbers claims 500
    // limits, and a statement per limit made each sync cost ~6 ms of the event loop (~4 ms this way), 20 times a second.
    const rowsFor = db.prepare(
      `SELECT s.key, s.holder, s.capacity, s.window_ms, s.demand, s.share, s.peak, s.peak_until, h.alive_until
         FROM limit_shares s LEFT JOIN limit_holders h ON h.holder = s.holder
        WHERE s.key IN (SELECT value FROM json_each(?))`,
    );
    const upsert = db.prepare(
      `INSERT INTO limit_shares (key, holder, capacity, window_ms, demand, share, peak, peak_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key, holder) DO UPDATE SET capacity = excluded.capacity, window_ms = excluded.window_ms, demand = excluded.demand,
         share = excluded.share, peak = excluded.peak, peak_until = excluded.peak_until`,
    );
    const forget = db.prepare(`DELETE FROM limit_shares WHERE key = ? AND holder = ?`);
    const forgetHolders = db.prepare(`DELETE FROM limit_holders WHERE alive_until < ?`);
    const mine = db.prepare(
      `SELECT s.key, s.holder, s.capacity, s.window_ms, s.demand, s.share, s.peak, s.peak_until, h.alive_until
         FROM limit_shares s LEFT JOIN limit_holders h ON h.holder = s.holder
        WHERE s.holder = ?`,
    );
    const lower = db.prepare(`UPDATE limit_shares SET demand = 0, share = ?, peak = ?, peak_until = ? WHERE key = ? AND holder = ?`);
    const setAlive = db.prepare(`UPDATE limit_holders SET alive_until = ? WHERE holder = ?`);

    this.#sync = db.transaction((holder: string, claims: readonly LimitClaim[], now: number) => {
      const aliveUntil = now + FENCE_MS + SLACK_MS;
      heartbeat.run(holder, aliveUntil);
      const out = new Map<string, ShareRow>();
      let wake: number | undefined;
      const byKey = new Map<string, { key: string; row: ShareRow }[]>();
      for (const r of rowsFor.all(JSON.stringify(claims.map((c) => c.key))) as Row[]) {
        let list = byKey.get(r.key);
        if (list === undefined) byKey.set(r.key, (list = []));
        list.push({ key: r.key, row: toShare(r) });
      }
      for (const c of claims) {
        const rows = byKey.get(c.key) ?? [];
        let me: ShareRow = { holder, capacity: c.capacity, windowMs: c.windowMs, demand: c.demand, share: 0, peak: 0, peakUntil: 0, aliveUntil };
        const others: ShareRow[] = [];
        for (const { row } of rows) {
          if (row.holder === holder) me = { ...row, capacity: c.capacity, windowMs: c.windowMs, demand: c.demand, aliveUntil };
          else if (expired(row, now)) forget.run(c.key, row.holder);
          else others.push(row);
        }
        const next = settleShare([...others, me], me, now);
        const before = rows.find((r) => r.row.holder === holder)?.row;
        if (
          before === undefined ||
          before.share !== next.share ||
          before.peak !== next.peak ||
          before.peakUntil !== next.peakUntil ||
          before.demand !== next.demand ||
          before.capacity !== next.capacity
        ) {
          upsert.run(c.key, holder, next.capacity, next.windowMs, next.demand, next.share, next.peak, next.peakUntil);
        }
        out.set(c.key, next);
        // Only a holder short of what it asks for can be short of its fair share.
        if (next.share < next.demand) {
          const at = moreRoomAt([...others, next], next, now);
          if (at !== undefined && (wake === undefined || at < wake)) wake = at;
        }
      }
      // Holders gone for longer than any window (a minute) have no row left worth keeping.
      forgetHolders.run(now - 120_000);
      return { shares: out, moreRoomAt: wake };
    });
    this.#leave = db.transaction((holder: string, now: number, leaving: ReadonlyMap<string, readonly (readonly [number, number])[]>) => {
      for (const r of mine.all(holder) as Row[]) {
        // A fading or still-ramping row may keep its share's shape (limit-shares.ts `lowered`); the holder
        // sends nothing more either way, and is forgotten a window after it left.
        const units = leaving.get(r.key);
        const left = units === undefined ? lowered(toShare(r), 0, now) : leftWith(toShare(r), units, now);
        lower.run(left.share, left.peak, left.peakUntil, r.key, holder);
      }
      // Nothing more is written by this holder: the others need not wait for its fence, only for its
      // last sends to leave the window (its row is kept until then: SLACK_MS past a window from now).
      setAlive.run(now + SLACK_MS, holder);
    });
    this.#used = db.prepare(`SELECT used FROM limit_usage WHERE key = ? AND day = ?`).pluck();
    this.#addUsed = db.prepare(
      `INSERT INTO limit_usage (key, day, used) VALUES (?, ?, ?) ON CONFLICT (key, day) DO UPDATE SET used = max(0, used + excluded.used)`,
    );
    this.#takeDaily = db.transaction((key: string, day: string, cap: number, want: number) => {
      const used = (this.#used.get(key, day) as number | undefined) ?? 0;
      const got = Math.max(0, Math.min(want, cap - used));
      if (got > 0) this.#addUsed.run(key, day, got);
      return got;
    });
  }

  sync(holder: string, claims: readonly LimitClaim[], now: number): Settled {
    return this.#unsynced(() => this.#sync.immediate(holder, claims, now));
  }

  leave(holder: string, now: number, leaving: ReadonlyMap<string, readonly (readonly [number, number])[]> = new Map()): void {
    this.#unsynced(() => this.#leave.immediate(holder, now, leaving));
  }

  takeDaily(key: string, day: string, cap: number, want: number): number {
    return this.#unsynced(() => this.#takeDaily.immediate(key, day, cap, want));
  }

  returnDaily(key: string, day: string, units: number): void {
    if (units > 0) this.#unsynced(() => this.#addUsed.run(key, day, -units));
  }

  /**
   * Commits without an fsync of its own: an fsync per sync (20 a second) held the event loop for most of
   * each second. Shares are worth nothing after a crash anyway (holders re-sync), and a daily count is on
   * disk before any request that relies on it is written: the dispatcher fsyncs the WAL, which holds
   * every earlier commit, before each batch of requests.
   */
  #unsynced<T>(write: () => T): T {
    this.#syncNormal.run();
    try {
      return write();
    } finally {
      this.#syncFull.run();
    }
  }

  dailyUsed(key: string, day: string): number {
    return (this.#used.get(key, day) as number | undefined) ?? 0;
  }

  /** For tests and `plan`: every share row of a limit. */
  shares(key: string): { holder: string; share: number }[] {
    return this.#db.prepare(`SELECT holder, share FROM limit_shares WHERE key = ? ORDER BY holder`).all(key) as { holder: string; share: number }[];
  }
}
