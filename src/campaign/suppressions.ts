/**
 * The ledger's suppression table: numbers that replied STOP (webhooks), that Telnyx refused with 40300,
 * or that an operator added. Every run honours it as if it were part of the job's suppression file.
 */
import type { SuppressionRecord, SuppressionSource } from '../ledger/suppression-store.js';
import type { Ledger } from '../ledger/ledger.js';
import { suppressionStoreOf } from '../ledger/suppression-store.js';

export type { SuppressionRecord, SuppressionSource };

/**
 * Adds a number (e.g. when a send is rejected with 40300). An entry that exists already is kept as it
 * is. Returns true if the number was added.
 */
export function addSuppression(ledger: Ledger, number: string, source: SuppressionSource, detail: string | null, now = Date.now()): boolean {
  return suppressionStoreOf(ledger).addSuppression(number, source, detail, now);
}

/** Every suppressed number with where it came from, oldest first. */
export function listSuppressions(ledger: Ledger): SuppressionRecord[] {
  return suppressionStoreOf(ledger).suppressions();
}

/** The suppressed numbers, for a run to skip (reason `suppressed`). */
export function loadSuppressedSet(ledger: Ledger): Set<string> {
  return new Set(suppressionStoreOf(ledger).suppressedNumbers());
}

export interface SuppressionWatch {
  has(number: string): boolean;
  /** Adds a number now (and to the ledger), without waiting for the next refresh. */
  add(number: string, source: SuppressionSource, detail: string | null): void;
  stop(): void;
}

/**
 * The suppression table as a run sees it while it sends: re-read every few seconds, so a STOP that a
 * webhook receiver (in this process or another) records during a long run is honoured for the rows
 * not yet sent.
 */
export function watchSuppressions(ledger: Ledger, refreshMs = 5000): SuppressionWatch {
  let numbers = loadSuppressedSet(ledger);
  const timer = setInterval(() => {
    numbers = loadSuppressedSet(ledger);
  }, refreshMs);
  timer.unref();
  return {
    has: (n) => numbers.has(n),
    add(number, source, detail) {
      numbers.add(number);
      addSuppression(ledger, number, source, detail);
    },
    stop: () => clearInterval(timer),
  };
}
