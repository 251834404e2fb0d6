/**
 * Campaign memory: by default a recipient gets a job's message at most once across runs. A new run
 * skips (`already_sent`, naming the earlier run) every number an earlier run of the same campaign —
 * job, message template, sandbox or real — sent to or left in doubt within `dedupe.window`. The memory
 * lives in the ledger (table campaign_memory) and ingest looks each batch up there; nothing here holds
 * a set of numbers.
 */
import type { JobSpec } from '../config/job-spec.js';
import type { AlreadySentLookup } from '../ledger/campaign-memory.js';
import type { Ledger } from '../ledger/ledger.js';
import type { RunRecord } from '../ledger/run-store.js';
import type { EarlierSend, MemoryWindow } from '../ledger/memory-store.js';
import { latestSlots, slotKey } from '../schedule/slots.js';
import { memoryStoreOf } from '../ledger/memory-store.js';

/** How far back an unscheduled job looks when its file sets no `dedupe.window`. */
export const DEFAULT_DEDUPE_WINDOW_MS = 30 * 86_400_000;

/** What ingest's thread needs to look numbers up: the ledger file, the campaign, and which sends count. */
export interface MemoryScope {
  ledgerPath: string;
  cid: number;
  window: MemoryWindow;
  sandbox: boolean;
}

/**
 * Which earlier sends count for a run starting at `at` (of cron `slot`, for a scheduled run). A duration
 * looks back from the start; `slot` (the default for a job with a schedule) counts only the runs of the
 * job's latest slot (a manual run: of the latest slot before it) and later, so a nightly job texts the same
 * people every night but never twice in one night — and an older slot's run resumed late is not this one's.
 */
export function memoryWindow(spec: JobSpec, at: number, slot: string | null): MemoryWindow {
  const window = spec.dedupe?.window ?? (spec.schedule === undefined ? DEFAULT_DEDUPE_WINDOW_MS : 'slot');
  if (window !== 'slot') return { since: at - window, fromSlot: null };
  const from = slot !== null ? Date.parse(slot) : spec.schedule === undefined ? at : (latestSlots(spec.schedule, 0, at, 1).slots[0] ?? at);
  return { since: from, fromSlot: slotKey(from) };
}

/** "texted by run 20261207-101500-ab12 at 2026-12-07T10:15:02.000Z" (a sandbox run says so). */
export function describeEarlierSend(e: EarlierSend, sandbox: boolean): string {
  const run = e.runId === null ? `a ${sandbox ? 'sandbox ' : ''}run since removed` : `${sandbox ? 'sandbox ' : ''}run ${e.runId}`;
  return `texted by ${run} at ${new Date(e.at).toISOString()}`;
}

/**
 * The memory a new run of `run`'s campaign must respect, brought up to date first; undefined when the
 * campaign texted nobody in the window (a first run pays no lookup) or the operator allows repeats.
 */
export function memoryScope(ledger: Ledger, spec: JobSpec, run: RunRecord, options: { allowRepeat?: boolean } = {}): MemoryScope | undefined {
  if (options.allowRepeat === true) return undefined;
  return scopeOf(ledger, run.cid, memoryWindow(spec, run.startedAt, run.slot), run.sandbox);
}

/** The memory a real run of `spec` starting `now` would respect (what `plan` counts as already sent). */
export function plannedMemoryScope(ledger: Ledger, spec: JobSpec, now: number): MemoryScope | undefined {
  const cid = memoryStoreOf(ledger).campaignOf(spec.name, JSON.stringify(spec), false);
  return cid === undefined ? undefined : scopeOf(ledger, cid, memoryWindow(spec, now, null), false);
}

function scopeOf(ledger: Ledger, cid: number, window: MemoryWindow, sandbox: boolean): MemoryScope | undefined {
  memoryStoreOf(ledger).rememberCampaign(cid);
  return memoryStoreOf(ledger).hasMemory(cid, window) ? { ledgerPath: ledger.path, cid, window, sandbox } : undefined;
}

/**
 * Before a resume sends: rows of the run that another run of its campaign has texted since (a newer run
 * started with --force) are skipped as `already_sent`. Returns how many.
 */
export function skipTextedElsewhere(ledger: Ledger, spec: JobSpec, run: RunRecord): number {
  memoryStoreOf(ledger).rememberCampaign(run.cid);
  const window = memoryWindow(spec, run.startedAt, run.slot);
  return memoryStoreOf(ledger).skipAlreadySent(run.rid, run.cid, window, (runId, at) => describeEarlierSend({ runId, at }, run.sandbox));
}

/** Ingest's `alreadySent` hook over a lookup (the ledger's own, or a reader's in ingest's thread). */
export function alreadySentHook(
  scope: MemoryScope,
  lookup: AlreadySentLookup,
): (numbers: readonly string[]) => Map<string, string> {
  return (numbers) => {
    const found = new Map<string, string>();
    for (const [number, e] of lookup(scope.cid, scope.window, numbers)) found.set(number, describeEarlierSend(e, scope.sandbox));
    return found;
  };
}
