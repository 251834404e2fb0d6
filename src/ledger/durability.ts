/**
 * When a ledger commit is on disk. Every commit is fsynced (WAL with synchronous=FULL), so a committed
 * `sending` mark survives a killed process *and* a power loss or kernel crash — which is what lets us
 * promise never to text anyone twice: a row whose request may be on the wire is on disk as `sending`
 * first. NORMAL would survive a killed process but could roll back the last commits on power loss,
 * re-opening rows that were already sent.
 *
 * Deferred durability (the dispatcher's batches only, when it asks through `deferDurability`): the batch
 * is committed with synchronous=NORMAL and the WAL is then fsynced on libuv's thread pool; the caller gets
 * a promise for that fsync and must not act on the batch (write a request) before it resolves. The
 * guarantee is the one FULL gives — the commit is on disk before anything depends on it — but the event
 * loop no longer stops for an fsync per commit (most of a send's ledger cost on a busy machine), and
 * commits that wait for one fsync share it. Every other write stays FULL.
 */
import { close as closeFd, fdatasync, openSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { AppError } from '../shared/errors.js';

export class WalDurability {
  readonly #path: string;
  readonly #syncNormal: Database.Statement;
  readonly #syncFull: Database.Statement;
  /** WAL mode is on (not e.g. ':memory:'): only then can an fsync of the WAL file make a commit durable. */
  readonly wal: boolean;
  #walFd: number | undefined;
  /** Deferred commits written so far / covered by a finished fsync. */
  #written = 0;
  #synced = 0;
  #syncing = false;
  #closed = false;
  #waiters: { upTo: number; resolve: () => void; reject: (err: unknown) => void }[] = [];

  constructor(db: Database.Database, path: string, writable: boolean) {
    this.#path = path;
    this.wal = writable && db.pragma('journal_mode', { simple: true }) === 'wal';
    this.#syncNormal = db.prepare('PRAGMA synchronous = NORMAL');
    this.#syncFull = db.prepare('PRAGMA synchronous = FULL');
  }

  /** Runs a write committed with synchronous=NORMAL (its durability comes later, see its callers). */
  unsynced(write: () => void): void {
    this.#syncNormal.run();
    try {
      write();
    } finally {
      this.#syncFull.run();
    }
  }

  /** A promise for an fsync of the WAL that starts after everything written so far. */
  durable(): Promise<void> {
    const upTo = ++this.#written;
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ upTo, resolve, reject }));
    this.#sync();
    return done;
  }

  /** The ledger closed: the WAL's descriptor goes now, or when an fsync still running on it ends. */
  close(): void {
    this.#closed = true;
    if (!this.#syncing) this.#closeFd();
  }

  #sync(): void {
    if (this.#syncing || this.#synced >= this.#written) return;
    let fd: number;
    try {
      this.#walFd ??= openSync(`${this.#path}-wal`, 'r');
      fd = this.#walFd;
    } catch (err) {
      this.#fail(err);
      return;
    }
    const upTo = this.#written;
    this.#syncing = true;
    fdatasync(fd, (err) => {
      this.#syncing = false;
      if (this.#closed) this.#closeFd();
      if (err !== null) {
        this.#fail(err);
        return;
      }
      this.#synced = upTo;
      const waiting = this.#waiters;
      this.#waiters = [];
      for (const w of waiting) {
        if (w.upTo <= upTo) w.resolve();
        else this.#waiters.push(w);
      }
      this.#sync();
    });
  }

  #fail(err: unknown): void {
    const waiting = this.#waiters;
    this.#waiters = [];
    const error = new AppError('ERR_LEDGER_IO', `cannot make the ledger ${this.#path} durable (fsync of its WAL failed): ${(err as Error).message}`, { cause: err });
    for (const w of waiting) w.reject(error);
  }

  #closeFd(): void {
    if (this.#walFd === undefined) return;
    closeFd(this.#walFd, () => {});
    this.#walFd = undefined;
  }
}
