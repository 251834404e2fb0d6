/** Gauges about the scheduler daemon itself, read from it at scrape time. */
import { Gauge, type Registry } from 'prom-client';

export interface SchedulerMetricsSource {
  /** Each job's next slot, and whether it is sending (or resuming) a run now. */
  nextFirings(): readonly { job: string; next: number | undefined; running: boolean }[];
  health(): { ok: boolean };
  /** Whether this daemon leads (fires slots) among the daemons on its ledger. */
  leading(): boolean;
}

export function createSchedulerMetrics(registry: Registry, scheduler: SchedulerMetricsSource): void {
  new Gauge({
    name: 'bulktext_schedule_next_firing_timestamp_seconds',
    help: 'The next slot of each scheduled job (unix seconds)',
    labelNames: ['job'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const f of scheduler.nextFirings()) if (f.next !== undefined) this.set({ job: f.job }, f.next / 1000);
    },
  });
  new Gauge({
    name: 'bulktext_schedule_job_running',
    help: 'Whether a scheduled job is sending (or resuming) a run now (1) or idle (0)',
    labelNames: ['job'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const f of scheduler.nextFirings()) this.set({ job: f.job }, f.running ? 1 : 0);
    },
  });
  new Gauge({
    name: 'bulktext_scheduler_healthy',
    help: 'Whether the scheduler loop is alive and the ledger takes writes (1), as /healthz reports',
    registers: [registry],
    collect() {
      this.set(scheduler.health().ok ? 1 : 0);
    },
  });
  new Gauge({
    name: 'bulktext_scheduler_leader',
    help: 'Whether this scheduler leads (1: it fires the slots) or stands by (0) among the schedulers on its ledger',
    registers: [registry],
    collect() {
      this.set(scheduler.leading() ? 1 : 0);
    },
  });
}
