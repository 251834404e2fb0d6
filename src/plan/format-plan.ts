/** The plan as `--json` prints it, and as a readable summary for people. */
import path from 'node:path';
import { SKIP_REASONS, type SkipReason } from '../ingest/index.js';
import { commandHint, type CommandHint } from '../shared/command-line.js';
import { rowsAndLines } from './compute-plan.js';
import type { Plan } from './types.js';

/**
 * The `--json` object: the documented keys first (rows, segments, cost, estimated_seconds, warnings,
 * plan_hash), then the details.
 */
export function planJson(plan: Plan): Record<string, unknown> {
  return {
    job: plan.job,
    rows: plan.rows,
    segments: plan.segments,
    cost: plan.cost,
    estimated_seconds: plan.estimated_seconds,
    warnings: plan.warnings,
    plan_hash: plan.plan_hash,
    duration: plan.duration,
    limits: plan.limits,
    suppressed_by: plan.suppressed_by,
    skipped_examples: plan.skipped_examples,
    samples: plan.samples,
    notes: plan.notes,
    source: plan.source,
    hash_components: plan.hash_components,
  };
}

const n = (x: number) => x.toLocaleString('en-US');
const plural = (count: number, word: string) => `${n(count)} ${word}${count === 1 ? '' : 's'}`;

/** "0.4s", "42s", "24m 10s", "5h 03m", "2d 04h". */
export function formatSeconds(seconds: number): string {
  if (seconds < 10) return `${Math.round(seconds * 10) / 10}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d ${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A multi-section summary; `jobFile` is shown in the `run --plan` hint as the operator typed it. */
export function describePlan(plan: Plan, options: { jobFile?: string; cwd?: string; hint?: CommandHint; allowRepeat?: boolean } = {}): string {
  const out: string[] = [];
  const rel = (p: string) => (options.cwd === undefined ? p : path.relative(options.cwd, p) || p);
  const label = (text: string, value: string) => `  ${text.padEnd(24)}${value}`;
  /** A section title with its figure right-aligned with the figures under it. */
  const head = (title: string, value: string) => `${title.padEnd(26)}${value.padStart(8)}`;
  out.push(`Plan for job ${plan.job}: ${rel(plan.source.path)} (${plan.source.format}, ${formatBytes(plan.source.bytes)})`, '');

  const r = plan.rows;
  out.push(head('Rows', n(r.total)));
  out.push(label('sendable', n(r.sendable).padStart(8)));
  const count: Record<SkipReason, number> = {
    invalid_number: r.invalid,
    unsupported_destination: r.unsupported_destination,
    duplicate: r.duplicate,
    suppressed: r.suppressed,
    already_sent: r.already_sent,
    missing_field: r.missing_field,
    too_long: r.too_long,
    invalid_row: r.invalid_row,
    invalid_text: r.invalid_text,
  };
  // The reason names are the ones `report` puts in error_code, and rows are numbered as report numbers them.
  for (const reason of SKIP_REASONS) {
    const c = count[reason];
    if (c === 0) continue;
    const examples = plan.skipped_examples[reason];
    let extra = examples.length === 0 ? '' : `   ${rowsAndLines(examples, c)}`;
    if (reason === 'suppressed') {
      extra = `   ${n(plan.suppressed_by.list)} on the job's suppression list, ${n(plan.suppressed_by.ledger)} in the ledger's opt-outs`;
    }
    out.push(label(reason, n(c).padStart(8)) + extra);
    if (reason !== 'duplicate' && reason !== 'suppressed' && examples[0] !== undefined) {
      // Ingest's detail may name the line itself; say it once.
      out.push(`      e.g. row ${examples[0].row} (line ${examples[0].line}): ${examples[0].detail.replace(/^line \d+: /, '')}`);
    }
  }
  out.push('');

  const s = plan.segments;
  out.push(head('Segments', n(s.total)));
  const dist = Object.entries(s.by_parts).map(([parts, rows]) => `${plural(Number(parts), 'part')}: ${plural(rows, 'row')}`);
  if (dist.length > 0) out.push(`  ${dist.join(' · ')}`);
  if (s.ucs2_rows > 0) {
    out.push(
      label('UCS-2', `${n(s.ucs2_rows).padStart(8)} rows`) +
        (s.ucs2_switched > 0 ? `, ${n(s.ucs2_switched)} switched by a character (+${plural(s.ucs2_extra_parts, 'part')})` : ''),
    );
    for (const t of s.ucs2_triggers) out.push(`      "${t.char}" ${t.code_point}  ${plural(t.rows, 'row')}`);
    for (const e of s.ucs2_examples) {
      out.push(`      e.g. row ${e.row} (line ${e.line}): ${JSON.stringify(e.excerpt)} — "${e.char}" ${e.code_point}: ${plural(e.parts, 'part')}, ${e.gsm7_parts} without it`);
    }
  }
  out.push('');

  const c = plan.cost;
  if (c.amount === null) {
    out.push(head('Cost (estimate)', 'unknown'), `  ${c.note ?? ''}`);
  } else {
    out.push(head('Cost (estimate)', `${c.amount} ${c.currency ?? ''}`));
    for (const l of c.lines) {
      const what = `${l.kind === 'mms' ? 'MMS' : 'SMS parts'}${l.country === '*' ? '' : `, ${l.country}`}`;
      out.push(`  ${what.padEnd(22)}${n(l.count).padStart(10)} × ${l.price} = ${l.amount}`);
    }
    if (c.note !== undefined) out.push(`  ${c.note}`);
  }
  out.push('');

  const d = plan.duration;
  const unit = d.units === 'parts' ? 'parts' : 'messages';
  out.push(head('Duration (estimate)', `~${formatSeconds(d.estimated_seconds)}`));
  out.push(
    `  run ceiling ${d.run.ceiling}/s, paced at ${d.run.effective}/s: ${n(d.total_units)} ${unit} in ${formatSeconds(d.run.seconds)}${d.bound === 'run' ? '  ← sets the pace' : ''}`,
  );
  const b = d.per_sender.busiest;
  if (b !== null) {
    out.push(
      `  per sender ${d.per_sender.ceiling}/s, paced at ${d.per_sender.effective}/s, ${plural(d.per_sender.senders, 'sender')}; ` +
        `busiest ${b.sender || '(profile)'}: ${n(b.units)} ${unit} in ${formatSeconds(b.seconds)}${d.bound === 'sender' ? '  ← sets the pace' : ''}`,
    );
  }
  out.push(`  ${d.note}`, '');

  const lp = plan.limits;
  const paceName: Record<string, string> = { account: 'account', sender: 'sender', campaign_minute: 'campaign minute', brand_day: 'brand day', spend_day: 'daily spend cap' };
  out.push(head('Limits', lp.account_file === null ? 'no account file: the job stands for the account' : `account file ${rel(lp.account_file)}`));
  for (const l of lp.lines) {
    const what = l.limit === 'account' ? 'account' : l.limit === 'sender' ? `busiest sender ${l.key.slice('sender:'.length) || '(profile)'}` : `campaign ${l.key.slice('campaign:'.length)}`;
    out.push(`  ${what}: ${n(l.figure)}/${l.per === 'minute' ? 'min' : 's'} (${l.source}): ${n(l.units)} ${unit} in ${formatSeconds(l.seconds)}${lp.pace === l.limit ? '  ← sets the pace' : ''}`);
  }
  for (const b of lp.brands) {
    out.push(
      `  brand ${b.brand}: ${n(b.cap)} a day: ${n(b.units)} ${unit} over ${plural(b.days, 'UTC day')}` +
        `${b.deferred_rows > 0 ? `; ~${n(b.deferred_rows)} rows deferred past the first day` : ''}${lp.pace === 'brand_day' && b.days > 1 ? '  ← sets the pace' : ''}`,
    );
  }
  const sp = lp.spend;
  if (sp !== null) {
    out.push(
      `  spend: ${sp.cap} USD a day (${sp.source}): estimated ${sp.estimate} USD over ${plural(sp.days, 'UTC day')}` +
        `${sp.deferred_rows > 0 ? `; ~${n(sp.deferred_rows)} rows deferred past the first day` : ''}${lp.pace === 'spend_day' ? '  ← sets the pace' : ''}`,
    );
  }
  out.push(`  pace set by: ${paceName[lp.pace]}`, '');

  if (plan.warnings.length > 0) {
    out.push('Warnings');
    for (const w of plan.warnings) out.push(`  ! ${w.message}`);
    out.push('');
  }
  if (plan.notes.length > 0) {
    out.push('Notes');
    for (const note of plan.notes) out.push(`  ${note}`);
    out.push('');
  }
  if (plan.samples.length > 0) {
    out.push('Samples (as they will be sent)');
    for (const m of plan.samples) {
      out.push(`  row ${m.row} (line ${m.line}) → ${m.to}, from ${m.from_profile ? `a number of profile ${m.from} (Telnyx picks)` : m.from}, ${plural(m.parts, 'part')}${m.encoding === null ? '' : ` ${m.encoding}`}`);
      if (m.subject !== null) out.push(`    subject: ${m.subject}`);
      if (m.text !== null) out.push(...m.text.split(/\r\n|\n|\r/).map((l) => `    ${l}`));
      if (m.media_urls !== null) out.push(`    media: ${m.media_urls.join(', ')}`);
    }
    out.push('');
  }
  out.push(`plan_hash ${plan.plan_hash}`);
  const hint = options.hint ?? commandHint();
  const repeat = options.allowRepeat === true ? ['--allow-repeat'] : [];
  out.push(`  send exactly this plan: ${hint(['run', options.jobFile ?? '<job-file>', ...repeat, '--plan', plan.plan_hash])}`);
  return `${out.join('\n')}\n`;
}
