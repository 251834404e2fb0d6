/**
 * `bulktext reconcile <run-id>`: asks Telnyx (GET /messages/{id}) for the final status of the run's
 * sent rows that have none yet, and prints what changed.
 */
import { reconcileRun, type ReconcileResult } from '../../campaign/reconcile.js';
import { requireApiKey, resolveBaseUrl } from '../../config/env.js';
import { AppError } from '../../shared/errors.js';
import { createTelnyxClient } from '../../telnyx/client.js';
import { ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { openExistingLedger } from '../ledger-file.js';
import { runStoreOf } from '../../ledger/run-store.js';

export interface ReconcileCommandOptions {
  runId: string;
  db?: string | undefined;
  json: boolean;
  /** GETs per second. @default the run's rate.messages_per_second */
  rate?: number | undefined;
}

/** The run's own send ceiling: GETs count against the same API limits as sends. */
function runRate(jobSpec: string): number | undefined {
  try {
    const rate = (JSON.parse(jobSpec) as { rate?: { messages_per_second?: unknown } }).rate?.messages_per_second;
    return typeof rate === 'number' && rate > 0 ? rate : undefined;
  } catch {
    return undefined;
  }
}

export function describeReconcile(r: ReconcileResult): string {
  const lines = [
    `reconciled run ${r.runId}: checked ${r.checked} · updated ${r.updated.length} · too old ${r.tooOld.length} · failed ${r.failed.length}`,
  ];
  for (const u of r.updated) lines.push(`  row ${u.row}  ${u.from ?? '(none)'} → ${u.to}  ${u.messageId}`);
  if (r.tooOld.length > 0) {
    lines.push(`  ${r.tooOld.length} row(s) were sent more than 10 days ago; Telnyx no longer returns them:`);
    for (const t of r.tooOld.slice(0, 20)) lines.push(`  row ${t.row}  sent ${t.sentAt ?? '?'}  ${t.messageId}`);
    if (r.tooOld.length > 20) lines.push(`  … and ${r.tooOld.length - 20} more (--json lists all)`);
  }
  for (const f of r.failed) lines.push(`  row ${f.row}  failed ${f.code ?? ''} ${f.detail}`.trimEnd());
  return `${lines.join('\n')}\n`;
}

export async function reconcileCommand(o: ReconcileCommandOptions, io: Io): Promise<number> {
  const ledger = openExistingLedger(o.db, io, { readonly: false });
  try {
    if (o.rate !== undefined && !(o.rate > 0)) throw new AppError('ERR_USAGE', `--rate must be positive, got ${o.rate}`);
    const run = runStoreOf(ledger).getRun(o.runId);
    if (run.sandbox && (io.env.TELNYX_BASE_URL ?? '').trim() === '') {
      throw new AppError(
        'ERR_USAGE',
        `run ${run.runId} was a sandbox run: its messages lived in the built-in simulator, which is gone. Point TELNYX_BASE_URL at a running \`bulktext simulator\` to reconcile against it.`,
      );
    }
    const client = createTelnyxClient({ apiKey: requireApiKey(io.env), baseUrl: resolveBaseUrl(io.env), connections: 8 });
    let result: ReconcileResult;
    try {
      result = await reconcileRun(ledger, run.runId, {
        client,
        ratePerSecond: o.rate ?? runRate(run.jobSpec) ?? 10,
        signal: io.signal,
      });
    } catch (err) {
      if (io.signal.aborted) {
        throw new AppError('ERR_INTERRUPTED', 'reconcile interrupted; what it found so far is in the ledger, run it again for the rest', { cause: err });
      }
      throw err;
    } finally {
      await client.close().catch(() => {});
    }
    io.stdout(o.json ? `${JSON.stringify(result)}\n` : describeReconcile(result));
    return result.failed.length > 0 ? ExitCode.someFailed : ExitCode.ok;
  } finally {
    ledger.close();
  }
}
