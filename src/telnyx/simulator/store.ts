/**
 * What the simulator accepted, kept lean because benchmarks send a million messages: one record per
 * message with its lifecycle as timestamps (a status is computed when asked, no timers per
 * message), a recipient index that holds a record directly until a second one arrives, and accept
 * times in a growing Float64Array rather than an array of objects.
 */
import type { ResolvedOutcome, SenderType } from './config.js';

export interface SimRecord {
  readonly id: string;
  readonly type: 'SMS' | 'MMS';
  readonly from: string;
  readonly senderType: SenderType;
  readonly to: readonly string[];
  /** Parallel to `to`. */
  readonly outcomes: readonly ResolvedOutcome[];
  readonly profileId: string;
  readonly text: string | undefined;
  readonly subject: string | undefined;
  readonly media: readonly string[];
  readonly parts: number;
  readonly encoding: 'GSM-7' | 'UCS-2';
  /** Epoch ms. */
  readonly receivedAt: number;
  /** Leaves the queue (status `sending`); for a scheduled message, its send_at. */
  readonly departAt: number;
  readonly sentAt: number;
  readonly finalAt: number;
  /** Time the message had left before being discarded from the queue (`valid_until`). */
  readonly validUntil: number;
  readonly sendAt: number | undefined;
  cancelledAt: number | undefined;
  /** Formatted amount, e.g. "0.0080". */
  readonly cost: string;
  /** The same amount in 10^-scale units, for refunds on cancel. */
  readonly costUnits: number;
  readonly currency: string;
  readonly costAtSend: boolean;
  readonly webhookUrl: string | undefined;
  readonly webhookFailoverUrl: string | undefined;
}

/** Everything the store counts, for `/__sim/stats`. */
export interface StoreCounts {
  accepted: number;
  recipients: number;
  bySender: Record<string, number>;
}

class TimestampLog {
  #values = new Float64Array(1024);
  #length = 0;

  push(t: number): void {
    if (this.#length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#length++] = t;
  }

  /** A copy, so the caller can keep it while sends continue. */
  snapshot(): Float64Array {
    return this.#values.slice(0, this.#length);
  }

  get length(): number {
    return this.#length;
  }
}

export class MessageStore {
  #byId = new Map<string, SimRecord>();
  #byRecipient = new Map<string, SimRecord | SimRecord[]>();
  #bySender = new Map<string, number>();
  #acceptedAt = new TimestampLog();

  /** @param acceptedAt high-resolution epoch ms (performance.timeOrigin + performance.now()) */
  add(record: SimRecord, acceptedAt: number): void {
    this.#byId.set(record.id, record);
    for (const to of record.to) {
      const held = this.#byRecipient.get(to);
      if (held === undefined) this.#byRecipient.set(to, record);
      else if (Array.isArray(held)) held.push(record);
      else this.#byRecipient.set(to, [held, record]);
    }
    this.#bySender.set(record.from, (this.#bySender.get(record.from) ?? 0) + 1);
    this.#acceptedAt.push(acceptedAt);
  }

  get(id: string): SimRecord | undefined {
    return this.#byId.get(id);
  }

  byRecipientCount(to: string): number {
    const held = this.#byRecipient.get(to);
    return held === undefined ? 0 : Array.isArray(held) ? held.length : 1;
  }

  byRecipient(to: string): SimRecord[] {
    const held = this.#byRecipient.get(to);
    if (held === undefined) return [];
    return Array.isArray(held) ? [...held] : [held];
  }

  all(): IterableIterator<SimRecord> {
    return this.#byId.values();
  }

  get count(): number {
    return this.#byId.size;
  }

  /** Messages accepted per recipient number (a group MMS counts once for each of its recipients). */
  recipientCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [to, held] of this.#byRecipient) counts[to] = Array.isArray(held) ? held.length : 1;
    return counts;
  }

  counts(): StoreCounts {
    return { accepted: this.#byId.size, recipients: this.#byRecipient.size, bySender: Object.fromEntries(this.#bySender) };
  }

  acceptedTimestamps(): Float64Array {
    return this.#acceptedAt.snapshot();
  }

  clear(): void {
    this.#byId.clear();
    this.#byRecipient.clear();
    this.#bySender.clear();
    this.#acceptedAt = new TimestampLog();
  }
}
