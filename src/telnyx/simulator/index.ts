/**
 * The local Telnyx simulator: the Messages API v2 as documented (API-NOTES, the OpenAPI spec), with
 * rates and queues, limits, STOP, outcomes, scripted faults and signed delivery webhooks.
 */
export { startSimulator, type InProcessSimulator, type SimulatorHandle } from './server.js';
export { startSimulatorWorker } from './worker.js';
export { SimulatorEngine, type SimulatorStats, type StatsQuery } from './engine.js';
export {
  faultKinds,
  failureStatuses,
  parseConfigPatch,
  parseSimulatorOptions,
  simulatorConfigSchema,
  simulatorOptionsSchema,
  type FailureStatus,
  type FaultKind,
  type OutcomeSpec,
  type SimulatorConfigPatch,
  type SimulatorOptions,
} from './options.js';
export { loadScenario } from './scenario.js';
export type { OutboundMessagePayload, OutboundAddressee } from './render.js';
export type { WebhookDelivery, WebhookEventType } from './webhooks.js';
export { senderType, type SenderType } from './config.js';
