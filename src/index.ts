/**
 * bulktext as a library: the same use cases the CLI runs, for Node programs. Everything here is a
 * stable, documented entry point (see README "Library API"); anything not exported is internal.
 */
export { startCampaign, resumeCampaign } from './api/campaign.js';
export type { RunProgress, SendOptions, StartCampaignOptions, ResumeCampaignOptions } from './api/campaign.js';
export { planJob } from './api/plan.js';
export type { JobPlan, PlanJobOptions } from './api/plan.js';
export { getStatus, listRuns, reportRows } from './api/read.js';
export type { ReadOptions } from './api/read.js';
export { startWebhooks, startSimulator } from './api/servers.js';
export type { InProcessSimulator, ReceiverLog, SimulatorOptions, Webhooks, WebhooksOptions } from './api/servers.js';
export { reportColumns } from './campaign/report.js';
export type { ReportRow } from './campaign/report.js';
export type { RunStatus, PublicRunState } from './campaign/status.js';
export type { DispatchEvent } from './dispatch/dispatcher.js';
export type { Plan } from './plan/index.js';
export { AppError, isAppError } from './shared/errors.js';
export type { ErrorCode } from './shared/errors.js';
