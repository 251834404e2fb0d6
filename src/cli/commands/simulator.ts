/**
 * `bulktext simulator`: runs the local Telnyx simulator until interrupted and tells the user how to
 * point bulktext or the official SDK at it.
 */
import { startSimulator } from '../../telnyx/simulator/index.js';
import type { SimulatorOptions } from '../../telnyx/simulator/index.js';
import { untilAborted } from '../../shared/clock.js';

export interface SimulatorCommandOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** Accept only this bearer key. @default any non-empty key */
  apiKey?: string;
  /** JSON file of simulator options; the flags above win over the file. */
  scenario?: string;
}

export interface SimulatorCommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  signal: AbortSignal;
}

/** Starts the simulator, prints where it is, waits for the signal, closes it. Returns the exit code. */
export async function simulatorCommand(options: SimulatorCommandOptions, io: SimulatorCommandIo): Promise<number> {
  const simOptions: SimulatorOptions = {};
  if (options.scenario !== undefined) simOptions.scenario = options.scenario;
  if (options.port !== undefined) simOptions.port = options.port;
  if (options.host !== undefined) simOptions.host = options.host;
  if (options.apiKey !== undefined) simOptions.apiKey = options.apiKey;
  if (io.signal.aborted) return 0;

  const sim = await startSimulator(simOptions);
  const key = options.apiKey === undefined ? 'sandbox   # any non-empty key is accepted' : options.apiKey;
  io.stdout(
    [
      `Telnyx simulator listening on ${sim.url}`,
      `Webhook public key (Ed25519, base64): ${sim.publicKey}`,
      '',
      'Point bulktext or the Telnyx SDK at it:',
      `  export TELNYX_BASE_URL=${sim.url}`,
      `  export TELNYX_API_KEY=${key}`,
      `  export TELNYX_PUBLIC_KEY=${sim.publicKey}`,
      '',
      `Inspect: ${sim.origin}/__sim/stats · ${sim.origin}/__sim/messages?to=+1… · ${sim.origin}/__sim/webhooks`,
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );

  await untilAborted(io.signal);
  await sim.close();
  io.stderr('simulator stopped\n');
  return 0;
}
