/**
 * `status` of a run on the PostgreSQL ledger: the same status object (status.ts's RunStatus) read from the
 * totals the schema's triggers keep. A run is `running` while its owner or a worker holding its rows is
 * alive (heartbeat within its lease, or a live process on this host); else a `running` row is interrupted.
 */
import { tallyDelivery } from '../ledger/delivery-store.js';
import type { ReasonCount } from '../ledger/read-model.js';
import type { StatusCounts } from '../ledger/message-store.js';
import { messageStoreOf } from '../ledger/message-store.js';
import type { PgLedger } from '../ledger/pg/pg-ledger.js';
import { pgWorkerStoreOf } from '../ledger/pg/worker-store.js';
import type { RunRecord } from '../ledger/run-store.js';
import { sumCost } from '../shared/money.js';
import { describeCode } from '../telnyx/codes.js';
import { localProbe } from './pg-worker.js';
import { statusObject, type FailureLine, type PublicRunState, type RunStatus } from './status.js';

/** Whether a live worker (its owner included) is at work on the run. */
export async function pgRunIsLive(pg: PgLedger, run: RunRecord): Promise<boolean> {
  if (run.state !== 'running' && run.state !== 'ingesting') return false;
  return pgWorkerStoreOf(pg).busyOn(run.rid, run.ownerHost === null || run.ownerPid === null ? null : { host: run.ownerHost, pid: run.ownerPid }, localProbe());
}

export async function pgPublicState(pg: PgLedger, run: RunRecord): Promise<PublicRunState> {
  if (run.state === 'completed' || run.state === 'aborted' || run.state === 'interrupted' || run.state === 'cancelled') return run.state;
  return (await pgRunIsLive(pg, run)) ? 'running' : 'interrupted';
}

export async function pgRunStatus(pg: PgLedger, run: RunRecord, known?: StatusCounts): Promise<RunStatus> {
  const counts = known ?? (await messageStoreOf(pg).counts(run.rid));
  const sent = await messageStoreOf(pg).sentTotals(run.rid);
  const delivery = tallyDelivery(sent.map((t) => ({ status: t.deliveryStatus, n: t.n })));
  const costs = new Map<string, { count: number; price: string }[]>();
  let parts = 0;
  for (const t of sent) {
    parts += t.parts;
    if (t.price !== '') costs.set(t.currency, [...(costs.get(t.currency) ?? []), { count: t.n, price: t.price }]);
  }
  const [currency, lines] = [...costs.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? [null, []];
  return statusObject(run, await pgPublicState(pg, run), counts, {
    delivery,
    parts,
    cost: currency === null ? { amount: '0.0000', currency: null } : { amount: sumCost(lines), currency: currency || null },
    estimate: null,
  });
}

/** Why the run's rows failed and were skipped, from the totals: what describeStatus prints. */
export async function pgStatusDetail(pg: PgLedger, rid: number): Promise<{ failures: FailureLine[]; skipped: ReasonCount[] }> {
  const rows = messageStoreOf(pg);
  const failures = (await rows.byCode(rid, 'failed')).map((g) => ({ stage: 'send' as const, status: 'failed', ...g, ...describeCode(g.code) }));
  const skipped = (await rows.byCode(rid, 'skipped')).map((g) => ({ reason: g.code, count: g.count }));
  return { failures, skipped };
}
