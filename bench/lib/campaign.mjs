/**
 * The benchmark campaign: N rows, one long code, limits far above anything this machine reaches,
 * sent by the real CLI (`bulktext run`) to a simulator in its own process. Measured at the simulator
 * (first to last accept), with end-to-end wall time and bulktext's peak RSS alongside.
 */
import { jobFile, recipientsCsv } from './gen.mjs';
import { freshDb, removeDb } from './ledger-files.mjs';
import { bulktext, expectExit } from './proc.mjs';

export const FROM = '+12125550001';
export const CONCURRENCY = 64;
export const UNLIMITED_RATE = { messages_per_second: 1_000_000, per_sender_per_second: 1_000_000, max_concurrent: CONCURRENCY };

/** `args`: more `run` options (e.g. `--account FILE`). */
export async function runCampaign(sim, rows, tag, args = []) {
  const csv = await recipientsCsv(rows);
  const job = jobFile(`campaign-${rows}`, { source: csv, from: [FROM], rate: UNLIMITED_RATE });
  const db = freshDb(`campaign-${tag}`);
  await sim.reset();
  const r = expectExit(await bulktext(['run', job, '--db', db, '--quiet', '--json', ...args], { sim }), [0], `bulktext run (${rows} rows)`);
  const w = await sim.window();
  const status = JSON.parse(r.stdout.trim().split('\n').pop());
  removeDb(db);
  if (w.accepted !== rows || status.counts.sent !== rows) throw new Error(`campaign ${rows}: simulator accepted ${w.accepted}, ledger sent ${status.counts.sent}`);
  return {
    rows,
    rate: w.rate,
    sendSeconds: (w.lastAt - w.firstAt) / 1000,
    wallSeconds: r.wallMs / 1000,
    endToEndRate: (rows * 1000) / r.wallMs,
    startToFirstSendSeconds: (w.firstAt - r.spawnedAt) / 1000,
    peakMb: r.peakMb,
    cpuUsPerMessage: r.cpuMs === null ? null : (r.cpuMs * 1000) / rows,
  };
}
