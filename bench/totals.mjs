/**
 * Issue 17 target 5 and issue 16's "a page of a 10M-row run loads in under a second": a 10,000,000-row
 * run with 9,999,000 rows done (bench/totals-setup.mjs builds it), read through the per-run totals the
 * ledger's triggers keep. Measured from outside, each with its own process:
 *   - `bulktext status <run>`: process spawn to exit;
 *   - the dashboard's run page, first load: the HTTP GET against a fresh `bulktext dashboard` (its view
 *     built from nothing), then the runs list and the run page again;
 *   - `bulktext resume`: spawn to the first accept at the simulator (its own process), and its closing
 *     status: the simulator's last accept to the process's exit.
 * BENCH_TOTALS_ROWS (default 10,000,000) sets the size; BENCH_TOTALS_KEEP=1 keeps and reuses the ledger.
 */
import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jobFile, OUT, recipientsCsv } from './lib/gen.mjs';
import { freshDb, removeDb } from './lib/ledger-files.mjs';
import { bulktext, expectExit, nodeScript } from './lib/proc.mjs';
import { fmt, fmtSummary, summarize } from './lib/stats.mjs';

const SETUP = fileURLToPath(new URL('./totals-setup.mjs', import.meta.url));
const PENDING = 1000;
const REFERENCE_ROWS = 10_000;

/** Starts `bulktext dashboard` on a free port; resolves with its URL and a stop function. */
async function startDashboard(db) {
  let child;
  const exited = bulktext(['dashboard', '--port', '0', '--db', db], { onSpawn: (c) => (child = c) });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /dashboard on (http:\/\/[^/\s]+)\//.exec(out);
      if (m !== null) resolve(m[1]);
    });
    exited.then((r) => reject(new Error(`dashboard exited ${r.code}: ${r.stderr}`)), reject);
  });
  return {
    url,
    stop: async () => {
      child.kill('SIGINT');
      await exited;
    },
  };
}

/** Seconds a GET takes, body included; throws unless it answers 200. */
async function timedGet(url) {
  const t0 = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${body.slice(0, 200)}`);
  return { seconds: (performance.now() - t0) / 1000, body };
}

/** A ledger of `rows` rows with the last PENDING pending (kept between invocations with `keep`). */
async function ledgerOf(ctx, rows, keep) {
  const csv = await recipientsCsv(PENDING);
  const job = jobFile('totals', { source: csv, from: ['+12125550001'], rate: { messages_per_second: 1_000_000, per_sender_per_second: 1_000_000, max_concurrent: 64 } });
  const pristine = path.join(OUT, `totals-pristine-${rows}.db`);
  const built = `${pristine}.json`;
  const setupStart = performance.now();
  if (!keep || !existsSync(built)) {
    removeDb(pristine);
    const setup = expectExit(await nodeScript(SETUP, [job, pristine, String(rows)], { nodeArgs: ['--max-old-space-size=512'] }), [0], 'totals setup');
    writeFileSync(built, setup.stdout);
  }
  const { runId, pending, counts, exact } = JSON.parse(readFileSync(built, 'utf8').trim());
  if (pending !== PENDING || counts.total !== rows) throw new Error(`totals setup: ${JSON.stringify(counts)}`);
  if (!exact) throw new Error('totals setup: the kept totals differ from a count of the rows');
  if (existsSync(`${pristine}-wal`) && statSync(`${pristine}-wal`).size > 0) throw new Error('totals setup left a WAL behind; the copy would be incomplete');
  const sizeGb = statSync(pristine).size / 1e9;
  ctx.log(`  ledger with ${fmt(rows - PENDING)} of ${fmt(rows)} rows done ready in ${fmt((performance.now() - setupStart) / 1000, 0)} s (${fmt(sizeGb, 2)} GB)`);
  return {
    rows, runId, pristine, sizeGb,
    status: [], statusCpu: [], page: { first: [], list: [], again: [] }, resume: [],
    remove: () => {
      removeDb(pristine);
      rmSync(built, { force: true });
    },
  };
}

/** One round of every measurement on ledger `l`. */
async function measure(ctx, l) {
  const { runId, pristine } = l;
  const s = expectExit(await bulktext(['status', runId, '--db', pristine]), [0, 3], 'bulktext status');
  if (!s.stdout.includes(runId)) throw new Error(`status printed: ${s.stdout}${s.stderr}`);
  l.status.push(s.wallMs / 1000);
  l.statusCpu.push(s.cpuMs / 1000);

  const dash = await startDashboard(pristine);
  try {
    const first = await timedGet(`${dash.url}/runs/${encodeURIComponent(runId)}`);
    if (!first.body.includes(runId)) throw new Error('the run page does not name its run');
    l.page.first.push(first.seconds);
    l.page.list.push((await timedGet(`${dash.url}/`)).seconds);
    l.page.again.push((await timedGet(`${dash.url}/runs/${encodeURIComponent(runId)}`)).seconds);
  } finally {
    await dash.stop();
  }

  const db = freshDb('totals');
  copyFileSync(pristine, db);
  // The copy's 4 GB are dirty in the page cache: resume's first durable commit would fsync all of them
  // (~0.9 s here), which an interrupted run's ledger, long on disk, never costs. Flush them before the clock.
  const fd = openSync(db, 'r+');
  fsyncSync(fd);
  closeSync(fd);
  await ctx.sim.reset();
  const r = expectExit(await bulktext(['resume', runId, '--db', db, '--quiet', '--json'], { sim: ctx.sim }), [0, 3], 'bulktext resume');
  const w = await ctx.sim.summary();
  const closing = JSON.parse(r.stdout.trim().split('\n').pop());
  removeDb(db);
  if (w.accepted !== PENDING || closing.counts.pending !== 0) throw new Error(`resume sent ${w.accepted} messages, left ${closing.counts.pending} pending`);
  const exitAt = r.spawnedAt + r.wallMs;
  l.resume.push({ firstSendSeconds: (w.firstAt - r.spawnedAt) / 1000, closingSeconds: (exitAt - w.lastAt) / 1000, wallSeconds: r.wallMs / 1000 });
  ctx.log(
    `  ${fmt(l.rows)} rows: status ${fmt(l.status.at(-1), 3)} s (CPU ${fmt(l.statusCpu.at(-1), 3)} s), run page first load ${fmt(l.page.first.at(-1), 3)} s, ` +
      `resume first send ${fmt(l.resume.at(-1).firstSendSeconds, 3)} s, last send to exit ${fmt(l.resume.at(-1).closingSeconds, 3)} s`,
  );
}

const figures = (l) => ({
  status: summarize(l.status),
  statusCpu: summarize(l.statusCpu),
  first: summarize(l.page.first),
  firstSend: summarize(l.resume.map((r) => r.firstSendSeconds)),
  closing: summarize(l.resume.map((r) => r.closingSeconds)),
});

export async function totals(ctx) {
  const rows = Number(process.env.BENCH_TOTALS_ROWS ?? 10_000_000);
  // BENCH_TOTALS_KEEP=1 keeps the built ledgers (and their run ids beside them) for the next invocation to reuse.
  const keep = process.env.BENCH_TOTALS_KEEP === '1';
  const big = await ledgerOf(ctx, rows, keep);
  // The same measurements on a 10,000-row ledger of the same shape, alternated with the big one: what the
  // commands cost on this machine at this moment whatever the run's size (process start, loading modules).
  const small = await ledgerOf(ctx, REFERENCE_ROWS, keep);
  for (let i = 0; i < ctx.reps; i++) {
    await measure(ctx, big);
    await measure(ctx, small);
  }
  if (!keep) {
    big.remove();
    small.remove();
  }
  const b = figures(big);
  const r = figures(small);
  const pass = b.status.max < 1 && b.first.max < 1 && b.firstSend.max <= 1 && b.closing.max < 1;
  const vs = (x, y) => `${fmtSummary(x, 3, ' s')} (${fmt(REFERENCE_ROWS)} rows: ${fmtSummary(y, 3, ' s')})`;
  return {
    id: 'totals',
    title: '10. Totals at 10M rows (issue 17 target 5, the dashboard page)',
    target: `${fmt(rows)}-row run, ${fmt(rows - PENDING)} done: status, the dashboard's run page (first load), resume's first send and its closing status each under 1 s`,
    pass,
    figure: `status ${fmt(b.status.median, 2)} s, run page ${fmt(b.first.median, 2)} s, resume first send ${fmt(b.firstSend.median, 2)} s, closing ${fmt(b.closing.median, 2)} s`,
    lines: [
      `ledger: ${fmt(rows)} rows, ${fmt(big.sizeGb, 2)} GB; the totals kept by the triggers equal a count of the rows. In brackets: the same on a ${fmt(REFERENCE_ROWS)}-row ledger, alternated`,
      `\`bulktext status\`, process spawn → exit: ${vs(b.status, r.status)}; its CPU time ${vs(b.statusCpu, r.statusCpu)}`,
      `dashboard run page, first load (HTTP GET, fresh \`bulktext dashboard\`): ${vs(b.first, r.first)}; runs list then ${fmtSummary(summarize(big.page.list), 3, ' s')}; run page again ${fmtSummary(summarize(big.page.again), 3, ' s')}`,
      `\`bulktext resume\`, spawn → first accept at the simulator: ${vs(b.firstSend, r.firstSend)}`,
      `\`bulktext resume\`, last accept → process exit (closing status included): ${vs(b.closing, r.closing)}`,
    ],
    data: { big: { status: big.status, statusCpu: big.statusCpu, page: big.page, resume: big.resume }, small: { status: small.status, statusCpu: small.statusCpu, page: small.page, resume: small.resume } },
  };
}
