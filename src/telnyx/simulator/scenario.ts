/**
 * Scenario files: JSON holding the same options as `startSimulator`, so a demo or a test run can be
 * replayed with `bulktext simulator --scenario file.json`.
 */
import { readFile } from 'node:fs/promises';
import { AppError } from '../../shared/errors.js';
import { parseSimulatorOptions, type SimulatorOptions } from './options.js';

/** Reads and validates a scenario file. Unknown keys and bad values are reported by name. */
export async function loadScenario(path: string): Promise<SimulatorOptions> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new AppError('ERR_USAGE', `cannot read scenario file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AppError('ERR_USAGE', `scenario file ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const options = parseSimulatorOptions(json, `scenario file ${path}`);
  if (options.scenario !== undefined) {
    throw new AppError('ERR_USAGE', `scenario file ${path}: "scenario" cannot be nested in a scenario file`);
  }
  return options;
}

/** The scenario file's options under the ones given directly (shallow: a key given directly wins whole). */
export async function resolveScenario(options: SimulatorOptions): Promise<SimulatorOptions> {
  if (options.scenario === undefined) return options;
  const fromFile = await loadScenario(options.scenario);
  const { scenario: _ignored, ...direct } = options;
  return { ...fromFile, ...direct };
}
