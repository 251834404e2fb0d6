/**
 * A Telnyx stand-in on 127.0.0.1:0 that accepts every send and records when each request arrived and
 * from which sender: the far end's view of several processes' pacing, for the sliding-window checks.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { reply, startScriptedServer, type ScriptedServer } from '../integration/client-scripted-server.js';
import { validNumbers } from './campaign-files.js';
import { specExample } from './openapi.js';

export interface Arrival {
  at: number;
  from: string;
  to: string;
}

const example = specExample('OutboundMessagePayload') as Record<string, unknown>;

/** `cost`: what every answer says the message cost (USD); null by default, as Telnyx often answers at send. */
export async function startLoggingServer(options: { cost?: string } = {}): Promise<{ server: ScriptedServer; arrivals: Arrival[]; baseUrl: string }> {
  const arrivals: Arrival[] = [];
  const server = await startScriptedServer((req, res) => {
    const body = JSON.parse(req.body) as { from: string; to: string };
    arrivals.push({ at: performance.timeOrigin + performance.now(), from: body.from, to: body.to });
    const cost = options.cost === undefined ? null : { amount: options.cost, currency: 'USD' };
    reply(res, 200, { data: { ...example, id: randomUUID(), parts: 1, cost } });
  });
  return { server, arrivals, baseUrl: `${server.origin}/v2` };
}

/** The most arrivals in any sliding window of `windowMs` (start inclusive, end exclusive). */
export function fullestWindow(times: readonly number[], windowMs = 1000): number {
  const t = [...times].sort((a, b) => a - b);
  let most = 0;
  let lo = 0;
  for (let hi = 0; hi < t.length; hi++) {
    while (t[hi]! - t[lo]! >= windowMs) lo++;
    most = Math.max(most, hi - lo + 1);
  }
  return most;
}

/** A job over `rows` fresh numbers (area code `area`, so jobs do not share recipients) from `from`. */
export function writeJob(dir: string, name: string, rows: number, area: string, from: string | string[], extra = ''): string {
  const csv = path.join(dir, `${name}.csv`);
  writeFileSync(csv, `phone\n${validNumbers(rows, area).join('\n')}\n`);
  const file = path.join(dir, `${name}.yaml`);
  const froms = Array.isArray(from) ? from : [from];
  writeFileSync(
    file,
    `name: ${name}\nsource:\n  path: ${name}.csv\nsender:\n  mode: long_code\n  from: [${froms.map((f) => `"${f}"`).join(', ')}]\n` +
      `message:\n  text: "Hello from ${name}"\nrate:\n  max_concurrent: 4\n${extra}`,
  );
  return file;
}
