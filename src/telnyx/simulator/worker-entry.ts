/**
 * The worker thread's main: runs an in-process simulator and answers the parent's control calls
 * (stats, reset, configure, close) over the message port.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toErrorData } from '../../shared/errors.js';
import { startSimulator } from './server.js';
import type { WorkerReply, WorkerRequest, WorkerStart } from './worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('worker-entry must run in a worker thread');

try {
  const sim = await startSimulator((workerData as WorkerStart).options);
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
