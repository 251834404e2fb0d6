/** Messages between `startSimulatorWorker` and its thread. */
import type { ErrorData } from '../../shared/errors.js';
import type { StatsQuery } from './engine.js';
import type { SimulatorConfigPatch, SimulatorOptions } from './options.js';

export interface WorkerStart {
  options: SimulatorOptions;
  /** Hand receipts to the parent (`receipts` replies) instead of posting them. */
  receiptsToParent?: boolean;
}

export type WorkerRequest =
  | { id: number; op: 'stats'; query: StatsQuery | undefined }
  | { id: number; op: 'reset' }
  | { id: number; op: 'configure'; patch: SimulatorConfigPatch }
  | { id: number; op: 'close' };

export type WorkerReply =
  | { type: 'ready'; url: string; origin: string; port: number; publicKey: string }
  | { type: 'failed'; error: ErrorData }
  /** Receipt bodies (JSON event envelopes) that fell due, oldest first. */
  | { type: 'receipts'; bodies: string[] }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: ErrorData };
