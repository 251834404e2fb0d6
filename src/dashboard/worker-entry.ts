/** The dashboard inside a worker thread (see worker.ts): starts it, reports its URL, closes on request. */
import { parentPort, workerData } from 'node:worker_threads';
import { toErrorData } from '../shared/errors.js';
import { startDashboard, type DashboardOptions } from './server.js';

const port = parentPort!;
try {
  const server = await startDashboard(workerData as DashboardOptions);
  port.on('message', (msg: { type: 'close' }) => {
    if (msg.type === 'close') void server.close().then(() => port.postMessage({ type: 'closed' }));
  });
  port.postMessage({ type: 'ready', url: server.url, port: server.port });
} catch (err) {
  port.postMessage({ type: 'failed', error: toErrorData(err) });
}
