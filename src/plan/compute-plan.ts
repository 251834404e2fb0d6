/**
 * `bulktext plan`: reads the whole source through the same ingest code `run` uses (so it sees the
 * very rows `run` would send, with the same skip reasons and part counts), sends nothing and writes
 * nothing, and reports rows, segments, cost, duration, warnings and the plan hash.
 *
 * Memory stays flat: rows are counted as they stream past and dropped. What is kept is bounded —
 * counts, per-sender loads (one entry per from number), per-country cost buckets, and the first
 * few examples of each kind.
 */
import type { JobSpec } from '../config/job-spec.js';
import { unitPrice, type PricingSpec } from '../config/pricing-spec.js';
import { pickSender } from '../campaign/senders.js';
import { ingestRecipients, isMmsJob, SKIP_REASONS, type IngestedRow, type IngestStats, type SkipReason } from '../ingest/index.js';
import { AppError } from '../shared/errors.js';
import { countSegments, isGsm7 } from '../telnyx/segments.js';
import { createCountryResolver, type CountryResolver } from './country.js';
import { sumCost } from '../shared/money.js';
import { composePlanHash, ledgerSuppressionDigest, planSpecDigest, suppressionListDigest } from './plan-hash.js';
import type { AccountSpec } from '../config/account-spec.js';
import { limitModel } from '../config/limit-model.js';
import { limitPlan } from './limit-plan.js';
import { estimateDuration, throughputWarnings, type SenderLoad } from './throughput.js';
import type { CostLine, Plan, PlanCost, PlanSample, PlanTally, PlanWarning, SkipExample, Ucs2Example } from './types.js';

/** A job spec with the optional `pricing` block (JobSpec carries it once the job schema includes it). */
export type PlannableSpec = JobSpec & { pricing?: PricingSpec | undefined };

export interface PlanAccumulatorOptions {
  /** Example messages to render, as they will be sent. @default 0 */
  sample?: number;
  /** Examples kept per skip reason and of UCS-2 rows. @default 5 */
  examples?: number;
  /** The ledger's opt-out numbers, to tell ledger suppressions from the job's list. */
  suppressedNumbers?: ReadonlySet<string>;
  /** The account file, for the limit model. */
  account?: AccountSpec | undefined;
}

export interface ComputePlanOptions extends PlanAccumulatorOptions {
  /** Sees every ingested row with its parts, in source order (the rows `run` would record). */
  onRow?: (row: IngestedRow) => void;
  /** Campaign memory: which of a batch's numbers an earlier run already texted (skipped `already_sent`). */
  alreadySent?: (numbers: readonly string[]) => ReadonlyMap<string, string>;
  /** Plan a run with `--allow-repeat` (part of the plan hash). @default false */
  allowRepeat?: boolean;
  signal?: AbortSignal;
}

const DEFAULT_EXAMPLES = 5;
const MAX_TRIGGERS_TRACKED = 64;
const MAX_TRIGGERS_SHOWN = 10;
const EXCERPT = 24;

export function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** `text` with every character the narrow alphabet cannot carry replaced by "?" (a surrogate pair as one). */
function narrowed(text: string, shortCode: boolean): { text: string; replaced: number } {
  let out = '';
  let replaced = 0;
  for (const ch of text) {
    const fits = shortCode ? (ch.codePointAt(0) ?? 0) <= 0x7f : isGsm7(ch);
    if (fits) out += ch;
    else {
      out += '?';
      replaced++;
    }
  }
  return { text: out, replaced };
}

function excerpt(text: string, char: string): string {
  const at = text.indexOf(char);
  const start = Math.max(0, at - EXCERPT);
  const end = Math.min(text.length, at + char.length + EXCERPT);
  return `${start > 0 ? '…' : ''}${text.slice(start, end)}${end < text.length ? '…' : ''}`;
}

/**
 * Counts rows into a plan tally. `computePlan` feeds it from its own read of the source; a caller
 * that already streams the rows (run's ingest) can feed it the same rows instead of reading twice.
 */
export class PlanAccumulator {
  readonly #spec: PlannableSpec;
  readonly #sample: number;
  readonly #examples: number;
  readonly #ledgerNumbers: ReadonlySet<string> | undefined;
  readonly #mms: boolean;
  readonly #shortCode: boolean;
  readonly #country: CountryResolver;
  #total = 0;
  #sendable = 0;
  readonly #skipped = Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>;
  readonly #skipExamples = Object.fromEntries(SKIP_REASONS.map((r) => [r, [] as SkipExample[]])) as Record<SkipReason, SkipExample[]>;
  #suppressedLedger = 0;
  #segments = 0;
  readonly #byParts = new Map<number, number>();
  #ucs2Rows = 0;
  #ucs2Switched = 0;
  #ucs2Extra = 0;
  readonly #triggers = new Map<string, number>();
  #triggersOther = 0;
  readonly #ucs2Examples: Ucs2Example[] = [];
  #units = 0;
  readonly #loads = new Map<string, SenderLoad>();
  /** Billable units by "kind country" (country "*": the default price). */
  readonly #billable = new Map<string, number>();
  readonly #samples: PlanSample[] = [];
  /** Sendable rows whose number had non-ASCII digits, and the first lines of them (a count, not a list: flat memory). */
  #nonAsciiDigits = 0;
  readonly #nonAsciiLines: number[] = [];

  readonly #account: AccountSpec | undefined;

  constructor(spec: PlannableSpec, options: PlanAccumulatorOptions = {}) {
    this.#spec = spec;
    this.#account = options.account;
    this.#sample = Math.max(0, Math.floor(options.sample ?? 0));
    this.#examples = Math.max(0, Math.floor(options.examples ?? DEFAULT_EXAMPLES));
    this.#ledgerNumbers = options.suppressedNumbers;
    this.#mms = isMmsJob(spec);
    this.#shortCode = spec.sender.mode === 'short_code';
    this.#country = createCountryResolver(Object.keys(spec.pricing?.countries ?? {}));
  }

  add(row: IngestedRow): void {
    this.#total++;
    if (row.skip !== undefined) {
      const reason = row.skip.reason;
      this.#skipped[reason]++;
      const examples = this.#skipExamples[reason];
      if (examples.length < this.#examples) examples.push({ row: row.row, line: row.line, detail: row.skip.detail });
      if (reason === 'suppressed' && this.#ledgerNumbers !== undefined && row.recipients.some((n) => this.#ledgerNumbers!.has(n))) {
        this.#suppressedLedger++;
      }
      return;
    }
    this.#sendable++;
    if (row.nonAsciiDigits === true && this.#nonAsciiDigits++ < this.#examples) this.#nonAsciiLines.push(row.line);
    const parts = row.parts;
    this.#segments += parts;
    this.#byParts.set(parts, (this.#byParts.get(parts) ?? 0) + 1);
    if (row.encoding === 'UCS-2') this.#countUcs2(row);

    // The dispatcher's units and sender key, exactly as it will take them.
    const units = this.#spec.rate.count_parts ? Math.max(1, parts) : 1;
    this.#units += units;
    const sender = pickSender(this.#spec.sender, row.recipients[0] ?? row.to);
    const load = this.#loads.get(sender);
    if (load === undefined) this.#loads.set(sender, { messages: 1, units, segments: parts });
    else {
      load.messages++;
      load.units += units;
      load.segments += parts;
    }

    if (this.#spec.pricing !== undefined) {
      // Telnyx bills a group MMS once per recipient; an SMS per part.
      const kind = this.#mms ? 'mms' : 'sms_part';
      const perRecipient = this.#mms ? 1 : parts;
      for (const number of row.recipients) {
        const key = `${kind} ${this.#country(number) ?? '*'}`;
        this.#billable.set(key, (this.#billable.get(key) ?? 0) + perRecipient);
      }
    }

    if (this.#samples.length < this.#sample) {
      const m = this.#spec.message;
      this.#samples.push({
        row: row.row,
        line: row.line,
        to: row.to,
        from: sender,
        from_profile: this.#spec.sender.from.length === 0,
        text: row.text,
        subject: row.subject,
        media_urls: m.media_urls === undefined ? null : [...m.media_urls],
        parts,
        encoding: row.encoding,
      });
    }
  }

  #countUcs2(row: IngestedRow): void {
    this.#ucs2Rows++;
    const trigger = row.ucs2Trigger;
    if (trigger === undefined || row.text === null) return;
    this.#ucs2Switched++;
    const seen = this.#triggers.get(trigger);
    if (seen !== undefined) this.#triggers.set(trigger, seen + 1);
    else if (this.#triggers.size < MAX_TRIGGERS_TRACKED) this.#triggers.set(trigger, 1);
    else this.#triggersOther++;
    // What the row would cost had its out-of-alphabet characters been plain ones: the bill's "why".
    const gsm = countSegments(narrowed(row.text, this.#shortCode).text, { shortCode: this.#shortCode }).parts;
    this.#ucs2Extra += row.parts - gsm;
    if (this.#ucs2Examples.length < this.#examples) {
      this.#ucs2Examples.push({
        row: row.row,
        line: row.line,
        to: row.to,
        char: trigger,
        code_point: codePoint(trigger),
        parts: row.parts,
        gsm7_parts: gsm,
        excerpt: excerpt(row.text, trigger),
      });
    }
  }

  #cost(): PlanCost {
    const pricing = this.#spec.pricing;
    if (pricing === undefined) {
      return {
        amount: null,
        currency: null,
        estimate: true,
        lines: [],
        note: 'no pricing block in the job file: add pricing.per_part (and currency, countries) to estimate the cost',
      };
    }
    const lines: CostLine[] = [];
    for (const [key, count] of [...this.#billable].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const [kind, country] = key.split(' ') as ['sms_part' | 'mms', string];
      const price = unitPrice(pricing, country === '*' ? undefined : country, kind === 'mms' ? 'mms' : 'sms');
      lines.push({ country, kind, count, price, amount: sumCost([{ count, price }]) });
    }
    return {
      amount: sumCost(lines.map((l) => ({ count: l.count, price: l.price }))),
      currency: pricing.currency,
      estimate: true,
      lines,
      note: this.#mms
        ? 'estimate: MMS messages × the job prices (one per recipient), not a quote from Telnyx'
        : 'estimate: segments × the job prices, not a quote from Telnyx; carrier surcharges are not included',
    };
  }

  #warnings(): PlanWarning[] {
    const warnings: PlanWarning[] = [];
    const lines = (reason: SkipReason) => this.#skipExamples[reason].map((e) => e.line);
    const skipWarning = (reason: SkipReason, code: PlanWarning['code'], one: string, many: string) => {
      const n = this.#skipped[reason];
      if (n === 0) return;
      warnings.push({
        code,
        message: `${n} row${n > 1 ? 's' : ''} ${n > 1 ? many : one}, skipped as ${reason} and not sent: ${rowsAndLines(this.#skipExamples[reason], n)}`,
        rows: n,
        lines: lines(reason),
      });
    };
    if (this.#sendable === 0) warnings.push({ code: 'nothing_to_send', message: 'no row is sendable: the run would send nothing' });
    skipWarning('invalid_number', 'invalid_numbers', 'has no valid phone number', 'have no valid phone number');
    skipWarning(
      'unsupported_destination',
      'unsupported_destinations',
      'is to a country that refuses alphanumeric sender IDs (Telnyx answers 40328)',
      'are to countries that refuse alphanumeric sender IDs (Telnyx answers 40328)',
    );
    skipWarning('invalid_row', 'invalid_rows', 'is malformed or cannot be sent as written', 'are malformed or cannot be sent as written');
    skipWarning('invalid_text', 'invalid_text', 'has a control character or bytes that are not UTF-8 in a template field', 'have control characters or bytes that are not UTF-8 in template fields');
    const digits = this.#nonAsciiDigits;
    if (digits > 0) {
      const shown = this.#nonAsciiLines;
      warnings.push({
        code: 'non_ascii_digits',
        message: `${digits} number${digits > 1 ? 's were' : ' was'} written with non-ASCII digits (line${digits > 1 ? 's' : ''} ${shown.join(', ')}${digits > shown.length ? ', …' : ''}): normalised to E.164 and sent`,
        rows: digits,
        lines: shown,
      });
    }
    skipWarning('missing_field', 'missing_fields', 'lacks a field the template uses', 'lack a field the template uses');
    skipWarning('too_long', 'too_long', 'is over 10 parts, which Telnyx refuses', 'are over 10 parts, which Telnyx refuses');
    if (this.#ucs2Switched > 0) {
      const top = this.#topTriggers();
      warnings.push({
        code: 'ucs2_switch',
        message:
          `${this.#ucs2Switched} row${this.#ucs2Switched > 1 ? 's' : ''} switched to UCS-2 (70 characters a part instead of 160) because of ` +
          `${top.map((t) => `"${t.char}" ${t.code_point}`).join(', ')}${this.#triggers.size > top.length || this.#triggersOther > 0 ? ', …' : ''}: ` +
          `${this.#ucs2Extra} extra part${this.#ucs2Extra === 1 ? '' : 's'}`,
        rows: this.#ucs2Switched,
        extra_parts: this.#ucs2Extra,
      });
    }
    warnings.push(...throughputWarnings(this.#spec, this.#loads, this.#mms));
    return warnings;
  }

  #topTriggers() {
    return [...this.#triggers]
      .sort(([ca, a], [cb, b]) => b - a || (ca < cb ? -1 : ca > cb ? 1 : 0))
      .slice(0, MAX_TRIGGERS_SHOWN)
      .map(([char, rows]) => ({ char, code_point: codePoint(char), rows }));
  }

  /** The tally so far. `stats` (ingest's own counts) is checked against what was added. */
  tally(stats?: IngestStats): PlanTally {
    if (stats !== undefined && (stats.total !== this.#total || stats.sendable !== this.#sendable)) {
      throw new AppError('ERR_INTERNAL', `plan saw ${this.#total} rows (${this.#sendable} sendable) but ingest counted ${stats.total} (${stats.sendable})`);
    }
    const account = this.#account;
    const model = limitModel(this.#spec, account, this.#mms);
    const cost = this.#cost();
    const limits = limitPlan(model, this.#loads, this.#units, account?.file ?? null, { amount: cost.amount, rows: this.#sendable });
    // The run paces each sender at its own limit (by type, or the account file's): the busiest one by that measure decides.
    const busiest = limits.lines.find((l) => l.limit === 'sender');
    const duration = estimateDuration(
      { ...this.#spec.rate, messages_per_second: model.runCeiling, per_sender_per_second: busiest?.figure ?? this.#spec.rate.per_sender_per_second },
      this.#units,
      this.#loads,
    );
    // A campaign's minute limit can be slower still; a brand's daily cap is counted in days (limits.brands).
    for (const l of limits.lines) if (l.seconds > duration.estimated_seconds) duration.estimated_seconds = l.seconds;
    const notes: string[] = [];
    if (this.#spec.message.auto_detect === true) {
      notes.push('message.auto_detect only makes Telnyx flag unusually long messages; parts are counted the same');
    }
    if (this.#mms) notes.push('MMS is not split into parts: each message counts as 1');
    if (this.#shortCode) notes.push('short code: text is counted as 7-bit ASCII (160 a part, 153 when split)');
    return {
      job: this.#spec.name,
      rows: {
        total: this.#total,
        sendable: this.#sendable,
        invalid: this.#skipped.invalid_number,
        unsupported_destination: this.#skipped.unsupported_destination,
        duplicate: this.#skipped.duplicate,
        suppressed: this.#skipped.suppressed,
        already_sent: this.#skipped.already_sent,
        missing_field: this.#skipped.missing_field,
        too_long: this.#skipped.too_long,
        invalid_row: this.#skipped.invalid_row,
        invalid_text: this.#skipped.invalid_text,
        non_ascii_digits: this.#nonAsciiDigits,
      },
      suppressed_by: { list: this.#skipped.suppressed - this.#suppressedLedger, ledger: this.#suppressedLedger },
      skipped_examples: this.#skipExamples,
      segments: {
        total: this.#segments,
        by_parts: Object.fromEntries([...this.#byParts].sort(([a], [b]) => a - b).map(([p, n]) => [String(p), n])),
        ucs2_rows: this.#ucs2Rows,
        ucs2_switched: this.#ucs2Switched,
        ucs2_extra_parts: this.#ucs2Extra,
        ucs2_triggers: this.#topTriggers(),
        ucs2_examples: this.#ucs2Examples,
      },
      cost,
      estimated_seconds: duration.estimated_seconds,
      duration,
      limits,
      warnings: this.#warnings(),
      samples: this.#samples,
      notes,
    };
  }
}

/**
 * Plans a job: the rows `run` would send, their segments, cost and duration, and the plan hash.
 * Sends nothing, writes nothing. `suppressedNumbers` is the ledger's opt-out table (readLedgerSuppressions).
 */
export async function computePlan(spec: PlannableSpec, options: ComputePlanOptions = {}): Promise<Plan> {
  const ledgerNumbers = options.suppressedNumbers;
  const accumulator = new PlanAccumulator(spec, options);
  const { batches, stats } = ingestRecipients(spec, {
    ...(ledgerNumbers === undefined ? {} : { suppressed: (n: string) => ledgerNumbers.has(n) }),
    ...(options.alreadySent === undefined ? {} : { alreadySent: options.alreadySent }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  for await (const batch of batches) {
    for (const row of batch) {
      accumulator.add(row);
      options.onRow?.(row);
    }
  }
  const ingest = await stats;
  const hash = {
    spec: planSpecDigest(spec, options.allowRepeat ?? false),
    source: ingest.sourceSha256,
    suppression_list: await suppressionListDigest(spec),
    suppression_ledger: ledgerSuppressionDigest(ledgerNumbers ?? []),
  };
  return {
    ...accumulator.tally(ingest),
    source: { path: spec.source.path, format: spec.source.format, sha256: ingest.sourceSha256, bytes: ingest.bytes },
    plan_hash: composePlanHash(hash),
    hash_components: hash,
  };
}

/**
 * "rows 18, 19 (lines 19, 20)": rows as `report` numbers them (records of the source), with the file lines
 * they start on, so a plan and a report of the same source name the same rows. `total` beyond the
 * examples adds "…".
 */
export function rowsAndLines(examples: readonly { row: number; line: number }[], total: number): string {
  const more = total > examples.length ? ', …' : '';
  const s = examples.length > 1 ? 's' : '';
  return `row${s} ${examples.map((e) => e.row).join(', ')}${more} (line${s} ${examples.map((e) => e.line).join(', ')}${more})`;
}
