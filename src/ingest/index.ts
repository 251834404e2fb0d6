/**
 * Public API of ingest: recipients file → validated, normalised, rendered rows (streaming), the
 * suppression list loader and the source hash. Everything else in this folder is internal.
 */
export { describeIngest, describeSkipped, hashSource, ingestRecipients, isMmsJob, MAX_GROUP_RECIPIENTS, SKIP_REASONS } from './recipients.js';
export type { IngestedRow, IngestOptions, IngestResult, IngestStats, SkipReason } from './recipients.js';
export { loadSuppressionList } from './suppression.js';
export { createPhoneNormalizer } from './phone.js';
export type { PhoneNormalizer } from './phone.js';
export { parseTemplate } from './template.js';
export type { Template } from './template.js';
