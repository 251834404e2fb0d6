/** One report line per input row: the columns `bulktext report` prints and the library's reportRows() yields. */
import type { MessageRecord } from '../ledger/ledger.js';

export const reportColumns = [
  'row', 'to', 'from', 'status', 'message_id', 'parts', 'cost', 'currency', 'attempts', 'error_code', 'error_detail', 'sent_at',
  'delivery_status', 'delivery_error_code', 'delivered_at',
] as const;

export type ReportRow = Record<(typeof reportColumns)[number], string | number | null>;

export function reportRow(m: MessageRecord): ReportRow {
  return {
    row: m.row,
    to: m.to,
    from: m.fromNumber ?? m.sender,
    status: m.status,
    message_id: m.messageId,
    parts: m.parts,
    cost: m.cost,
    currency: m.currency,
    attempts: m.attempts,
    error_code: m.errorCode,
    error_detail: m.errorDetail,
    sent_at: m.sentAt === null ? null : new Date(m.sentAt).toISOString(),
    delivery_status: m.deliveryStatus,
    delivery_error_code: m.deliveryErrorCode,
    delivered_at: m.deliveredAt === null ? null : new Date(m.deliveredAt).toISOString(),
  };
}
