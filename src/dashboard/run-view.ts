/**
 * What the dashboard shows of one run, built from the ledger and kept per run between requests: the
 * status object (the same `status --json` prints, so the page and the CLI agree), why rows failed or were
 * skipped, the rows in doubt, and the time series. The series come from the ledger's per-second totals:
 * the first look reads the run's last hour of them, later looks the last two minutes (late commits and
 * receipts land there), so neither costs a read of the whole run.
 */
import { runFailures, runStatus, skippedByReason, type FailureLine, type RunStatus } from '../campaign/status.js';
import type { Ledger } from '../ledger/ledger.js';
import type { RunRecord } from '../ledger/run-store.js';
import { readModelFor, type ReasonCount, type UnknownRowView } from '../ledger/read-model.js';
import { commandHint, type CommandHint } from '../shared/command-line.js';
import { runStoreOf } from '../ledger/run-store.js';

/** Rows in doubt listed on the page; the report link lists them all. */
const UNKNOWN_SHOWN = 50;
/** The window per-sender rates are measured over. */
const SENDER_WINDOW_MS = 10_000;
/** Attempts are committed, and receipts arrive, up to this late: the last stretch of the series is re-read each time. */
const REREAD_S = 120;
/** The chart shows the last hour of a run, a point a second. */
export const SERIES_SPAN_S = 3600;
/** Attempts read per refresh for the per-sender window (a second of a fast run is a few thousand). */
const SENDER_BATCH = 100_000;

export interface SenderRate {
  sender: string;
  /** Messages per second over the last SENDER_WINDOW_MS. */
  rate: number;
  limit: number;
}

export interface RunView {
  status: RunStatus;
  progress: { done: number; toSend: number; remaining: number; percent: number; etaSeconds: number | null };
  /** Over the last 10 s: requests at the wire and final receipts per second. */
  rates: { wire: number; deliveries: number };
  failures: FailureLine[];
  skipped: ReasonCount[];
  unknown: { rows: UnknownRowView[]; more: number; list: string; resend: string };
  senders: SenderRate[];
  series: { t: number[]; wire: number[]; deliveries: number[] };
  reportLinks: { label: string; href: string }[];
  /** Epoch ms the view was built. */
  at: number;
}

interface JobLimits {
  senders: string[];
  perSender: number;
}

function limitsOf(run: RunRecord): JobLimits {
  try {
    const spec = JSON.parse(run.jobSpec) as { sender?: { from?: string | string[]; messaging_profile_id?: string }; rate?: { per_sender_per_second?: number } };
    const from = spec.sender?.from;
    const senders = from === undefined ? (spec.sender?.messaging_profile_id === undefined ? [] : [spec.sender.messaging_profile_id]) : Array.isArray(from) ? from : [from];
    return { senders, perSender: spec.rate?.per_sender_per_second ?? 0 };
  } catch {
    return { senders: [], perSender: 0 };
  }
}

/** One run's incremental state: the series read so far, and the attempts of the per-sender window. */
class RunSeries {
  #wire = new Map<number, number>();
  #deliveries = new Map<number, number>();
  /** The latest second read; undefined before the first look. */
  #readTo: number | undefined;
  #senderFrom: number | undefined;
  #window: { at: number; sender: string | null }[] = [];

  refresh(ledger: Ledger, rid: number, now: number): void {
    const model = readModelFor(ledger);
    // The per-sender window starts at the first look: a finished run's old attempts are not "the last 10 s".
    if (this.#senderFrom === undefined) this.#senderFrom = model.lastAttemptId();
    else {
      for (const a of model.attemptsSince(rid, this.#senderFrom, SENDER_BATCH)) {
        this.#window.push({ at: a.startedAt, sender: a.sender });
        this.#senderFrom = a.id;
      }
    }
    this.#window = this.#window.filter((a) => a.at > now - SENDER_WINDOW_MS);
    const last = this.#readTo ?? model.lastSecond(rid);
    if (last === undefined) return;
    const from = this.#readTo === undefined ? last - SERIES_SPAN_S + 1 : last - REREAD_S;
    for (const map of [this.#wire, this.#deliveries]) for (const second of map.keys()) if (second >= from) map.delete(second);
    for (const s of model.perSecond(rid, from)) {
      if (s.wire > 0) this.#wire.set(s.second, s.wire);
      if (s.delivered > 0) this.#deliveries.set(s.second, s.delivered);
      this.#readTo = Math.max(this.#readTo ?? s.second, s.second);
    }
    // The chart shows the last hour: older points are dropped, so a long-lived page holds an hour at most.
    const keep = (this.#readTo ?? last) - SERIES_SPAN_S;
    for (const map of [this.#wire, this.#deliveries]) for (const second of map.keys()) if (second <= keep) map.delete(second);
  }

  senderRates(limits: JobLimits): SenderRate[] {
    const counts = new Map<string, number>(limits.senders.map((s) => [s, 0]));
    for (const a of this.#window) if (a.sender !== null) counts.set(a.sender, (counts.get(a.sender) ?? 0) + 1);
    return [...counts].map(([sender, n]) => ({ sender, rate: n / (SENDER_WINDOW_MS / 1000), limit: limits.perSender }));
  }

  /** Per-second points of the last `span` seconds with data, gaps filled with 0. */
  series(span: number): RunView['series'] {
    let end = -Infinity;
    let first = Infinity;
    for (const map of [this.#wire, this.#deliveries]) {
      for (const s of map.keys()) {
        if (s > end) end = s;
        if (s < first) first = s;
      }
    }
    if (end === -Infinity) return { t: [], wire: [], deliveries: [] };
    const start = Math.max(first, end - span + 1);
    const t: number[] = [];
    const wire: number[] = [];
    const deliveries: number[] = [];
    for (let s = start; s <= end; s++) {
      t.push(s);
      wire.push(this.#wire.get(s) ?? 0);
      deliveries.push(this.#deliveries.get(s) ?? 0);
    }
    return { t, wire, deliveries };
  }

  /** Mean per second over the last `seconds` full seconds before `now`. */
  recentRate(which: 'wire' | 'deliveries', now: number, seconds = 10): number {
    const map = which === 'wire' ? this.#wire : this.#deliveries;
    const end = Math.floor(now / 1000);
    let n = 0;
    for (let s = end - seconds; s < end; s++) n += map.get(s) ?? 0;
    return n / seconds;
  }
}

export interface RunViewsOptions {
  /** Builds the commands the page suggests (keeps the dashboard's --db). @default bulktext with no --db */
  hint?: CommandHint;
  /** A view younger than this is served as it is. @default 1000 */
  maxAgeMs?: number;
  now?: () => number;
}

/**
 * A view that took this many times its build time ago is rebuilt: a large run's counts take a while to
 * read, and the dashboard should not spend more than a sixth of a core re-reading them.
 */
const COST_FACTOR = 5;

interface Cached<T> {
  value: T;
  builtAt: number;
  costMs: number;
  /** The ledger's data_version when built: unchanged means nothing was committed since. */
  version: number;
}

/**
 * The views of every run the dashboard has been asked about. A view is rebuilt only when the ledger has
 * changed since (another connection committed) and it is older than `maxAgeMs` and five times what it
 * took to build; so a finished run on a quiet ledger costs nothing per request, however large it is.
 */
export class RunViews {
  readonly #ledger: Ledger;
  readonly #hint: CommandHint;
  readonly #maxAge: number;
  readonly #now: () => number;
  readonly #series = new Map<number, RunSeries>();
  readonly #views = new Map<string, Cached<RunView>>();
  readonly #statuses = new Map<number, Cached<RunStatus>>();

  constructor(ledger: Ledger, options: RunViewsOptions = {}) {
    this.#ledger = ledger;
    this.#hint = options.hint ?? commandHint();
    this.#maxAge = options.maxAgeMs ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  /** The status object of a run (as `status --json`): the runs list shows many. */
  status(run: RunRecord): RunStatus {
    return this.#cached(this.#statuses, run.rid, () => runStatus(this.#ledger, run));
  }

  /** The run's whole view; undefined when there is no such run. */
  view(runId: string): RunView | undefined {
    const run = runStoreOf(this.#ledger).findRun(runId);
    if (run === undefined) return undefined;
    const view = this.#cached(this.#views, runId, () => this.#build(run, this.#now()));
    // The runs list then shows the same figures without reading them again.
    const built = this.#views.get(runId)!;
    if ((this.#statuses.get(run.rid)?.builtAt ?? -1) < built.builtAt) this.#statuses.set(run.rid, { ...built, value: view.status });
    return view;
  }

  #cached<K, T>(cache: Map<K, Cached<T>>, key: K, build: () => T): T {
    const now = this.#now();
    const version = readModelFor(this.#ledger).dataVersion();
    const c = cache.get(key);
    if (c !== undefined && (c.version === version || now - c.builtAt < Math.max(this.#maxAge, c.costMs * COST_FACTOR))) return c.value;
    const started = performance.now();
    const value = build();
    cache.set(key, { value, builtAt: now, costMs: performance.now() - started, version });
    return value;
  }

  #build(run: RunRecord, now: number): RunView {
    const ledger = this.#ledger;
    let series = this.#series.get(run.rid);
    if (series === undefined) {
      series = new RunSeries();
      this.#series.set(run.rid, series);
    }
    series.refresh(ledger, run.rid, now);
    const status = runStatus(ledger, run);
    const c = status.counts;
    const remaining = c.pending + c.sending + c.deferred;
    const toSend = c.total - c.skipped;
    const done = toSend - remaining;
    const wire = series.recentRate('wire', now);
    const unknownRows = readModelFor(ledger).unknownRows(run.rid, UNKNOWN_SHOWN);
    const base = `/runs/${encodeURIComponent(run.runId)}/report`;
    return {
      status,
      progress: {
        done,
        toSend,
        remaining,
        percent: toSend === 0 ? 100 : Math.floor((done / toSend) * 1000) / 10,
        etaSeconds: remaining === 0 ? 0 : wire > 0 && status.state === 'running' ? Math.ceil(remaining / wire) : null,
      },
      rates: { wire, deliveries: series.recentRate('deliveries', now) },
      failures: runFailures(ledger, run.rid),
      skipped: skippedByReason(ledger, run.rid),
      unknown: {
        rows: unknownRows,
        more: Math.max(0, c.unknown - unknownRows.length),
        list: this.#hint(['report', run.runId, '--status', 'unknown']),
        resend: this.#hint(['resume', run.runId, '--resend-unknown']),
      },
      senders: series.senderRates(limitsOf(run)),
      series: series.series(SERIES_SPAN_S),
      reportLinks: [
        { label: 'all rows (CSV)', href: `${base}.csv` },
        { label: 'all rows (JSON)', href: `${base}.json` },
        { label: 'failed + unknown (CSV)', href: `${base}.csv?status=failed,unknown` },
        { label: 'failed + unknown (JSON)', href: `${base}.json?status=failed,unknown` },
        { label: 'skipped (CSV)', href: `${base}.csv?status=skipped` },
      ],
      at: now,
    };
  }
}
