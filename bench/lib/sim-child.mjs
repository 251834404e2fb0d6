/**
 * The simulator in its own process (so bulktext's RSS and CPU are measured alone), driven by the bench
 * over IPC. It answers analysis questions itself (sliding windows, per-sender gaps, duplicates) so that a
 * million timestamps never cross the pipe.
 */
import { startSimulator } from '../../dist/telnyx/simulator/index.js';

const options = JSON.parse(process.argv[2] ?? '{}');
const sim = await startSimulator(options);

/** Accepted records in accept order, each with its high-resolution accept time. */
function acceptedInOrder() {
  const ts = sim.acceptedTimestamps();
  const out = [];
  let i = 0;
  for (const record of sim.engine.store.all()) out.push({ record, at: ts[i++] });
  return out;
}

/** Largest number of accepts inside any window [t, t + windowMs). */
function maxInWindow(ts, windowMs) {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < ts.length; hi++) {
    while (ts[hi] - ts[lo] >= windowMs) lo++;
    if (hi - lo + 1 > best) best = hi - lo + 1;
  }
  return best;
}

const handlers = {
  reset: async () => {
    await sim.reset();
    return { ok: true };
  },
  configure: async (patch) => {
    await sim.configure(patch);
    return { ok: true };
  },
  /** Counts, first/last accept, duplicates per recipient, rejections. */
  summary: async () => {
    const stats = await sim.stats({ recipients: true, timestamps: false });
    const ts = sim.acceptedTimestamps();
    let duplicated = 0;
    let maxPerRecipient = 0;
    for (const n of Object.values(stats.byRecipient ?? {})) {
      if (n > 1) duplicated++;
      if (n > maxPerRecipient) maxPerRecipient = n;
    }
    return {
      requests: stats.requests,
      accepted: stats.accepted,
      recipients: stats.recipients,
      rejected: stats.rejected,
      duplicatedRecipients: duplicated,
      maxPerRecipient,
      firstAt: ts.length > 0 ? ts[0] : null,
      lastAt: ts.length > 0 ? ts[ts.length - 1] : null,
    };
  },
  /** Rate over [first, last] accept and the fullest sliding window. */
  window: async ({ windowMs = 1000 } = {}) => {
    const ts = sim.acceptedTimestamps();
    const n = ts.length;
    const span = n > 1 ? ts[n - 1] - ts[0] : 0;
    return { accepted: n, firstAt: ts[0] ?? null, lastAt: ts[n - 1] ?? null, rate: span > 0 ? ((n - 1) * 1000) / span : 0, maxWindow: maxInWindow(ts, windowMs) };
  },
  /** Accepts per whole second from the first accept (the last, partial second is dropped). */
  buckets: async () => {
    const ts = sim.acceptedTimestamps();
    if (ts.length === 0) return [];
    const full = Math.floor((ts[ts.length - 1] - ts[0]) / 1000);
    const counts = new Array(full).fill(0);
    for (const t of ts) {
      const b = Math.floor((t - ts[0]) / 1000);
      if (b < full) counts[b]++;
    }
    return counts;
  },
  /** Per sender: first and last accept (ms after the first accept of all) and accepts per whole second. */
  senderTimeline: async () => {
    const all = acceptedInOrder();
    const t0 = all[0]?.at ?? 0;
    const out = {};
    for (const { record, at } of all) {
      const s = (out[record.from] ??= { first: at - t0, last: 0, perSecond: [] });
      s.last = at - t0;
      const b = Math.floor((at - t0) / 1000);
      while (s.perSecond.length <= b) s.perSecond.push(0);
      s.perSecond[b]++;
    }
    return out;
  },
  /** Per sender: the closest two consecutive accepts; plus the aggregate rate. */
  senderGaps: async () => {
    const last = new Map();
    let minGap = Infinity;
    let minGapSender = null;
    let gaps = 0;
    const small = [];
    const all = acceptedInOrder();
    const t0 = all[0]?.at ?? 0;
    for (const { record, at } of all) {
      const prev = last.get(record.from);
      if (prev !== undefined) {
        gaps++;
        const gap = at - prev;
        if (gap < minGap) {
          minGap = gap;
          minGapSender = record.from;
        }
        if (gap < 1000) small.push({ gap: Math.round(gap * 10) / 10, at: Math.round(at - t0) });
      }
      last.set(record.from, at);
    }
    small.sort((a, b) => a.gap - b.gap);
    return { senders: last.size, gaps, minGapMs: minGap === Infinity ? null : minGap, minGapSender, under1000: small.length, smallest: small.slice(0, 8) };
  },
  /** Accepted count per recipient, for the recipients asked about (crash test). */
  recipientCounts: async ({ recipients }) => recipients.map((to) => sim.engine.store.byRecipientCount(to)),
};

process.on('message', async (msg) => {
  try {
    const result = await handlers[msg.op](msg.arg);
    process.send({ id: msg.id, result });
  } catch (err) {
    process.send({ id: msg.id, error: String(err?.stack ?? err) });
  }
});
process.on('disconnect', () => {
  void sim.close().finally(() => process.exit(0));
});
process.send({ ready: true, url: sim.url, origin: sim.origin });
