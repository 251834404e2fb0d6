import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { daemonAlive, markDaemonGone, markDaemonLive } from '../../../src/scheduler/liveness.js';

const now = 1_000_000_000;
const base = { heartbeatAt: now, stoppedAt: null };

describe('daemonAlive', () => {
  it('a daemon in this process is alive exactly while it is marked live', () => {
    const d = { ...base, daemonId: 'here-1', pid: process.pid, host: hostname() };
    expect(daemonAlive(d, now, 60_000)).toBe(false);
    markDaemonLive('here-1');
    expect(daemonAlive(d, now, 60_000)).toBe(true);
    // Its heartbeat does not matter: this process knows.
    expect(daemonAlive({ ...d, heartbeatAt: 0 }, now, 60_000)).toBe(true);
    markDaemonGone('here-1');
    expect(daemonAlive(d, now, 60_000)).toBe(false);
  });

  it('a stopped daemon is dead whatever else is true', () => {
    markDaemonLive('here-2');
    expect(daemonAlive({ ...base, daemonId: 'here-2', pid: process.pid, host: hostname(), stoppedAt: now - 1 }, now, 60_000)).toBe(false);
    markDaemonGone('here-2');
  });

  it('on this host: alive when its pid is and its heartbeat is fresh', () => {
    // The parent of this process is alive; a pid above the kernel's maximum is not.
    const parent = { ...base, daemonId: 'p', pid: process.ppid, host: hostname() };
    expect(daemonAlive(parent, now, 60_000)).toBe(true);
    expect(daemonAlive({ ...parent, heartbeatAt: now - 60_001 }, now, 60_000)).toBe(false);
    expect(daemonAlive({ ...parent, pid: 2 ** 22 + 1 }, now, 60_000)).toBe(false);
  });

  it('on another host: only a fresh heartbeat counts', () => {
    const remote = { ...base, daemonId: 'r', pid: 1, host: 'elsewhere.invalid' };
    expect(daemonAlive(remote, now, 60_000)).toBe(true);
    expect(daemonAlive({ ...remote, heartbeatAt: now - 120_000 }, now, 60_000)).toBe(false);
  });
});
