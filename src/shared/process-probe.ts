/**
 * Which process is this, and is another one alive? Used to tell a run or a scheduler daemon whose process
 * died from one still at work. Probing a pid with signal 0 inspects; it controls nothing.
 */
import { hostname } from 'node:os';

export function currentProcess(): { pid: number; host: string } {
  return { pid: process.pid, host: hostname() };
}

/** Whether a process with this pid exists on this host (EPERM: it exists but is not ours). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
