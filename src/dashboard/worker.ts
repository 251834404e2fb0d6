/**
 * The dashboard beside a run or the scheduler (`--dashboard-port`): in its own worker thread with its
 * own read-only connection, so building a page of a large run never holds up the event loop that sends.
 */
import { AppError, fromErrorData, type ErrorData } from '../shared/errors.js';
import { spawnWorker } from '../shared/spawn-worker.js';
import type { DashboardOptions, DashboardServer } from './server.js';

type Reply = { type: 'ready'; url: string; port: number } | { type: 'failed'; error: ErrorData } | { type: 'closed' };

/** @throws AppError as startDashboard does (a port in use, an unreadable ledger) */
export async function startDashboardWorker(options: DashboardOptions): Promise<DashboardServer> {
  const worker = spawnWorker(import.meta.url, './worker-entry', { workerData: options });
  const ready = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    worker.once('message', (msg: Reply) => {
      if (msg.type === 'ready') resolve(msg);
      else if (msg.type === 'failed') reject(fromErrorData(msg.error));
    });
    worker.once('error', (err) => reject(new AppError('ERR_INTERNAL', `the dashboard worker failed: ${err.message}`, { cause: err })));
    worker.once('exit', (code) => reject(new AppError('ERR_INTERNAL', `the dashboard worker exited (code ${code}) before it was ready`)));
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  return {
    url: ready.url,
    port: ready.port,
    close: async () => {
      const closed = new Promise<void>((resolve) => {
        worker.on('message', (msg: Reply) => msg.type === 'closed' && resolve());
        worker.once('exit', () => resolve());
      });
      worker.postMessage({ type: 'close' });
      await closed;
      await worker.terminate();
    },
  };
}
