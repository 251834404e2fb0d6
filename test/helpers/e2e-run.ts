/** What the end-to-end tests of runs share: a simulator too fast to throttle, a temp dir per test, and reading a run's outcome. */
import { afterEach, beforeEach } from 'vitest';
import { startSimulator, type InProcessSimulator, type SimulatorOptions } from '../../src/telnyx/simulator/index.js';
import { runCli, startCli } from './cli.js';
import { tempDir } from './temp.js';

/** Simulator rates far above any test's, no receipts: what a run sends is what its own limits allow. */
export const fastSim = {
  accountRate: 100_000,
  mmsAccountRate: 100_000,
  senderRates: { longCode: 100_000, tollFree: 100_000, shortCode: 100_000 },
  webhooks: { enabled: false },
};

export interface RunStatusJson {
  run_id: string;
  state: string;
  counts: Record<string, number>;
  stop: { code: string | null; detail: string | null } | null;
}

/** `bulktext status <run> --json` against the ledger `db`. */
export async function statusOf(db: string, runId: string): Promise<RunStatusJson> {
  return JSON.parse((await runCli(['status', runId, '--db', db, '--json'])).stdout) as RunStatusJson;
}

/** The run id `run` prints on stderr as soon as the run exists. */
export function runIdFrom(stderr: string): string {
  const m = /run (\d{8}-\d{6}-[0-9a-f]{4})/.exec(stderr);
  if (m === null) throw new Error(`no run id in: ${stderr}`);
  return m[1]!;
}

/** Recipients the simulator accepted more than once (must always be empty). */
export function textedTwice(s: InProcessSimulator, numbers: string[]): string[] {
  return numbers.filter((n) => s.messages.byRecipient(n).length > 1);
}

/** Registers the file's hooks: a temp dir before each test; the simulator (if started) closed and the dir removed after. */
export function useE2eEnv(prefix: string): { readonly dir: string; readonly sim: InProcessSimulator; start(options: SimulatorOptions): Promise<InProcessSimulator> } {
  let tmp: ReturnType<typeof tempDir> | undefined;
  let sim: InProcessSimulator | undefined;
  beforeEach(() => {
    tmp = tempDir(prefix);
  });
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
    tmp?.cleanup();
  });
  return {
    get dir() {
      if (tmp === undefined) throw new Error('the temp dir exists only while a test runs');
      return tmp.dir;
    },
    get sim() {
      if (sim === undefined) throw new Error('no simulator: the test did not start one');
      return sim;
    },
    async start(options) {
      sim = await startSimulator(options);
      return sim;
    },
  };
}

/**
 * Spawns `bulktext <args>`, waits (at most 20 s) until the simulator has accepted `accepts` messages, and
 * SIGKILLs it: a run killed mid-send. Resolves with the killed process's outcome and its run id.
 */
export async function killAfterAccepts(sim: InProcessSimulator, args: string[], env: NodeJS.ProcessEnv, accepts: number) {
  const cli = startCli(args, { env });
  const deadline = Date.now() + 20_000;
  while (sim.messages.count() < accepts && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  cli.child.kill('SIGKILL');
  const killed = await cli.done;
  return { killed, runId: runIdFrom(killed.stderr) };
}
