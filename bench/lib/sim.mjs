/** Parent side of sim-child.mjs: start a simulator process and ask it questions. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./sim-child.mjs', import.meta.url));

/** Rates far above anything this machine reaches: the simulator never queues or throttles a benchmark. */
export const UNLIMITED = {
  accountRate: 1_000_000,
  mmsAccountRate: 1_000_000,
  senderRates: { longCode: 1_000_000, tollFree: 1_000_000, shortCode: 1_000_000, alphanumeric: 1_000_000 },
  lifecycle: { sendingMs: 50, deliveryMs: 300 },
  webhooks: { enabled: false },
};

export async function startSimProcess(options = {}) {
  const proc = fork(child, [JSON.stringify({ seed: 42, ...UNLIMITED, ...options })], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: ['--max-old-space-size=4096'],
  });
  const pending = new Map();
  let nextId = 1;
  const ready = await new Promise((resolve, reject) => {
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`simulator exited early (${code})`)));
    proc.on('message', (msg) => {
      if (msg.ready) return resolve(msg);
      const p = pending.get(msg.id);
      if (p === undefined) return;
      pending.delete(msg.id);
      if (msg.error !== undefined) p.reject(new Error(msg.error));
      else p.resolve(msg.result);
    });
  });
  proc.removeAllListeners('exit');
  const ask = (op, arg) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      proc.send({ id, op, arg });
    });
  return {
    url: ready.url,
    origin: ready.origin,
    pid: proc.pid,
    reset: () => ask('reset'),
    configure: (patch) => ask('configure', patch),
    summary: () => ask('summary'),
    window: (windowMs = 1000) => ask('window', { windowMs }),
    senderGaps: () => ask('senderGaps'),
    senderTimeline: () => ask('senderTimeline'),
    buckets: () => ask('buckets'),
    recipientCounts: (recipients) => ask('recipientCounts', { recipients }),
    close: () =>
      new Promise((resolve) => {
        proc.once('exit', () => resolve());
        proc.disconnect();
      }),
  };
}
