/**
 * Delivery figures for `status`: counts by final delivery status. Read-only. The report's delivery
 * columns come with each row (Ledger#messages); the run's cost, final where a receipt gave it, is
 * `planVsActual(...).actual.cost`.
 */
import { deliveryStoreFor, type DeliveryCounts } from '../ledger/delivery-store.js';
import type { Ledger } from '../ledger/ledger.js';

export type { DeliveryCounts };

/** `status --json`'s `delivery` object: accepted rows by what Telnyx finally said; `awaiting` has no final word yet. */
export function deliveryCounts(ledger: Ledger, rid: number): DeliveryCounts {
  return deliveryStoreFor(ledger).deliveryCounts(rid);
}
