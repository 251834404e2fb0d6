/**
 * The simulator in its own worker thread, so a sandbox run or a benchmark does not share an event
 * loop (or, on a multi-core machine, a core) with the sender it measures. Same handle as the
 * in-process simulator minus the direct accessors: inspect it over HTTP (`${origin}/__sim/…`) or
 * through `stats()`.
 */
import { AppError, fromErrorData } from '../../shared/errors.js';
import { spawnWorker } from '../../shared/spawn-worker.js';
import type { SimulatorStats, StatsQuery } from './engine.js';
import { parseSimulatorOptions, type SimulatorConfigPatch, type SimulatorOptions } from './options.js';
import type { SimulatorHandle } from './server.js';
import type { WorkerReply, WorkerRequest, WorkerStart } from './worker-protocol.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Pending = { resolve: (value: unknown) => void; reject: (err: unknown) => void };

/**
 * Starts the simulator in a worker thread. With `onReceipts`, its delivery receipts come to this thread
 * in batches of JSON bodies, in the order they fell due, and none is posted anywhere.
 * @throws AppError ERR_USAGE for invalid options, a bad scenario file or a port in use
 */
export async function startSimulatorWorker(options: SimulatorOptions = {}, onReceipts?: (bodies: string[]) => void): Promise<SimulatorHandle> {
  // Validate here too, so a bad option fails in the caller's stack with the same message.
  const start: WorkerStart = { options: parseSimulatorOptions(options), receiptsToParent: onReceipts !== undefined };
  const worker = spawnWorker(import.meta.url, './worker-entry', { workerData: start });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let exited = false;

  const ready = await new Promise<Extract<WorkerReply, { type: 'ready' }>>((resolve, reject) => {
    const onMessage = (msg: WorkerReply): void => {
      if (msg.type === 'ready') {
        cleanup();
        resolve(msg);
      } else if (msg.type === 'failed') {
        cleanup();
        reject(fromErrorData(msg.error));
      }
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new AppError('ERR_INTERNAL', `the simulator worker failed to start: ${err.message}`, { cause: err }));
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new AppError('ERR_INTERNAL', `the simulator worker exited (code ${code}) before it was ready`));
    };
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });

  worker.on('message', (msg: WorkerReply) => {
    if (msg.type === 'receipts') onReceipts?.(msg.bodies);
    if (msg.type !== 'reply') return;
    const call = pending.get(msg.id);
    if (call === undefined) return;
    pending.delete(msg.id);
    if (msg.ok) call.resolve(msg.value);
    else call.reject(fromErrorData(msg.error));
  });
  const failAll = (err: unknown): void => {
    for (const call of pending.values()) call.reject(err);
    pending.clear();
  };
  worker.on('error', (err) => failAll(new AppError('ERR_INTERNAL', `the simulator worker failed: ${err.message}`, { cause: err })));
  worker.on('exit', () => {
    exited = true;
    failAll(new AppError('ERR_INTERNAL', 'the simulator worker has exited'));
  });

  function call<T>(request: WithoutId<WorkerRequest>): Promise<T> {
    if (exited) return Promise.reject(new AppError('ERR_INTERNAL', 'the simulator worker has exited'));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ ...request, id } as WorkerRequest);
    });
  }

  let closing: Promise<void> | undefined;
  return {
    url: ready.url,
    origin: ready.origin,
    port: ready.port,
    publicKey: ready.publicKey,
    stats: (query?: StatsQuery) => call<SimulatorStats>({ op: 'stats', query }),
    reset: () => call<void>({ op: 'reset' }),
    configure: (patch: SimulatorConfigPatch) => call<void>({ op: 'configure', patch }),
    close: () => {
      closing ??= (async () => {
        if (exited) return;
        const gone = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
        try {
          await call<void>({ op: 'close' });
        } finally {
          await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
          if (!exited) await worker.terminate();
        }
      })();
      return closing;
    },
  };
}
