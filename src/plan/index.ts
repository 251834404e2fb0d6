/** Public API of plan: segments, cost and duration before a run, and the plan/apply guard. */
export { computePlan, PlanAccumulator, codePoint } from './compute-plan.js';
export type { ComputePlanOptions, PlanAccumulatorOptions, PlannableSpec } from './compute-plan.js';
export { createCountryResolver, countryOf } from './country.js';
export type { CountryResolver } from './country.js';
export { describePlan, formatBytes, formatSeconds, planJson } from './format-plan.js';
export { planVsActual, readLedgerSuppressions, recordPlanOnRun } from './ledger-plan.js';
export type { PlanRecord, PlanVsActual } from './ledger-plan.js';
export { composePlanHash, currentPlanHashParts, ledgerSuppressionDigest, parsePlanHash, suppressionListDigest, verifyPlanHash } from './plan-hash.js';
export { ACCOUNT_RATE, classifySender, DOCUMENTED_SENDER_RATE, estimateDuration, QUEUE_SECONDS, throughputWarnings } from './throughput.js';
export type { SenderKind, SenderLoad } from './throughput.js';
export type * from './types.js';
