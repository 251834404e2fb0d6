/**
 * Starts a worker thread on a module that sits next to its caller. Compiled (dist/), that is the `.js`
 * file; from the TypeScript sources (under vitest) a worker is plain Node, which cannot load `.ts`, so it
 * goes through a type-stripping loader (dev-ts-loader.mjs) that the compiled package never loads.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * @param callerUrl the caller's `import.meta.url`
 * @param entry the worker module's path relative to the caller, without extension (`./worker-entry`)
 */
export function spawnWorker(callerUrl: string, entry: string, options: WorkerOptions = {}): Worker {
  if (callerUrl.endsWith('.ts')) {
    const source = new URL(`${entry}.ts`, callerUrl).href;
    const loader = new URL('./dev-ts-loader.mjs', import.meta.url).href;
    const code = `require('node:module').register(${JSON.stringify(loader)}); import(${JSON.stringify(source)});`;
    return new Worker(code, { ...options, eval: true });
  }
  return new Worker(new URL(`${entry}.js`, callerUrl), options);
}
