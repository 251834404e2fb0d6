/**
 * What a developer writes by hand: the official `telnyx` SDK and `p-limit`, reading the CSV with
 * csv-parse, one `messages.send` per row. No ledger, no rate limiter, no resume.
 * Usage: node bench/baseline-sdk.mjs <csv> <baseUrl> <concurrency> <from>
 */
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import pLimit from 'p-limit';
import Telnyx from 'telnyx';

const [csv, baseURL, concurrencyArg, from] = process.argv.slice(2);
const client = new Telnyx({ apiKey: 'bench-key', baseURL });
const limit = pLimit(Number(concurrencyArg));

const rows = [];
for await (const r of createReadStream(csv).pipe(parse({ columns: true }))) rows.push(r);

const t0 = performance.now();
let sent = 0;
await Promise.all(
  rows.map((r) =>
    limit(async () => {
      const digits = r.phone.replace(/\D/g, '');
      const to = digits.length === 10 ? `+1${digits}` : `+${digits}`;
      const res = await client.messages.send({ from, to, text: `Hi ${r.first_name}, your order ${r.order_id} ships today. Reply STOP to opt out.` });
      if (res.data?.id) sent++;
    }),
  ),
);
const ms = performance.now() - t0;
process.stdout.write(`${JSON.stringify({ sent, ms, rate: (sent * 1000) / ms })}\n`);
