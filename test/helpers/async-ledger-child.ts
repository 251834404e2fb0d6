/**
 * A process that sends one seeded run through the real dispatcher over AsyncDispatchLedger, for tests
 * that SIGKILL it mid-run: `node <dev-ts-loader> async-ledger-child.ts LEDGER_FILE RID BASE_URL`.
 * Nothing here cleans up on purpose: the test kills it.
 */
import { Dispatcher } from '../../src/dispatch/dispatcher.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { createTelnyxClient } from '../../src/telnyx/client.js';
import { createMessageSender } from '../../src/telnyx/message-sender.js';
import { AsyncDispatchLedger } from './async-ledger.js';

const [file, rid, baseUrl] = process.argv.slice(2);
const ledger = new Ledger(file!);
const client = createTelnyxClient({ apiKey: 'test-key', baseUrl: baseUrl!, connections: 8, timeoutMs: 5000 });
const summary = await new Dispatcher({
  ledger: new AsyncDispatchLedger(ledger, Number(rid)),
  sender: createMessageSender(client, { kind: 'long_code' }),
  rate: { messagesPerSecond: 200, perSenderPerSecond: 200, maxConcurrent: 8, countParts: false },
  retry: { attempts: 3, minDelayMs: 5, maxDelayMs: 20 },
}).run();
process.stdout.write(`${JSON.stringify(summary)}\n`);
