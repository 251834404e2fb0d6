/**
 * Is a scheduler daemon that claimed a slot still at work? A slot's claim names its daemon, and the
 * daemon's row says which process on which host runs it. A claim by a dead daemon must not block the
 * job for ever (its run is resumed instead), and a claim by a live one must block it (no overlap).
 *
 */
import type { DaemonRecord } from '../ledger/slot-store.js';
import { currentProcess, processAlive } from '../shared/process-probe.js';

export { currentProcess };
export type { DaemonRecord };

/** Daemons running in this process now (a process may run several, as tests do). */
const liveHere = new Set<string>();

export function markDaemonLive(daemonId: string): void {
  liveHere.add(daemonId);
}

export function markDaemonGone(daemonId: string): void {
  liveHere.delete(daemonId);
}

/**
 * Whether the daemon is still running. In this process: whether it has not stopped. On this host:
 * its pid is alive and its heartbeat is fresh (a stale heartbeat catches a pid reused after a
 * reboot). On another host we cannot look: a fresh heartbeat is the only evidence.
 */
export function daemonAlive(d: DaemonRecord, now: number, staleAfterMs: number): boolean {
  if (d.stoppedAt !== null) return false;
  const { pid: self, host: here } = currentProcess();
  if (d.host === here && d.pid === self) return liveHere.has(d.daemonId);
  const fresh = now - d.heartbeatAt <= staleAfterMs;
  if (d.host === here) return fresh && processAlive(d.pid);
  return fresh;
}
