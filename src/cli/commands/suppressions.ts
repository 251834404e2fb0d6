/**
 * `bulktext suppressions`: the ledger's suppression list (STOP replies, 40300 refusals, manual entries),
 * with where each entry came from. `add`/`remove` manage manual entries.
 */
import { addSuppression, listSuppressions } from '../../campaign/suppressions.js';
import { openExistingLedger } from '../ledger-file.js';
import { AppError } from '../../shared/errors.js';
import { E164 } from '../../telnyx/wire.js';
import type { Io } from '../io.js';
import { suppressionStoreOf } from '../../ledger/suppression-store.js';

export interface SuppressionsOptions {
  db?: string | undefined;
  json: boolean;
  /** E.164 numbers to add as `manual`. */
  add?: readonly string[] | undefined;
  /** E.164 numbers to remove, whatever their source. */
  remove?: readonly string[] | undefined;
}

export function suppressionsCommand(o: SuppressionsOptions, io: Io): number {
  const changes = [...(o.add ?? []), ...(o.remove ?? [])];
  for (const n of changes) {
    if (!E164.test(n)) throw new AppError('ERR_USAGE', `"${n}" is not an E.164 number such as +14155550101`);
  }
  // Listing only reads: it works on a read-only ledger.
  const ledger = openExistingLedger(o.db, io, { readonly: changes.length === 0 });
  try {
    const now = Date.now();
    for (const n of o.add ?? []) addSuppression(ledger, n, 'manual', 'added with bulktext suppressions --add', now);
    for (const n of o.remove ?? []) suppressionStoreOf(ledger).removeSuppression(n, ['stop_reply', '40300', 'manual']);
    const list = listSuppressions(ledger);
    if (o.json) {
      io.stdout(`${JSON.stringify(list.map((s) => ({ number: s.number, source: s.source, detail: s.detail, added_at: new Date(s.addedAt).toISOString() })))}\n`);
    } else if (list.length === 0) {
      io.stdout('no suppressions\n');
    } else {
      for (const s of list) {
        io.stdout(`${s.number.padEnd(16)} ${s.source.padEnd(10)} ${new Date(s.addedAt).toISOString()}${s.detail === null ? '' : `  ${s.detail}`}\n`);
      }
    }
    return 0;
  } finally {
    ledger.close();
  }
}
