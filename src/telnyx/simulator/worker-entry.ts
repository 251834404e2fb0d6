/**
 * The worker thread's main: runs an in-process simulator and answers the parent's control calls
 * (stats, reset, configure, close) over the message port.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { toErrorData } from '../../shared/errors.js';
import { startSimulator } from './server.js';
import type { ReceiptSink } from './webhooks.js';
import type { WorkerReply, WorkerRequest, WorkerStart } from './worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('worker-entry must run in a worker thread');

/** Receipts per message to the parent: one message a batch, not one per receipt. */
const RECEIPT_BATCH = 512;

/** Collects receipt bodies and posts them to the parent when the batch is full or this turn of the loop ends. */
function receiptsToParent(target: MessagePort): ReceiptSink {
  let batch: string[] = [];
  let flushing = false;
  const flush = (): void => {
    flushing = false;
    if (batch.length === 0) return;
    target.postMessage({ type: 'receipts', bodies: batch } satisfies WorkerReply);
    batch = [];
  };
  return (body) => {
    batch.push(body);
    if (batch.length >= RECEIPT_BATCH) flush();
    else if (!flushing) {
      flushing = true;
      setImmediate(flush);
    }
  };
}

try {
  const start = workerData as WorkerStart;
  const sim = await startSimulator(start.options, start.receiptsToParent === true ? receiptsToParent(port) : undefined);
  port.on('message', (msg: WorkerRequest) => {
    const reply = (r: WorkerReply): void => port.postMessage(r);
    const run = async (): Promise<unknown> => {
      switch (msg.op) {
        case 'stats':
          return sim.stats(msg.query);
        case 'reset':
          return sim.reset();
        case 'configure':
          return sim.configure(msg.patch);
        case 'close':
          return sim.close();
      }
    };
    run().then(
      (value) => {
        reply({ type: 'reply', id: msg.id, ok: true, value });
        if (msg.op === 'close') port.close();
      },
      (err: unknown) => reply({ type: 'reply', id: msg.id, ok: false, error: toErrorData(err) }),
    );
  });
  port.postMessage({ type: 'ready', url: sim.url, origin: sim.origin, port: sim.port, publicKey: sim.publicKey } satisfies WorkerReply);
} catch (err) {
  port.postMessage({ type: 'failed', error: toErrorData(err) } satisfies WorkerReply);
  port.close();
}
