/**
 * How the processes on one ledger divide a Telnyx limit: the pure rule every limits store applies
 * inside its transaction (SQLite here; the contract a PostgreSQL store must keep too).
 *
 * Each process ("holder") paces itself at its `share` of a limit's capacity per window, with its own
 * sliding-window guard (dispatch/rate-gate.ts). The sum of what the holders *reserve* never exceeds the
 * capacity, so no window at Telnyx sees more than the capacity:
 * - A holder lowers its share at once, but keeps the old figure reserved while what it sent at the old
 *   pace still counts in windows that overlap: all of it for SLACK_MS, then less and less over one window
 *   (`peak` until `peakUntil`), as its old, evenly paced sends leave the window. So a process joining a
 *   per-minute limit another one is using gets its share a little at a time, not after a whole minute.
 * - A holder raises its share only into room nobody reserves.
 * - A holder that stops syncing (killed) fences itself off after FENCE_MS (it stops writing), and is
 *   treated as reserving its share until FENCE_MS + SLACK_MS + one window after its last sync; then
 *   the others take its share back (within 2 s for a per-second limit).
 * Fair share: the capacity is water-filled over the holders that want some (demand > 0). With several
 * holders, shares are whole units (a fraction of a message per window cannot be paced), and the
 * leftover units rotate among the holders every ROTATE_MS, so a 1 msg/s sender shared by two
 * processes is theirs in turns.
 */

/** A holder that has not synced for this long stops writing (the dispatcher's gates go to share 0). */
export const FENCE_MS = 500;
/** Room for clock granularity and a request counted at Telnyx a little after it was written. */
export const SLACK_MS = 100;
/** How long one holder keeps a leftover unit before the next one gets it. */
export const ROTATE_MS = 5000;

export interface ShareRow {
  holder: string;
  capacity: number;
  windowMs: number;
  demand: number;
  share: number;
  peak: number;
  peakUntil: number;
  /** The holder's heartbeat: alive until then (FENCE_MS + SLACK_MS after its last sync). */
  aliveUntil: number;
}

/** What a row keeps from the others at `now`; 0 once a dead holder's last window has passed. */
export function reserved(row: ShareRow, now: number): number {
  if (row.aliveUntil <= now) return now < row.aliveUntil + row.windowMs ? Math.max(row.share, row.peak) : 0;
  if (now >= row.peakUntil || row.peak <= row.share) return row.share;
  return row.share + (row.peak - row.share) * Math.min(1, (row.peakUntil - now) / row.windowMs);
}

/** Whether a row can be forgotten: its holder is dead and its last window has passed. */
export function expired(row: ShareRow, now: number): boolean {
  return row.aliveUntil + row.windowMs <= now;
}

const EPS = 1e-9;

/** The share each live holder that wants some should have (water-filled, whole units when several). */
export function fairShares(rows: readonly ShareRow[], capacity: number, now: number): Map<string, number> {
  const wanting = rows.filter((r) => r.aliveUntil > now && r.demand > 0).sort((a, b) => (a.holder < b.holder ? -1 : 1));
  const out = new Map<string, number>();
  if (wanting.length === 1) {
    out.set(wanting[0]!.holder, Math.min(wanting[0]!.demand, capacity));
    return out;
  }
  // Water-fill: the smallest demands are met in full, the rest split what is left equally.
  let left = capacity;
  const byDemand = [...wanting].sort((a, b) => a.demand - b.demand);
  const fair = new Map<string, number>();
  byDemand.forEach((r, i) => {
    const even = left / (byDemand.length - i);
    const take = Math.min(r.demand, even);
    fair.set(r.holder, take);
    left -= take;
  });
  let spare = capacity;
  for (const r of wanting) {
    const whole = Math.floor(fair.get(r.holder)! + EPS);
    out.set(r.holder, whole);
    spare -= whole;
  }
  const candidates = wanting.filter((r) => r.demand >= out.get(r.holder)! + 1 - EPS);
  let units = Math.floor(spare + EPS);
  if (candidates.length > 0) {
    const start = Math.floor(now / ROTATE_MS) % candidates.length;
    for (let i = 0; i < candidates.length && units > 0; i++, units--) {
      const r = candidates[(start + i) % candidates.length]!;
      out.set(r.holder, out.get(r.holder)! + 1);
    }
  }
  return out;
}

/**
 * This holder's next row for one limit, given every row for it (its own included, with its new demand
 * and capacity). Lowers at once (keeping the old share reserved for a window), raises only into room.
 */
export function settleShare(rows: readonly ShareRow[], me: ShareRow, now: number): ShareRow {
  const live = rows.filter((r) => !expired(r, now));
  const capacity = Math.min(me.capacity, ...live.filter((r) => r.aliveUntil > now).map((r) => r.capacity));
  const several = live.some((r) => r.holder !== me.holder && r.aliveUntil > now && r.demand > 0);
  const target = fairShares(live, capacity, now).get(me.holder) ?? 0;
  if (target < me.share - EPS) {
    const stillPeak = now < me.peakUntil ? me.peak : 0;
    return { ...me, share: target, peak: Math.max(stillPeak, me.share), peakUntil: now + me.windowMs + SLACK_MS };
  }
  if (target > me.share + EPS) {
    let room = capacity;
    for (const r of live) if (r.holder !== me.holder) room -= reserved(r, now);
    const roomUnits = several ? Math.floor(room + EPS) : room;
    const next = Math.max(me.share, Math.min(target, roomUnits));
    if (next > me.share + EPS) return { ...me, share: next };
  }
  return me;
}
