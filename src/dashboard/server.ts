/**
 * `bulktext dashboard`: a read-only web UI over the ledger (node:http, server-rendered pages, one small
 * script, server-sent events for live runs). It opens the ledger read-only, so it can watch a run that
 * is writing the same file and can never change it; it holds no API key and so can never show one.
 *
 * Live pages share one timer: each second, every run someone watches has its view rebuilt once (from what
 * is new in the ledger) and pushed to all of that run's open event streams.
 */
import http from 'node:http';
import { once } from 'node:events';
import { parseStatusFilter, reportChunks, type ReportFormat } from '../campaign/report.js';
import { publicState } from '../campaign/status.js';
import type { ScheduleSpec } from '../config/schedule-spec.js';
import { Ledger } from '../ledger/ledger.js';
import { readModelFor } from '../ledger/read-model.js';
import { upcomingFirings } from '../scheduler/firings.js';
import { commandHint, type HintContext } from '../shared/command-line.js';
import { describeError, isAppError } from '../shared/errors.js';
import { listen } from '../shared/http-listen.js';
import { appJs, styleCss, uplotAsset } from './assets.js';
import { authorized, isLoopback, loginCookie, tokenMatches } from './auth.js';
import { etaText, loginPage, messagePage, runFragments, runPage, runsPage, schedulePage, suppressionsPage, type ScheduledJobView } from './pages.js';
import { RunViews, type RunView } from './run-view.js';
import { runStoreOf } from '../ledger/run-store.js';
import { suppressionStoreOf } from '../ledger/suppression-store.js';

export interface DashboardOptions {
  /** The ledger file; opened read-only. */
  ledgerPath: string;
  /** 0 picks a free port. */
  port: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** Required from every client when set (see auth.ts); must be set for a non-loopback host. */
  token?: string | undefined;
  /** How the commands pages suggest are written (the operator's --db, npx or not); plain data so it crosses to a worker. */
  hint?: HintContext;
  /** How often live pages get an event. @default 1000 */
  tickMs?: number;
}

export interface DashboardServer {
  /** `http://host:port` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Runs listed on the runs page (newest first). */
const RUNS_SHOWN = 100;
/** Slot history rows on the schedule page. */
const SLOTS_SHOWN = 200;
/** Points of the series each event carries (the page has the rest). */
const EVENT_SERIES_POINTS = 130;
const LOGIN_BODY_LIMIT = 4096;

const securityHeaders = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

function send(res: http.ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...securityHeaders, 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

const html = (res: http.ServerResponse, status: number, body: string) => send(res, status, 'text/html; charset=utf-8', body);

/** What a live page receives each tick: the view without its full series, plus the re-rendered tables. */
function eventPayload(v: RunView): string {
  const from = Math.max(0, v.series.t.length - EVENT_SERIES_POINTS);
  return JSON.stringify({
    status: v.status,
    progress: v.progress,
    eta: etaText(v),
    rates: v.rates,
    fragments: runFragments(v),
    series: { t: v.series.t.slice(from), wire: v.series.wire.slice(from), deliveries: v.series.deliveries.slice(from) },
  });
}

/** A same-site path to return to after login (never another origin). */
function safeNext(next: string | null | undefined): string {
  return next !== null && next !== undefined && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

/** @throws AppError ERR_USAGE when the port cannot be listened on; ERR_LEDGER_SCHEMA when the ledger cannot be read */
export async function startDashboard(options: DashboardOptions): Promise<DashboardServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token;
  const ledger = new Ledger(options.ledgerPath, { readonly: true });
  const views = new RunViews(ledger, { hint: commandHint(options.hint) });
  const streams = new Map<string, Set<http.ServerResponse>>();
  let uplot: { js: string; css: string } | undefined;

  const pushViews = () => {
    for (const [runId, set] of streams) {
      if (set.size === 0) continue;
      let payload: string;
      try {
        const v = views.view(runId);
        if (v === undefined) continue;
        payload = eventPayload(v);
      } catch {
        continue; // the ledger is busy or mid-migration: the next tick tries again
      }
      for (const res of set) res.write(`event: view\ndata: ${payload}\n\n`);
    }
  };
  const timer = setInterval(pushViews, options.tickMs ?? 1000);
  timer.unref();

  const routes = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> => {
    const path = url.pathname;
    if (path === '/static/style.css') return send(res, 200, 'text/css; charset=utf-8', styleCss);
    if (path === '/static/app.js') return send(res, 200, 'text/javascript; charset=utf-8', appJs);
    if (path === '/static/uplot.js' || path === '/static/uplot.css') {
      uplot ??= { js: uplotAsset('js'), css: uplotAsset('css') };
      return path.endsWith('.js') ? send(res, 200, 'text/javascript; charset=utf-8', uplot.js) : send(res, 200, 'text/css; charset=utf-8', uplot.css);
    }
    if (path === '/') {
      const job = url.searchParams.get('job') || undefined;
      const state = url.searchParams.get('state') || undefined;
      const all = runStoreOf(ledger).listRuns();
      const jobs = [...new Set(all.map((r) => r.jobName))].sort();
      // The state filter uses the run record alone; only the runs shown get their counts read.
      const matching = all.filter((r) => (job === undefined || r.jobName === job) && (state === undefined || publicState(r) === state));
      const statuses = matching.slice(0, RUNS_SHOWN).map((r) => views.status(r));
      return html(res, 200, runsPage(statuses, jobs, { job, state }, matching.length));
    }
    const run = /^\/runs\/([^/]+)(\/events|\/report\.(csv|json))?$/.exec(path);
    if (run !== null) {
      const runId = decodeURIComponent(run[1]!);
      if (runStoreOf(ledger).findRun(runId) === undefined) return html(res, 404, messagePage('No such run', `There is no run ${runId} in this ledger.`));
      if (run[2] === '/events') return openStream(runId, res);
      if (run[3] !== undefined) return streamReport(runId, run[3] as ReportFormat, url.searchParams.get('status') ?? undefined, res);
      return html(res, 200, runPage(views.view(runId)!));
    }
    if (path === '/schedule') {
      const now = Date.now();
      const jobs: ScheduledJobView[] = [];
      for (const j of readModelFor(ledger).scheduledJobs()) {
        const schedule = (JSON.parse(j.jobSpec) as { schedule?: ScheduleSpec }).schedule;
        if (schedule === undefined) continue;
        jobs.push({ name: j.jobName, cron: schedule.cron, timezone: schedule.timezone, next: upcomingFirings(schedule, now, 5) });
      }
      return html(res, 200, schedulePage(jobs, readModelFor(ledger).slots(SLOTS_SHOWN)));
    }
    if (path === '/suppressions') return html(res, 200, suppressionsPage(suppressionStoreOf(ledger).suppressions()));
    html(res, 404, messagePage('Not found', `Nothing at ${path}.`));
  };

  const openStream = (runId: string, res: http.ServerResponse) => {
    res.writeHead(200, { ...securityHeaders, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    let set = streams.get(runId);
    if (set === undefined) {
      set = new Set();
      streams.set(runId, set);
    }
    set.add(res);
    res.on('close', () => set.delete(res));
    const v = views.view(runId);
    if (v !== undefined) res.write(`event: view\ndata: ${eventPayload(v)}\n\n`);
  };

  // Its own connection: a report streams across awaits, and a connection with a cursor open cannot serve other queries.
  const streamReport = async (runId: string, format: ReportFormat, status: string | undefined, res: http.ServerResponse) => {
    const statuses = parseStatusFilter(status);
    const own = new Ledger(options.ledgerPath, { readonly: true });
    try {
      const rid = runStoreOf(own).getRun(runId).rid;
      const suffix = statuses === undefined ? '' : `-${statuses.join('-')}`;
      res.writeHead(200, {
        ...securityHeaders,
        'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
        'content-disposition': `attachment; filename="${runId}${suffix}.${format}"`,
      });
      for (const chunk of reportChunks(own, rid, format, { statuses })) {
        if (res.destroyed) return;
        if (!res.write(chunk)) await once(res, 'drain');
      }
      res.end();
    } finally {
      own.close();
    }
  };

  const login = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    for await (const chunk of req as AsyncIterable<Buffer>) {
      body += chunk.toString('utf8');
      if (body.length > LOGIN_BODY_LIMIT) return send(res, 413, 'text/plain; charset=utf-8', 'too large\n');
    }
    const form = new URLSearchParams(body);
    const next = safeNext(form.get('next'));
    if (token === undefined) return send(res, 303, 'text/plain; charset=utf-8', '', { location: next });
    if (!tokenMatches(form.get('token') ?? '', token)) return html(res, 401, loginPage(true, next));
    send(res, 303, 'text/plain; charset=utf-8', '', { location: next, 'set-cookie': loginCookie(token) });
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    // Without a token, only a loopback name may address the server: a page on another site that
    // re-points its own hostname at 127.0.0.1 (DNS rebinding) gets nothing.
    const hostName = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (token === undefined && !isLoopback(hostName)) return send(res, 403, 'text/plain; charset=utf-8', 'forbidden: unexpected Host header\n');
    const handle = async () => {
      if (url.pathname === '/login') {
        if (req.method === 'POST') return login(req, res);
        if (req.method === 'GET') return html(res, 200, loginPage(false, safeNext(url.searchParams.get('next'))));
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'read-only: GET only\n', { allow: 'GET, HEAD' });
      if (!authorized(req, token) && url.pathname !== '/static/style.css') {
        const wantsPage = (req.headers.accept ?? '').includes('text/html');
        if (wantsPage) return send(res, 303, 'text/plain; charset=utf-8', '', { location: `/login?next=${encodeURIComponent(url.pathname + url.search)}` });
        return send(res, 401, 'text/plain; charset=utf-8', 'a token is required (Authorization: Bearer …)\n', { 'www-authenticate': 'Bearer' });
      }
      return routes(req, res, url);
    };
    handle().catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = isAppError(err, 'ERR_USAGE') ? 400 : 500;
      html(res, status, messagePage(status === 400 ? 'Bad request' : 'Error', describeError(err)));
    });
  });

  let listening;
  try {
    listening = await listen(server, options.port, host, 'the dashboard');
  } catch (err) {
    clearInterval(timer);
    ledger.close();
    throw err;
  }
  return {
    url: listening.url,
    port: listening.port,
    close: async () => {
      clearInterval(timer);
      // Event streams never end on their own: end them, or closing would wait for every open page.
      for (const set of streams.values()) for (const res of set) res.end();
      await listening.close();
      ledger.close();
    },
  };
}
