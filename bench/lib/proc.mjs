/** Spawning the bulktext CLI (the real `run` / `resume` path) and measuring it from outside. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OUT } from './gen.mjs';

const BIN = fileURLToPath(new URL('../../bin/bulktext.js', import.meta.url));
const PROBE = fileURLToPath(new URL('./hwm-probe.mjs', import.meta.url));

let counter = 0;

/** What hwm-probe.mjs wrote at exit (nothing when the process was killed). */
function readProbe(file) {
  if (!existsSync(file)) return { peakMb: null, cpuMs: null };
  try {
    const p = JSON.parse(readFileSync(file, 'utf8'));
    return { peakMb: p.hwmKb === null ? null : p.hwmKb / 1024, cpuMs: (p.userUs + p.systemUs) / 1000 };
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * Runs `bulktext <args>` against the simulator at `sim.url`. Resolves with exit code, stdout, stderr,
 * wall time, spawn epoch ms and peak RSS in MB. `onSpawn(child)` lets a caller kill it.
 */
export function bulktext(args, { sim, env = {}, onSpawn, nodeArgs = [], discardStdout = false } = {}) {
  const hwmFile = path.join(OUT, `hwm-${process.pid}-${++counter}.txt`);
  rmSync(hwmFile, { force: true });
  const spawnedAt = performance.timeOrigin + performance.now();
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', PROBE, ...nodeArgs, BIN, ...args], {
    env: {
      ...process.env,
      ...(sim === undefined ? {} : { TELNYX_BASE_URL: sim.url, TELNYX_API_KEY: 'bench-key' }),
      BENCH_HWM_FILE: hwmFile,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  // discardStdout: read and drop it (a 10M-row report is gigabytes), counting its bytes.
  let stdoutBytes = 0;
  child.stdout.on('data', (d) => {
    stdoutBytes += d.length;
    if (!discardStdout) stdout += d;
  });
  child.stderr.on('data', (d) => (stderr += d));
  onSpawn?.(child);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const wallMs = performance.now() - t0;
      const { peakMb, cpuMs } = readProbe(hwmFile);
      resolve({ code, signal, stdout, stdoutBytes, stderr, wallMs, spawnedAt, peakMb, cpuMs, pid: child.pid });
    });
  });
}

/** Runs a plain node script (a baseline) the same way, with the same peak-RSS probe. */
export function nodeScript(script, args, { env = {}, nodeArgs = [] } = {}) {
  const hwmFile = path.join(OUT, `hwm-${process.pid}-${++counter}.txt`);
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', PROBE, ...nodeArgs, script, ...args], {
    env: { ...process.env, BENCH_HWM_FILE: hwmFile, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const { peakMb, cpuMs } = readProbe(hwmFile);
      resolve({ code, stdout, stderr, wallMs: performance.now() - t0, peakMb, cpuMs });
    });
  });
}

/** Throws with the process's output when it did not exit as expected. */
export function expectExit(result, codes, what) {
  if (!codes.includes(result.code)) {
    throw new Error(`${what} exited ${result.code}${result.signal ? ` (${result.signal})` : ''}\n${result.stderr.slice(-3000)}`);
  }
  return result;
}
