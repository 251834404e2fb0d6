/**
 * Where several processes on one ledger lose rate (issue 14): `node bench/shared-rate-trace.mjs
 * [ceiling] [processes] [seconds]` (defaults 500 4 10) runs shared-rate.mjs's setup once — `processes`
 * `run`s on one ledger, one sender each, the account's ceiling binding — with the simulator in this
 * process, and while they run reads each process's account share from the ledger every 10 ms (a
 * read-only connection: the runs are not slowed by it). It prints, per process and 100-ms bucket, the
 * share granted (msg/s) and the messages the simulator accepted from it, and then the capacity lost
 * (ceiling × time − accepted) in three phases of the span the benchmark averages over (first to last
 * accept): the start (until every process has sent its first message), the middle, and the end (after
 * the first process's last message). Needs `npm run build`. A diagnostic, not a benchmark with targets.
 */
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startSimulator } from '../dist/telnyx/simulator/index.js';
import { jobFile, OUT, recipientsCsv } from './lib/gen.mjs';
import { freshDb, removeDb } from './lib/ledger-files.mjs';
import { bulktext, expectExit } from './lib/proc.mjs';
import { UNLIMITED } from './lib/sim.mjs';

const [ceiling = 500, processes = 4, seconds = 10] = process.argv.slice(2).map(Number);
const BUCKET_MS = 100;
const sender = (i) => `+1212555${String(7000 + i)}`;
const epochNow = () => performance.timeOrigin + performance.now();

const sim = await startSimulator({ seed: 42, ...UNLIMITED });
const rows = Math.round((ceiling * seconds) / processes);
const account = path.join(OUT, 'shared-trace.account.yaml');
writeFileSync(
  account,
  `limits:\n  sms_per_second: ${ceiling}\nsenders:\n${Array.from({ length: processes }, (_, i) => `  - id: "${sender(i)}"\n    per_second: 1000000\n`).join('')}`,
);
const jobs = [];
for (let i = 0; i < processes; i++) {
  const csv = await recipientsCsv(rows, 100 + i);
  jobs.push(jobFile(`shared-trace-p${i}`, { source: csv, from: [sender(i)], rate: { max_concurrent: 64 } }));
}
const db = freshDb('shared-trace');

/** pid → the process's sender; the holder's name starts with host:pid. */
const senderOfPid = new Map();
/** sender → [epoch ms, share msg/s][] */
const shares = new Map(Array.from({ length: processes }, (_, i) => [sender(i), []]));
let reader;
let polling = true;
const poll = async () => {
  while (polling) {
    try {
      reader ??= new Database(db, { readonly: true, fileMustExist: true });
      const t = epochNow();
      for (const r of reader.prepare(`SELECT holder, share, window_ms FROM limit_shares WHERE key LIKE 'account:%'`).all()) {
        const s = senderOfPid.get(Number(r.holder.split(':')[1]));
        if (s !== undefined) shares.get(s).push([t, (r.share * 1000) / r.window_ms]);
      }
    } catch {
      // The ledger or its tables are not there yet.
    }
    await new Promise((r) => setTimeout(r, 10));
  }
};
const polled = poll();
await Promise.all(
  jobs.map((job, i) =>
    bulktext(['run', job, '--db', db, '--account', account, '--quiet'], { sim, onSpawn: (c) => senderOfPid.set(c.pid, sender(i)) }).then((r) =>
      expectExit(r, [0], `run #${i + 1}`),
    ),
  ),
);
polling = false;
await polled;
reader?.close();
removeDb(db);

const ts = sim.acceptedTimestamps();
const records = sim.engine.store.all();
const t0 = ts[0];
const tEnd = ts[ts.length - 1];
const nb = Math.ceil((tEnd - t0) / BUCKET_MS) + 1;
const sent = new Map([...shares.keys()].map((s) => [s, new Array(nb).fill(0)]));
const first = new Map();
const last = new Map();
let i = 0;
for (const rec of records) {
  const at = ts[i++];
  sent.get(rec.from)[Math.floor((at - t0) / BUCKET_MS)]++;
  if (!first.has(rec.from)) first.set(rec.from, at);
  last.set(rec.from, at);
}
/** The share a process held in a bucket: the last one read at or before the bucket's middle. */
const shareAt = (s, t) => {
  let v = 0;
  for (const [at, share] of shares.get(s)) {
    if (at > t) break;
    v = share;
  }
  return v;
};
console.log(`ceiling ${ceiling}/s, ${processes} processes, ${rows} rows each; per 100 ms: share (msg/s) / accepted`);
console.log(['   t ms', ...[...shares.keys()].map((s, k) => `p${k} share/sent`), 'sum share/sent'].join(' | '));
for (let b = 0; b < nb; b++) {
  const mid = t0 + (b + 0.5) * BUCKET_MS;
  let sumShare = 0;
  let sumSent = 0;
  const cells = [...shares.keys()].map((s) => {
    const sh = shareAt(s, mid);
    const n = sent.get(s)[b];
    sumShare += sh;
    sumSent += n;
    return `${String(Math.round(sh)).padStart(5)}/${String(n).padStart(3)}`;
  });
  console.log([String(b * BUCKET_MS).padStart(7), ...cells.map((c) => c.padEnd(14)), `${String(Math.round(sumShare)).padStart(5)}/${String(sumSent).padStart(3)}`].join(' | '));
}
const allStarted = Math.max(...first.values());
const firstDone = Math.min(...last.values());
const phase = (from, to) => {
  const n = ts.filter((t) => t >= from && t < to).length;
  const ms = Math.max(0, to - from);
  return { ms: Math.round(ms), sent: n, lost: Math.round((ceiling * ms) / 1000 - n) };
};
const start = phase(t0, allStarted);
const middle = phase(allStarted, firstDone);
const end = phase(firstDone, tEnd + 1e-6);
const span = tEnd - t0;
console.log(
  `span ${Math.round(span)} ms, average ${(((ts.length - 1) * 1000) / span).toFixed(1)} msg/s; first accepts at ${[...first.values()].map((t) => Math.round(t - t0)).join(', ')} ms; last at ${[...last.values()].map((t) => Math.round(t - t0)).join(', ')} ms`,
);
console.log(`lost (ceiling × time − accepted): start ${JSON.stringify(start)}, middle ${JSON.stringify(middle)}, end ${JSON.stringify(end)}`);
await sim.close();
