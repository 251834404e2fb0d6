/**
 * A port's answer: a plain value from a backend that answers in-process (SQLite, where the dispatcher's
 * ledger calls are the hot path), a Promise from one that answers over the network (PostgreSQL). Callers
 * branch on `isPromise` instead of always awaiting, so the synchronous backend never pays a microtask.
 */
export type MaybePromise<T> = T | Promise<T>;

/** Whether a port answered later (a Promise, or any thenable) rather than now. */
export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Applies `then` to the answer now when it is a plain value, or once it resolves: a synchronous port stays synchronous. */
export function andThen<T, U>(value: MaybePromise<T>, then: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return isPromise(value) ? value.then(then) : then(value);
}
