/**
 * The floor bulktext is measured against: a bare undici loop — the same rows, the same request body,
 * the same simulator and concurrency, but no ledger, no rate limiter, no retries.
 * Usage: node bench/baseline-undici.mjs <csv> <baseUrl> <concurrency> <from>
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

const [csv, baseUrl, concurrencyArg, from] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
// Read the whole file up front: the loop measures sending only.
const rows = readFileSync(csv, 'utf8')
  .split('\n')
  .slice(1)
  .filter((l) => l !== '')
  .map((l) => {
    const [phone, first, order] = l.split(',');
    const digits = phone.replace(/\D/g, '');
    return { to: digits.length === 10 ? `+1${digits}` : `+${digits}`, text: `Hi ${first}, your order ${order} ships today. Reply STOP to opt out.` };
  });
const url = new URL(baseUrl);
const pool = new Pool(url.origin, { connections: concurrency, pipelining: 1 });
const path = `${url.pathname.replace(/\/$/, '')}/messages`;
const headers = { authorization: 'Bearer bench-key', 'content-type': 'application/json', accept: 'application/json' };
let next = 0;
let ok = 0;
const t0 = performance.now();
async function worker() {
  while (next < rows.length) {
    const r = rows[next++];
    const res = await pool.request({ method: 'POST', path, headers, body: JSON.stringify({ from, to: r.to, text: r.text }) });
    const body = await res.body.json();
    if (res.statusCode === 200 && body.data?.id) ok++;
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const ms = performance.now() - t0;
await pool.close();
process.stdout.write(`${JSON.stringify({ sent: ok, ms, rate: (ok * 1000) / ms })}\n`);
