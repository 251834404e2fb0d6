/** One instance per open ledger (a store, a read model), so the statements it prepares are prepared once. */
import type { Ledger } from './ledger.js';

export function perLedger<T extends object, L extends object = Ledger>(create: (ledger: L) => T): (ledger: L) => T {
  const made = new WeakMap<L, T>();
  return (ledger) => {
    let it = made.get(ledger);
    if (it === undefined) {
      it = create(ledger);
      made.set(ledger, it);
    }
    return it;
  };
}
