/**
 * The ingest thread's main: reads, validates and renders the source (ingest/), turns each batch into
 * message columns and hands it to the parent, which writes it to the ledger. At most `ahead` batches
 * wait for the parent at a time, so a slow disk on the ledger's side bounds memory here instead of
 * letting the file race ahead.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ingestRecipients } from '../ingest/index.js';
import { PlanAccumulator } from '../plan/compute-plan.js';
import { CampaignMemoryReader } from '../ledger/campaign-memory.js';
import { toErrorData } from '../shared/errors.js';
import { alreadySentHook } from './campaign-memory.js';
import { columnsOfIngested, runTextsOf } from './ingested-columns.js';
import type { IngestWorkerAck, IngestWorkerMessage, IngestWorkerStart } from './ingest-worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('ingest-worker must run in a worker thread');

const { spec, suppressedNumbers, estimate, ahead, memory } = workerData as IngestWorkerStart;
let credit = ahead;
let wake: (() => void) | undefined;
const onAck = (_: IngestWorkerAck): void => {
  credit++;
  wake?.();
};
port.on('message', onAck);

const send = (m: IngestWorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

let reader: CampaignMemoryReader | undefined;
try {
  const suppressed = new Set(suppressedNumbers);
  const texts = runTextsOf(spec);
  const accumulator = estimate ? new PlanAccumulator(spec, { suppressedNumbers: suppressed }) : undefined;
  reader = memory === undefined ? undefined : new CampaignMemoryReader(memory.ledgerPath);
  const { batches, stats } = ingestRecipients(spec, {
    ...(suppressed.size === 0 ? {} : { suppressed: (n: string) => suppressed.has(n) }),
    ...(memory === undefined || reader === undefined ? {} : { alreadySent: alreadySentHook(memory, reader.alreadySent) }),
  });
  for await (const batch of batches) {
    const columns = columnsOfIngested(spec, batch, texts);
    if (accumulator !== undefined) for (const r of batch) accumulator.add(r);
    while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
    credit--;
    // The typed columns move to the parent without a copy.
    send({ type: 'rows', columns }, [columns.row.buffer, columns.line.buffer, columns.parts.buffer] as ArrayBuffer[]);
  }
  const result = await stats;
  send({ type: 'done', stats: result, estimate: accumulator?.tally(result) });
} catch (err) {
  send({ type: 'failed', error: toErrorData(err) });
} finally {
  reader?.close();
  port.off('message', onAck);
}
