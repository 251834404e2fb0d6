// Preloaded into a measured process (node --import): at exit, writes its peak RSS (VmHWM, kB) and the
// CPU time it used (user and system, µs, all threads) as JSON to $BENCH_HWM_FILE. Reading
// /proc/self/status once at exit costs nothing while the process works.
// With $BENCH_MEM_TRACE set, also appends process.memoryUsage() every 500 ms there (for diagnosis).
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';

const out = process.env.BENCH_HWM_FILE;
if (out) {
  process.on('exit', () => {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    const cpu = process.cpuUsage();
    writeFileSync(out, JSON.stringify({ hwmKb: m ? Number(m[1]) : null, userUs: cpu.user, systemUs: cpu.system }));
  });
}
const trace = process.env.BENCH_MEM_TRACE;
if (trace) {
  const t0 = Date.now();
  setInterval(() => {
    const u = process.memoryUsage();
    const mb = (x) => Math.round(x / 1048576);
    appendFileSync(trace, `${Date.now() - t0} rss=${mb(u.rss)} heapTotal=${mb(u.heapTotal)} heapUsed=${mb(u.heapUsed)} external=${mb(u.external)} arrayBuffers=${mb(u.arrayBuffers)}\n`);
  }, 500).unref();
}
