/** What the spawned-CLI tests share: a simulator fast enough that the job's own limits decide, and a fresh temp dir per test. */
import { afterEach, beforeEach } from 'vitest';
import { startSimulator, type InProcessSimulator, type SimulatorOptions } from '../../src/telnyx/simulator/index.js';
import { tempDir } from './temp.js';

/** Simulator rates far above any test job's, receipts off. */
export const fastSim = {
  accountRate: 100_000,
  mmsAccountRate: 100_000,
  senderRates: { longCode: 100_000, tollFree: 100_000, shortCode: 100_000 },
  webhooks: { enabled: false },
} satisfies SimulatorOptions;

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
