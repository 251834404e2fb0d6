/**
 * The dashboard's stylesheet and its one script, as strings so they ship inside the compiled package
 * with no build step. uPlot (the chart) is served from its npm package as it is published.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export const styleCss = `
:root { --ok:#1a7f37; --bad:#cf222e; --unc:#9a6700; --wait:#8c959f; --fg:#1f2328; --muted:#656d76; --line:#d0d7de; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:#f6f8fa; }
header { display:flex; gap:1.5rem; align-items:center; padding:.6rem 1.2rem; background:#24292f; color:#fff; }
header nav a { color:#d0d7de; margin-right:1rem; text-decoration:none; }
header nav a[aria-current] { color:#fff; font-weight:600; border-bottom:2px solid #fff; }
header .ro { margin-left:auto; font-size:12px; color:#afb8c1; }
main { padding:1rem 1.2rem 3rem; max-width:1400px; }
h1 { font-size:20px; margin:.3rem 0 .8rem; } h1 small { color:var(--muted); font-weight:400; font-size:14px; }
h2 { font-size:16px; margin:1.6rem 0 .5rem; }
table { border-collapse:collapse; background:#fff; border:1px solid var(--line); width:100%; }
th, td { padding:.35rem .6rem; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
th { background:#f6f8fa; font-weight:600; font-size:13px; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
table.runs td:first-child { white-space:nowrap; }
small { color:var(--muted); }
code { font:12.5px ui-monospace, SFMono-Regular, Menlo, monospace; }
code.cmd { display:inline-block; background:#fff; border:1px solid var(--line); padding:.15rem .4rem; border-radius:4px; user-select:all; }
.state { display:inline-block; padding:0 .45rem; border-radius:1rem; font-size:12px; background:#eaeef2; }
.state.running { background:#ddf4ff; color:#0969da; } .state.completed, .state.started { background:#dafbe1; color:var(--ok); }
.state.interrupted, .state.skipped { background:#fff8c5; color:var(--unc); } .state.aborted, .state.missed { background:#ffebe9; color:var(--bad); }
.tag { border:1px solid var(--line); border-radius:3px; padding:0 .3rem; }
.funnel { display:block; width:140px; height:8px; background:#eaeef2; }
.funnel .ok { fill:var(--ok); } .funnel .bad { fill:var(--bad); } .funnel .unc { fill:var(--unc); } .funnel .wait { fill:var(--wait); }
.stats { display:flex; flex-wrap:wrap; gap:.6rem; margin:.6rem 0; }
.stat { background:#fff; border:1px solid var(--line); border-radius:6px; padding:.4rem .8rem; min-width:7.5rem; }
.stat b { display:block; font-size:20px; font-variant-numeric:tabular-nums; } .stat > span { color:var(--muted); font-size:12px; }
section.progress progress { width:320px; height:14px; vertical-align:middle; }
.chart { background:#fff; border:1px solid var(--line); padding:.4rem; min-height:260px; }
.stop { color:var(--bad); }
.filters { margin-bottom:.8rem; } .filters select { margin-right:.6rem; }
.login input { padding:.3rem; width:22rem; }
`;

/**
 * The live run page: draws the throughput chart and applies each server-sent event (the figures by their
 * `data-k` path, the progress line, the tables as the server rendered them, new chart points).
 */
export const appJs = `'use strict';
(function () {
  var dataEl = document.getElementById('run-data');
  if (!dataEl) return;
  var data = JSON.parse(dataEl.textContent);
  var s = data.series;
  var t = s.t.slice(), wire = s.wire.slice(), del = s.deliveries.slice();
  var chartEl = document.getElementById('chart');
  var plot = null;
  function opts() {
    return {
      width: Math.max(320, chartEl.clientWidth - 10), height: 240,
      scales: { x: { time: true } },
      series: [{}, { label: 'msg/s at the wire', stroke: '#0969da', width: 1.5 }, { label: 'deliveries/s', stroke: '#1a7f37', width: 1.5 }],
      axes: [{}, { label: 'per second' }]
    };
  }
  if (window.uPlot && chartEl) plot = new window.uPlot(opts(), [t, wire, del], chartEl);
  function get(obj, path) {
    return path.split('.').reduce(function (o, k) { return o == null ? o : o[k]; }, obj);
  }
  function fmt(v) { return typeof v === 'number' ? v.toLocaleString('en-US') : v == null ? '—' : String(v).replace('T', ' ').replace(/\\.\\d+Z$/, 'Z'); }
  function merge(points) {
    for (var i = 0; i < points.t.length; i++) {
      var sec = points.t[i], at = t.indexOf(sec);
      if (at === -1) {
        while (t.length > 0 && t[t.length - 1] < sec - 1) { t.push(t[t.length - 1] + 1); wire.push(0); del.push(0); }
        t.push(sec); wire.push(points.wire[i]); del.push(points.deliveries[i]);
      } else { wire[at] = points.wire[i]; del[at] = points.deliveries[i]; }
    }
    while (t.length > 3600) { t.shift(); wire.shift(); del.shift(); }
    if (plot) plot.setData([t, wire, del]);
  }
  function apply(v) {
    document.querySelectorAll('[data-k]').forEach(function (el) {
      var value = get(v.status, el.getAttribute('data-k'));
      if (value !== undefined) el.textContent = fmt(value);
    });
    var stateEl = document.querySelector('[data-k="state"]');
    if (stateEl) stateEl.className = 'state ' + v.status.state;
    document.getElementById('progress').value = v.progress.percent;
    document.getElementById('progress-text').textContent = v.progress.done.toLocaleString('en-US') + ' / ' + v.progress.toSend.toLocaleString('en-US') + ' (' + v.progress.percent + '%)';
    document.getElementById('eta').textContent = v.eta;
    document.getElementById('wire-rate').textContent = v.rates.wire.toFixed(1);
    document.getElementById('delivery-rate').textContent = v.rates.deliveries.toFixed(1);
    ['failures', 'unknown', 'skipped', 'senders'].forEach(function (id) { document.getElementById(id).innerHTML = v.fragments[id]; });
    merge(v.series);
  }
  var events = new EventSource('/runs/' + encodeURIComponent(data.runId) + '/events');
  events.addEventListener('view', function (e) { apply(JSON.parse(e.data)); });
  window.addEventListener('resize', function () { if (plot) plot.setSize({ width: Math.max(320, chartEl.clientWidth - 10), height: 240 }); });
})();
`;

const require = createRequire(import.meta.url);

/** uPlot's script and stylesheet from its package (read once, on first request). */
export function uplotAsset(kind: 'js' | 'css'): string {
  return readFileSync(require.resolve(kind === 'js' ? 'uplot/dist/uPlot.iife.min.js' : 'uplot/dist/uPlot.min.css'), 'utf8');
}
