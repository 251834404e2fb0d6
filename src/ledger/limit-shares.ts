/**
 * How the processes on one ledger divide a Telnyx limit: the pure rule every limits store applies
 * inside its transaction (SQLite here; the contract a PostgreSQL store must keep too).
 *
 * Each process ("holder") paces itself at its `share` of a limit's capacity per window, with its own
 * sliding-window guard (dispatch/rate-gate.ts) capped at what it reserves (`windowHold`). The sum of what
 * the holders *reserve*, at every instant to come, never exceeds the capacity, so no window at Telnyx sees
 * more than the capacity. What a holder reserves follows what its window can hold:
 * - A holder raises its share only into room nobody reserves, and reserves the new share as it ramps in:
 *   what it sends at the new pace enters the window a little at a time while its old sends leave it
 *   (`raised`). Counting a raiser at its whole new share at once left the room its ramp had not yet used
 *   to nobody: when several processes raised together (at a start, or when one ended) the first to sync
 *   took all the room and the others waited for it, ~8 % of the rate with four processes. Its guard is
 *   capped at the ramp, so the window cannot hold more than the others were told, however it paces.
 * - A holder lowers its share at once, but keeps reserved what it sent at the old pace while that still
 *   counts in windows that overlap (`lowered`): all of it for SLACK_MS, then less and less over one
 *   window (`peak` until `peakUntil`), as its old, evenly paced sends leave the window. So a process
 *   joining a per-minute limit another one is using gets its share a little at a time, not after a
 *   whole minute. While the old pace is held in full, the holder's gate keeps pacing at it (the room is
 *   nobody else's until the fade starts). A process that leaves lowers its shares to nothing the same
 *   way, so the others take its share over as its last sends leave the window.
 * - A holder still ramping is not lowered until its ramp has ended (at most a window after it raised):
 *   its newest sends are its densest, so the even fade above would under-count them. Meanwhile it uses
 *   the room it reserves (it paces at its share), so nothing is lost but the others' turn, by at most a
 *   window. Only a holder that stops (`leave`) lowers mid-ramp, holding what it reserves until its
 *   densest sends have left.
 * - A holder that stops syncing (killed) fences itself off after FENCE_MS (it stops writing), and is
 *   treated as reserving its share until FENCE_MS + SLACK_MS + one window after its last sync; then
 *   the others take its share back (within 2 s for a per-second limit).
 * Fair share: the capacity is water-filled over the holders that want some (demand > 0). With several
 * holders, shares are whole units (a fraction of a message per window cannot be paced), and the
 * leftover units rotate among the holders every ROTATE_MS, so a 1 msg/s sender shared by two
 * processes is theirs in turns.
 *
 * One row holds a reservation of either shape: `peak` > `share` fades (held at `peak` until a window
 * before `peakUntil`, then falling to `share` at it); `peak` < `share` ramps (rising from `peak` to
 * `share` over the window before `peakUntil`). From `peakUntil` on it is the share.
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
 * window after it lowered (shrinking), or less while a raise ramps in. A dead holder keeps that until a
 * window after its fence (it may have sent up to its reservation until the fence), then nothing; one
 * that left (`leave`) lowered its share to nothing, so what it keeps shrinks to nothing by then.
 */
export function reserved(row: ShareRow, now: number): number {
  if (row.aliveUntil + row.windowMs <= now) return 0;
  if (now >= row.peakUntil) return row.share;
  return row.share + (row.peak - row.share) * Math.min(1, (row.peakUntil - now) / row.windowMs);
}

/** Whether a raise is still ramping in at `now`. */
export function ramping(row: ShareRow, now: number): boolean {
  return now < row.peakUntil && row.peak < row.share;
}

/** Whether an old pace is still held or fading out at `now`. */
function fading(row: ShareRow, now: number): boolean {
  return now < row.peakUntil && row.peak > row.share;
}

/**
 * A holder lowering its share to `share` at `now`. It keeps reserved what its old pace still counts in
 * the window, and never more than it reserved before (the others may already count on that):
 * - Settled at its share: it keeps what it reserves now for SLACK_MS, shrinking to `share` over the next
 *   window. Safe: what an evenly paced holder has in any later window is at most that shrinking figure.
 * - Still holding an older pace in full (before its fade starts): it keeps that hold and fade, towards
 *   the lower share. Lowering again while an earlier lowering shrinks (each process that joins lowers
 *   the others) so never restarts the reservation of its first, highest pace.
 * - Already fading: it keeps fading as it was, at its old share, until the fade ends (then it lowers as
 *   settled). A new fade from what it reserves now would, at some instant, reserve more than the old
 *   one, which the others may already have counted on; the old fade is what its old sends need anyway.
 * - Still ramping (only a holder that stops, `leave`; settleShare waits for the ramp to end): its newest
 *   sends are its densest, sent at up to its share; those sent in the last `x` ms are at most share × x
 *   / window, so a window `y` ms on holds at most share × (window − y) / window of them. It keeps what
 *   it reserves now until that bound falls to it (plus SLACK_MS), then fades over a window. That row no
 *   longer says how densely it sent, so a holder that goes on sending must not be lowered that way: a
 *   later lowering would take its window for an even one (the unsafe "ramped reservation" of before).
 *   Above what it reserves now the ramp goes on.
 */
export function lowered(row: ShareRow, share: number, now: number): ShareRow {
  const keep = reserved(row, now);
  if (ramping(row, now)) {
    if (share > keep) return row;
    const held = row.windowMs * (1 - keep / row.share) + SLACK_MS;
    return { ...row, share, peak: keep, peakUntil: now + held + row.windowMs };
  }
  if (fading(row, now)) return now <= row.peakUntil - row.windowMs ? { ...row, share } : row;
  return { ...row, share, peak: keep, peakUntil: now + row.windowMs + SLACK_MS };
}

/**
 * A holder that stops with every request answered, and knows what its window still holds: `leaving`
 * lists when each unit it counts leaves the window ([time, units], the time being its answer plus the
 * window). Its last sends have all reached Telnyx, so what it can still have in any window from now on
 * is exactly what has not left yet: it reserves a fade from that, starting as late as the slowest of its
 * units needs and no later, instead of holding its whole reservation for SLACK_MS (the slack `lowered`
 * keeps for requests still on their way; none are). A process that ended used to hold its share for
 * SLACK_MS while the others waited to raise into it, at each of a run's ends. Never more than it
 * reserved before, at any instant (the others may count on that): otherwise `lowered`'s shape.
 */
export function leftWith(row: ShareRow, leaving: readonly (readonly [at: number, units: number])[], now: number): ShareRow {
  const fallback = lowered(row, 0, now);
  const units = [...leaving].filter(([at]) => at > now).sort((a, b) => a[0] - b[0]);
  const n = units.reduce((sum, [, u]) => sum + u, 0);
  if (n <= EPS) return { ...row, share: 0, peak: 0, peakUntil: now };
  // The store keeps a holder that left for SLACK_MS and a window (`leave`): a unit leaving later than
  // that (it cannot, being answered) would outlive the row.
  if (units.at(-1)![0] > now + SLACK_MS + row.windowMs) return fallback;
  // A fade from n that starts at `from` covers the units not yet left just before each one leaves:
  // with `left` of them still there, n × (1 − (at − from) / window) ≥ left.
  let from = now;
  let left = n;
  for (const [at, u] of units) {
    from = Math.max(from, at - row.windowMs * (1 - left / n));
    left -= u;
  }
  const candidate: ShareRow = { ...row, share: 0, peak: n, peakUntil: from + row.windowMs };
  return notAbove(candidate, row, now) ? candidate : fallback;
}

/** Whether `next` reserves no more than `before` at any instant from `now` on (both piecewise linear). */
function notAbove(next: ShareRow, before: ShareRow, now: number): boolean {
  const bends = new Set([now]);
  for (const r of [next, before]) {
    for (const t of [r.peakUntil - r.windowMs, r.peakUntil]) if (t > now) bends.add(t);
    // A dead holder's reservation ends with a step: just before it counts.
    const end = r.aliveUntil + r.windowMs;
    if (end > now) bends.add(Math.max(now, end - STEP_MS));
  }
  for (const t of bends) if (reserved(next, t) > reserved(before, t) + EPS) return false;
  return true;
}

/**
 * A holder raising its share to `share` at `now`. What it sends at the new pace enters the window a
 * little at a time, while what it sent before leaves it: it reserves from what it reserves now, rising
 * as fast as its old pace leaves and its new one comes in, to the new share (a ramp: `peak` below
 * `share`). From a settled share s0 that is s0 + (share − s0) × x / window after x ms, exactly what an
 * evenly paced holder's window holds; still ramping from p, the ramp keeps its slope from p, which
 * never falls below what the old ramp and the added pace together put in the window. Fading from an old
 * pace above the new share, it keeps the fade (its old sends still leave as they did).
 */
export function raised(row: ShareRow, share: number, now: number): ShareRow {
  if (fading(row, now) && share <= row.peak) return { ...row, share };
  const from = reserved(row, now);
  const base = ramping(row, now) ? row.peak : row.share;
  return { ...row, share, peak: base, peakUntil: now + (row.windowMs * (share - from)) / (share - base) };
}

/**
 * What a holder's own window may hold after settling at `now`, for its sliding-window guard
 * (dispatch/rate-gate.ts): what it reserves, not its share. A holder that lowered paces at its new share
 * at once, but its window still holds the old pace's sends, as `reserved` counts them; a guard capped
 * at the new share would stall it until they left (half a window when two processes split a limit)
 * while the others may take only the new shares, and that much capacity went unused at every join.
 * Capped at what it reserves, it never holds more than the others leave it. A holder that raised paces
 * at its new share at once, and its guard caps the window at the ramp, so it never holds more than the
 * ramp the others were told either. `undefined`: the share.
 */
export interface WindowHold {
  /** Units per window the window may hold until `heldMs` from now ... */
  peak: number;
  heldMs: number;
  /** ... then more or fewer, moving linearly to the share over `fadeMs` (as `reserved` moves). */
  fadeMs: number;
  /**
   * For the last `pacedMs` before the fade starts, the holder may keep pacing at `peak`: its window is
   * then no denser than an even pace at `peak`, so what it adds leaves as the fade falls (SLACK_MS at
   * most; 0 while ramping). Pacing at the lower share at once left that room unused at every lowering.
   */
  pacedMs: number;
}

export function windowHold(row: ShareRow, now: number): WindowHold | undefined {
  if (now >= row.peakUntil || row.peak === row.share) return undefined;
  const fadeFrom = row.peakUntil - row.windowMs;
  if (now > fadeFrom) return { peak: reserved(row, now), heldMs: 0, fadeMs: row.peakUntil - now, pacedMs: 0 };
  const heldMs = fadeFrom - now;
  return { peak: row.peak, heldMs, fadeMs: row.windowMs, pacedMs: row.peak > row.share ? Math.min(heldMs, SLACK_MS) : 0 };
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
 * and capacity). Lowers at once (keeping the old share reserved for a window) unless still ramping,
 * raises only into room.
 */
export function settleShare(rows: readonly ShareRow[], me: ShareRow, now: number): ShareRow {
  const live = rows.filter((r) => !expired(r, now));
  const capacity = Math.min(me.capacity, ...live.filter((r) => r.aliveUntil > now).map((r) => r.capacity));
  const several = live.some((r) => r.holder !== me.holder && r.aliveUntil > now && r.demand > 0);
  const target = fairShares(live, capacity, now).get(me.holder) ?? 0;
  // A ramping holder is lowered once its ramp has ended (see `lowered`): at most a window later.
  if (target < me.share - EPS) return ramping(me, now) ? me : lowered(me, target, now);
  if (target > me.share + EPS) {
    const others = live.filter((r) => r.holder !== me.holder);
    const next = highestRaise(others, me, target, capacity, now, several);
    if (next > me.share + EPS) return raised(me, next, now);
  }
  return me;
}

/**
 * When a holder held below its fair share (by the others' reservations) may find more room: the first
 * moment within a window from `now` at which another holder's reservation starts to fall or ends (a
 * fade starting, a ramp or a dead holder's window ending). Undefined when it has its fair share, or no
 * reservation bends in that time. A process syncs again then instead of at its next turn: a holder
 * that joined waited, on average, half a sync interval past each fade start for its share.
 */
export function moreRoomAt(rows: readonly ShareRow[], me: ShareRow, now: number): number | undefined {
  const live = rows.filter((r) => !expired(r, now));
  const capacity = Math.min(me.capacity, ...live.filter((r) => r.aliveUntil > now).map((r) => r.capacity));
  const target = fairShares(live, capacity, now).get(me.holder) ?? 0;
  if (target <= me.share + EPS) return undefined;
  let at: number | undefined;
  for (const r of live) {
    if (r.holder === me.holder) continue;
    const falls = r.peak > r.share ? r.peakUntil - r.windowMs : r.peakUntil;
    for (const t of [falls, r.aliveUntil + r.windowMs]) if (t > now && t <= now + me.windowMs && (at === undefined || t < at)) at = t;
  }
  return at;
}

/**
 * The highest share up to `target` this holder can raise to now: the one whose ramp (`raised`), with
 * the others' reservations, stays within the capacity at every instant of the coming window — not
 * only now. (Taking only today's room made a newcomer ramp up over a whole window while the others'
 * old pace ran out, and a window's worth of capacity went unused each time a process joined or left.)
 * Reservations are piecewise linear, so checking where they bend is enough; a higher share never
 * reserves less, so the highest one that fits is found by halving (within each shape `raised` gives).
 */
function highestRaise(others: readonly ShareRow[], me: ShareRow, target: number, capacity: number, now: number, whole: boolean): number {
  const fits = (share: number) => fitsWith(others, raised(me, share, now), capacity, now);
  const highest = (lo: number, hi: number): number => {
    if (hi <= lo || fits(hi)) return hi;
    // Most syncs of a holder waiting for room find none: one look, not a search.
    if (!fits(Math.min(hi, lo + (whole ? 1 : 1e-3)))) return lo;
    let good = lo;
    let bad = hi;
    for (let i = 0; i < 40 && bad - good > (whole ? 1e-3 : 1e-6); i++) {
      const mid = (good + bad) / 2;
      if (fits(mid)) good = mid;
      else bad = mid;
    }
    return good;
  };
  // Up to a fading holder's old pace the fade is kept, above it a ramp starts: each part on its own.
  const fadeTop = fading(me, now) ? Math.min(target, me.peak) : me.share;
  let best = fadeTop > me.share ? highest(me.share, fadeTop) : me.share;
  if (target > fadeTop) {
    const ramp = highest(fadeTop, target);
    if (ramp > fadeTop && fits(ramp)) best = Math.max(best, ramp);
  }
  if (!whole) return best;
  const units = Math.floor(best + EPS);
  return units > me.share + EPS && fits(units) ? units : me.share;
}

/** Whether `mine` and the others' reservations stay within the capacity from now to a window on. */
function fitsWith(others: readonly ShareRow[], mine: ShareRow, capacity: number, now: number): boolean {
  const end = now + mine.windowMs;
  const bends = new Set([now, end]);
  for (const r of [mine, ...others]) {
    for (const t of [r.peakUntil - r.windowMs, r.peakUntil, r.aliveUntil + r.windowMs]) if (t > now && t < end) bends.add(t);
  }
  // A dead holder's reservation ends with a step (a window after its fence): check just before it too.
  for (const r of others) {
    const t = r.aliveUntil + r.windowMs;
    if (t > now && t < end) bends.add(t - STEP_MS);
  }
  for (const t of bends) {
    let used = reserved(mine, t);
    for (const r of others) used += reserved(r, t);
    if (used > capacity + EPS) return false;
  }
  return true;
}
