/**
 * The dashboard's HTML, rendered on the server. Every value from the ledger goes through `esc` (a
 * recipient file can hold anything). Figures carry `data-k` with their path in the status object, so the
 * live page updates them from server-sent events and the browser test compares them with `status --json`.
 * Scripts are served as files (the Content-Security-Policy forbids inline ones); data for the chart
 * travels in a JSON <script> block, which is not executed.
 */
import type { RunStatus } from '../campaign/status.js';
import type { SuppressionRecord } from '../ledger/suppression-store.js';
import type { SlotView } from '../ledger/read-model.js';
import type { RunView } from './run-view.js';

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const n = (x: number) => x.toLocaleString('en-US');
const iso = (t: string | number | null) => (t === null ? '—' : typeof t === 'number' ? new Date(t).toISOString() : t).replace('T', ' ').replace(/\.\d+Z$/, 'Z');
const fig = (path: string, value: number | string) => `<span data-k="${esc(path)}">${esc(typeof value === 'number' ? n(value) : value)}</span>`;

export type Section = 'runs' | 'schedule' | 'suppressions';

export function layout(title: string, section: Section | null, body: string, options: { chart?: boolean } = {}): string {
  const nav = (s: Section, label: string, href: string) => `<a href="${href}"${s === section ? ' aria-current="page"' : ''}>${label}</a>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · bulktext</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/style.css">${options.chart === true ? '\n<link rel="stylesheet" href="/static/uplot.css">' : ''}
</head><body>
<header><strong>bulktext</strong> <nav>${nav('runs', 'Runs', '/')}${nav('schedule', 'Schedule', '/schedule')}${nav('suppressions', 'Suppressions', '/suppressions')}</nav>
<span class="ro">read-only</span></header>
<main>${body}</main>
${options.chart === true ? '<script src="/static/uplot.js"></script>\n<script src="/static/app.js"></script>' : ''}
</body></html>`;
}

function costCell(s: RunStatus): string {
  const actual = s.cost.currency === null ? '—' : `${fig('cost.amount', s.cost.amount)} ${esc(s.cost.currency)}`;
  const est = s.estimate?.cost == null ? '' : ` <small>of ~${fig('estimate.cost.amount', s.estimate.cost.amount)} ${esc(s.estimate.cost.currency)}</small>`;
  return actual + est;
}

function funnel(s: RunStatus): string {
  const d = s.delivery;
  const failed = d.delivery_failed + d.sending_failed + d.expired;
  const total = d.delivered + failed + d.delivery_unconfirmed + d.awaiting;
  // SVG attributes, not inline styles: the Content-Security-Policy allows no inline style.
  const w = (x: number) => (total === 0 ? 0 : Math.round((x / total) * 1000) / 10);
  let x = 0;
  const bar = (value: number, cls: string) => {
    const rect = `<rect class="${cls}" x="${x}" width="${w(value)}" height="8"></rect>`;
    x += w(value);
    return rect;
  };
  return (
    `<svg class="funnel" viewBox="0 0 100 8" preserveAspectRatio="none" role="img" aria-label="delivered ${d.delivered}, failed ${failed}, unconfirmed ${d.delivery_unconfirmed}, awaiting ${d.awaiting}">` +
    `${bar(d.delivered, 'ok')}${bar(failed, 'bad')}${bar(d.delivery_unconfirmed, 'unc')}${bar(d.awaiting, 'wait')}</svg>` +
    `<small>${fig('delivery.delivered', d.delivered)} delivered · ${n(failed)} failed · ${fig('delivery.awaiting', d.awaiting)} awaiting</small>`
  );
}

function progressOf(s: RunStatus): number {
  const c = s.counts;
  const toSend = c.total - c.skipped;
  return toSend === 0 ? 100 : Math.floor(((toSend - c.pending - c.sending - c.deferred) / toSend) * 1000) / 10;
}

export interface RunsFilter {
  job?: string | undefined;
  state?: string | undefined;
}

export function runsPage(statuses: readonly RunStatus[], jobs: readonly string[], filter: RunsFilter, total: number): string {
  const option = (value: string, current: string | undefined) => `<option value="${esc(value)}"${value === current ? ' selected' : ''}>${esc(value || 'all')}</option>`;
  const form =
    `<form class="filters" method="get" action="/">` +
    `<label>job <select name="job">${['', ...jobs].map((j) => option(j, filter.job)).join('')}</select></label> ` +
    `<label>state <select name="state">${['', 'running', 'interrupted', 'completed', 'aborted'].map((s) => option(s, filter.state)).join('')}</select></label> ` +
    `<button>filter</button></form>`;
  const rows = statuses.map((s) => {
    const c = s.counts;
    return (
      `<tr data-run="${esc(s.run_id)}"><td><a href="/runs/${encodeURIComponent(s.run_id)}">${esc(s.run_id)}</a>${s.sandbox ? ' <small class="tag">sandbox</small>' : ''}</td>` +
      `<td>${esc(s.job)}</td><td><span class="state ${esc(s.state)}">${esc(s.state)}</span></td>` +
      `<td>${esc(s.trigger)}${s.slot === null ? '' : `<br><small>${esc(iso(s.slot))}</small>`}</td>` +
      `<td><progress max="100" value="${progressOf(s)}"></progress> <small>${progressOf(s)}%</small></td>` +
      `<td class="num">${fig('counts.sent', c.sent)}</td><td class="num">${fig('counts.failed', c.failed)}</td>` +
      `<td class="num">${fig('counts.unknown', c.unknown)}</td><td class="num">${fig('counts.skipped', c.skipped)}</td>` +
      `<td>${funnel(s)}</td><td>${costCell(s)}</td><td><small>${esc(iso(s.started_at))}<br>${esc(iso(s.finished_at))}</small></td></tr>`
    );
  });
  const shown = statuses.length < total ? `<p><small>the newest ${statuses.length} of ${total} runs</small></p>` : '';
  return layout(
    'Runs',
    'runs',
    `<h1>Runs</h1>${form}` +
      (statuses.length === 0
        ? '<p>No runs match.</p>'
        : `<table class="runs"><thead><tr><th>run</th><th>job</th><th>state</th><th>trigger</th><th>progress</th><th>sent</th><th>failed</th>` +
          `<th>unknown</th><th>skipped</th><th>delivery</th><th>cost vs estimate</th><th>started / finished</th></tr></thead><tbody>${rows.join('')}</tbody></table>${shown}`),
  );
}

/** The parts of a run page that change while it runs; the live script swaps them in from each event. */
export function runFragments(v: RunView): Record<'failures' | 'skipped' | 'unknown' | 'senders', string> {
  const failures =
    v.failures.length === 0
      ? '<p>No failures.</p>'
      : `<table><thead><tr><th>count</th><th>code</th><th>stage</th><th>status</th><th>meaning</th><th>what to do</th></tr></thead><tbody>` +
        v.failures
          .map(
            (f) =>
              `<tr><td class="num">${n(f.count)}</td><td><code>${esc(f.code ?? '—')}</code></td><td>${esc(f.stage)}</td><td>${esc(f.status)}</td>` +
              `<td>${esc(f.title)}</td><td>${esc(f.advice)}</td></tr>`,
          )
          .join('') +
        '</tbody></table>';
  const skipped =
    v.skipped.length === 0
      ? '<p>No skipped rows.</p>'
      : `<table><thead><tr><th>count</th><th>reason</th></tr></thead><tbody>${v.skipped
          .map((r) => `<tr><td class="num">${n(r.count)}</td><td><code>${esc(r.reason ?? '—')}</code></td></tr>`)
          .join('')}</tbody></table>`;
  const unknown =
    v.unknown.rows.length === 0
      ? '<p>No rows in doubt.</p>'
      : `<p>These requests may have reached Telnyx: the recipients may already have the message. Nothing resends them on its own.</p>` +
        `<p>List them all: <code class="cmd">${esc(v.unknown.list)}</code><br>` +
        `Send them again, accepting that some recipients may get two: <code class="cmd">${esc(v.unknown.resend)}</code></p>` +
        `<table><thead><tr><th>row</th><th>line</th><th>to</th><th>in flight since</th><th>detail</th></tr></thead><tbody>` +
        v.unknown.rows
          .map((r) => `<tr><td class="num">${r.row}</td><td class="num">${r.line}</td><td>${esc(r.to)}</td><td>${esc(iso(r.sendingAt))}</td><td>${esc(r.errorDetail)}</td></tr>`)
          .join('') +
        `</tbody></table>${v.unknown.more > 0 ? `<p><small>… and ${n(v.unknown.more)} more</small></p>` : ''}`;
  const senders =
    v.senders.length === 0
      ? '<p>No sender figures.</p>'
      : `<table><thead><tr><th>sender</th><th>msg/s (last 10 s)</th><th>limit</th><th></th></tr></thead><tbody>` +
        v.senders
          .map(
            (s) =>
              `<tr><td>${esc(s.sender)}</td><td class="num">${s.rate.toFixed(1)}</td><td class="num">${s.limit}</td>` +
              `<td><meter min="0" max="${s.limit || 1}" value="${Math.min(s.rate, s.limit || 1)}"></meter></td></tr>`,
          )
          .join('') +
        '</tbody></table>';
  return { failures, skipped, unknown, senders };
}

export function etaText(v: RunView): string {
  const e = v.progress.etaSeconds;
  if (e === null) return v.status.state === 'running' ? 'ETA —' : '';
  if (e === 0) return 'done';
  return `ETA ${e >= 3600 ? `${Math.floor(e / 3600)}h ${Math.floor((e % 3600) / 60)}m` : e >= 60 ? `${Math.floor(e / 60)}m ${e % 60}s` : `${e}s`}`;
}

export function runPage(v: RunView): string {
  const s = v.status;
  const c = s.counts;
  const f = runFragments(v);
  const p = v.progress;
  const stop = s.stop === null || s.state === 'completed' ? '' : `<p class="stop">stopped: ${esc(s.stop.code)} ${esc(s.stop.detail)}</p>`;
  const est = s.estimate === null ? '' : ` · estimated at start ${fig('estimate.parts', s.estimate.parts)} parts${s.estimate.cost === null ? '' : `, ${fig('estimate.cost.amount', s.estimate.cost.amount)} ${esc(s.estimate.cost.currency)}`}`;
  const count = (k: keyof RunStatus['counts'], label: string) => `<div class="stat"><b>${fig(`counts.${k}`, c[k])}</b><span>${label}</span></div>`;
  const delivery = (k: keyof RunStatus['delivery'], label: string) => `<div class="stat"><b>${fig(`delivery.${k}`, s.delivery[k])}</b><span>${label}</span></div>`;
  const body =
    `<h1>Run <code>${esc(s.run_id)}</code> <small>${esc(s.job)}${s.sandbox ? ' · sandbox' : ''} · ${esc(s.trigger)}${s.slot === null ? '' : ` ${esc(iso(s.slot))}`}</small></h1>` +
    `<p><span class="state ${esc(s.state)}" data-k="state">${esc(s.state)}</span> started ${esc(iso(s.started_at))} · finished <span data-k="finished_at">${esc(iso(s.finished_at))}</span></p>${stop}` +
    `<section class="progress"><progress id="progress" max="100" value="${p.percent}"></progress> ` +
    `<span id="progress-text">${n(p.done)} / ${n(p.toSend)} (${p.percent}%)</span> · <span id="eta">${esc(etaText(v))}</span> · ` +
    `<span id="wire-rate">${v.rates.wire.toFixed(1)}</span> msg/s at the wire · <span id="delivery-rate">${v.rates.deliveries.toFixed(1)}</span> deliveries/s</section>` +
    `<section class="stats">${count('total', 'rows')}${count('sent', 'sent')}${count('failed', 'failed')}${count('unknown', 'unknown')}${count('skipped', 'skipped')}` +
    `${count('pending', 'pending')}${count('deferred', 'deferred')}${count('expired', 'expired')}</section>` +
    `<section class="stats">${delivery('delivered', 'delivered')}${delivery('delivery_failed', 'delivery failed')}${delivery('sending_failed', 'sending failed')}` +
    `${delivery('delivery_unconfirmed', 'unconfirmed')}${delivery('expired', 'expired')}${delivery('awaiting', 'awaiting receipt')}</section>` +
    `<p>cost ${s.cost.currency === null ? 'none yet' : `${fig('cost.amount', s.cost.amount)} ${esc(s.cost.currency)}`} for ${fig('parts', s.parts)} parts${est}</p>` +
    `<h2>Throughput</h2><div id="chart" class="chart"></div>` +
    `<script type="application/json" id="run-data">${JSON.stringify({ runId: s.run_id, series: v.series }).replace(/</g, '\\u003c')}</script>` +
    `<h2>Failures by code</h2><div id="failures">${f.failures}</div>` +
    `<h2>Rows in doubt (unknown)</h2><div id="unknown">${f.unknown}</div>` +
    `<h2>Skipped rows by reason</h2><div id="skipped">${f.skipped}</div>` +
    `<h2>Senders</h2><div id="senders">${f.senders}</div>` +
    `<h2>Report</h2><p class="links">${v.reportLinks.map((l) => `<a href="${esc(l.href)}" download>${esc(l.label)}</a>`).join(' · ')}</p>`;
  return layout(`Run ${s.run_id}`, 'runs', body, { chart: true });
}

export interface ScheduledJobView {
  name: string;
  cron: string;
  timezone: string;
  next: { iso: string; local: string }[];
}

export function schedulePage(jobs: readonly ScheduledJobView[], slots: readonly SlotView[]): string {
  const jobRows = jobs
    .map((j) => `<tr><td>${esc(j.name)}</td><td><code>${esc(j.cron)}</code> ${esc(j.timezone)}</td><td>${j.next.map((f) => `${esc(f.local)}`).join('<br>') || '—'}</td></tr>`)
    .join('');
  const slotRows = slots
    .map(
      (s) =>
        `<tr><td>${esc(s.jobName)}</td><td>${esc(iso(s.slot))}</td><td><span class="state ${esc(s.state)}">${esc(s.state)}</span></td>` +
        `<td>${s.runId === null ? '—' : `<a href="/runs/${encodeURIComponent(s.runId)}">${esc(s.runId)}</a>`}</td><td>${esc(s.reason ?? '')}</td></tr>`,
    )
    .join('');
  return layout(
    'Schedule',
    'schedule',
    `<h1>Schedule</h1><h2>Jobs</h2>` +
      (jobs.length === 0
        ? '<p>No scheduled job has run on this ledger yet.</p>'
        : `<p><small>Next slots from the schedule of each job's latest scheduled run.</small></p><table><thead><tr><th>job</th><th>cron</th><th>next slots</th></tr></thead><tbody>${jobRows}</tbody></table>`) +
      `<h2>Slot history</h2>` +
      (slots.length === 0
        ? '<p>No slots recorded.</p>'
        : `<table><thead><tr><th>job</th><th>slot</th><th>state</th><th>run</th><th>why</th></tr></thead><tbody>${slotRows}</tbody></table>`),
  );
}

export function suppressionsPage(list: readonly SuppressionRecord[]): string {
  const rows = list
    .map((s) => `<tr><td>${esc(s.number)}</td><td>${esc(iso(s.addedAt))}</td><td>${esc(s.source)}</td><td>${esc(s.detail ?? '')}</td></tr>`)
    .join('');
  return layout(
    'Suppressions',
    'suppressions',
    `<h1>Suppressions <small>${n(list.length)}</small></h1><p>Numbers every run skips.</p>` +
      (list.length === 0 ? '<p>None.</p>' : `<table><thead><tr><th>number</th><th>since</th><th>from</th><th>detail</th></tr></thead><tbody>${rows}</tbody></table>`),
  );
}

export function loginPage(failed: boolean, next: string): string {
  return layout(
    'Sign in',
    null,
    `<h1>Sign in</h1><form class="login" method="post" action="/login"><input type="hidden" name="next" value="${esc(next)}">` +
      `<label>Dashboard token <input type="password" name="token" autocomplete="current-password" autofocus></label> <button>sign in</button></form>` +
      (failed ? '<p class="stop">That token is not the one this dashboard was started with.</p>' : '<p>The token is the value of BULKTEXT_DASHBOARD_TOKEN.</p>'),
  );
}

export function messagePage(title: string, text: string): string {
  return layout(title, null, `<h1>${esc(title)}</h1><p>${esc(text)}</p>`);
}
