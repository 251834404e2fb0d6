/**
 * How the processes on one ledger divide a Telnyx limit: the pure rule every limits store applies
 * inside its transaction (SQLite here; the contract a PostgreSQL store must keep too).
 *
 * Each process ("holder") paces itself at its `share` of a limit's capacity per window, with its own
 * sliding-window guard (dispatch/rate-gate.ts) capped at what it reserves (`windowHold`). The sum of what the holders *reserve* never exceeds the
 * capacity, so no window at Telnyx sees more than the capacity:
 * - A holder lowers its share at once, but keeps the old figure reserved while what it sent at the old
 *   pace still counts in windows that overlap: all of it for SLACK_MS, then less and less over one window
 *   (`peak` until `peakUntil`), as its old, evenly paced sends leave the window. So a process joining a
 *   per-minute limit another one is using gets its share a little at a time, not after a whole minute.
 *   A process that leaves lowers its shares to nothing the same way, so the others take its share over
 *   as its last sends leave the window.
 * - A holder raises its share only into room nobody reserves, counting that what it sends at the new
 *   share enters the window over one window while the others' old reservations leave it.
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

/**
 * What a row keeps from the others at `now`: its share, plus what its old pace still counts in the
 * window after it lowered (shrinking). A dead holder keeps that until a window after its fence (it may
 * have sent at its share up to the fence), then nothing; one that left (`leave`) lowered its share to
 * nothing, so what it keeps shrinks to nothing by then.
 */
export function reserved(row: ShareRow, now: number): number {
  if (row.aliveUntil + row.windowMs <= now) return 0;
  if (now >= row.peakUntil || row.peak <= row.share) return row.share;
  return row.share + (row.peak - row.share) * Math.min(1, (row.peakUntil - now) / row.windowMs);
}

/**
 * A holder lowering its share to `share` at `now`: it keeps what it reserves now, shrinking to `share`
 * over the next window. What it reserves now, not its highest share ever: a holder lowering again
 * while the last lowering still shrinks (each process that joins lowers the others) would otherwise
 * keep its first, highest pace reserved for as long as processes keep joining, and the newcomers find
 * no room. Safe: what an evenly paced holder has in any later window is at most that shrinking figure.
 */
export function lowered(row: ShareRow, share: number, now: number): ShareRow {
  return { ...row, share, peak: reserved(row, now), peakUntil: now + row.windowMs + SLACK_MS };
}

/**
 * What a holder's own window may hold after settling at `now`, for its sliding-window guard
 * (dispatch/rate-gate.ts): what it reserves, not its share. A holder that lowered paces at its new share
 * at once, but its window still holds the old pace's sends, as `reserved` counts them; a guard capped
 * at the new share would stall it until they left (half a window when two processes split a limit)
 * while the others may take only the new shares, and that much capacity went unused at every join.
 * Capped at what it reserves, it never holds more than the others leave it. `undefined`: the share.
 */
export interface WindowHold {
  /** Units per window the window may hold until `heldMs` from now ... */
  peak: number;
  heldMs: number;
  /** ... then fewer, falling linearly to the share over `fadeMs` (as `reserved` falls). */
  fadeMs: number;
}

export function windowHold(row: ShareRow, now: number): WindowHold | undefined {
  if (now >= row.peakUntil || row.peak <= row.share) return undefined;
  const fadeFrom = row.peakUntil - row.windowMs;
  if (now <= fadeFrom) return { peak: row.peak, heldMs: fadeFrom - now, fadeMs: row.windowMs };
  return { peak: reserved(row, now), heldMs: 0, fadeMs: row.peakUntil - now };
}

/** Whether a row can be forgotten: its holder is dead and its last window has passed. */
export function expired(row: ShareRow, now: number): boolean {
  return row.aliveUntil + row.windowMs <= now;
}

const EPS = 1e-9;
/** Just before a step in a reservation (far below what a share can be paced at). */
const STEP_MS = 1e-3;

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
  if (target < me.share - EPS) return lowered(me, target, now);
  if (target > me.share + EPS) {
    const others = live.filter((r) => r.holder !== me.holder);
    const room = roomToRaise(others, me, capacity, now);
    const next = Math.max(me.share, Math.min(target, several ? Math.floor(room + EPS) : room));
    if (next > me.share + EPS) return { ...me, share: next };
  }
  return me;
}

/**
 * The highest share this holder can raise to now. What it sends at a raised share enters the window
 * a little at a time: a window ending `x` ms from now holds at most its old reservation plus
 * (new − old) × x / window of it. So it may raise as far as the others' reservations, shrinking as
 * their old sends leave the window, leave room at every instant of the coming window — not only as far
 * as the room left now. (Taking only today's room made a newcomer ramp up over a whole window while
 * the others' old pace ran out, and a window's worth of capacity went unused each time a process
 * joined or left.) Reservations are piecewise linear, so checking where they bend is enough.
 */
function roomToRaise(others: readonly ShareRow[], me: ShareRow, capacity: number, now: number): number {
  const windowMs = me.windowMs;
  const bends = new Set([now, now + windowMs]);
  for (const r of others) {
    for (const t of [r.peakUntil - r.windowMs, r.peakUntil, r.aliveUntil, r.aliveUntil + r.windowMs]) if (t > now && t < now + windowMs) bends.add(t);
  }
  // A dead holder's reservation ends with a step: check just before each bend too.
  for (const t of [...bends]) if (t > now) bends.add(t - STEP_MS);
  let most = Infinity;
  for (const t of bends) {
    let free = capacity - reserved(me, t);
    for (const r of others) free -= reserved(r, t);
    const entered = (t - now) / windowMs;
    if (entered <= 0) {
      if (free < -EPS) return me.share;
      continue;
    }
    most = Math.min(most, me.share + Math.max(0, free) / entered);
  }
  return most;
}
