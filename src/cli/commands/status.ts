import { runStatus } from '../../campaign/status.js';
import { formatBytes } from '../../plan/format-plan.js';
import type { Io } from '../io.js';
import { openExistingLedger, pgUrlOf } from '../ledger-file.js';
import { statusOnPg, withPgLedger } from '../pg-commands.js';
import { hintFor } from '../hints.js';
import { statusListLine } from '../run-lines.js';
import { describeStatus, statusDetail } from '../send-run.js';
import { runStoreOf } from '../../ledger/run-store.js';
import { maintenanceOf } from '../../ledger/maintenance.js';

export interface StatusOptions {
  runId?: string | undefined;
  db?: string | undefined;
  json: boolean;
}

export async function statusCommand(o: StatusOptions, io: Io): Promise<number> {
  const pgUrl = pgUrlOf(o.db, io);
  if (pgUrl !== undefined) return withPgLedger(pgUrl, (pg) => statusOnPg(pg, o.runId, { json: o.json, hint: hintFor(o.db, io) }, io));
  const ledger = openExistingLedger(o.db, io);
  try {
    if (o.runId !== undefined) {
      const run = runStoreOf(ledger).getRun(o.runId);
      const status = runStatus(ledger, run);
      io.stdout(o.json ? `${JSON.stringify(status)}\n` : describeStatus(status, statusDetail(ledger, run.rid, hintFor(o.db, io))));
      return 0;
    }
    const all = runStoreOf(ledger).listRuns().map((run) => runStatus(ledger, run));
    if (o.json) {
      io.stdout(`${JSON.stringify(all)}\n`);
    } else if (all.length === 0) {
      io.stdout('no runs yet\n');
    } else {
      for (const s of all) io.stdout(statusListLine(s));
      io.stdout(`ledger ${ledger.path}: ${formatBytes(maintenanceOf(ledger).sizeBytes())}\n`);
    }
    return 0;
  } finally {
    ledger.close();
  }
}
