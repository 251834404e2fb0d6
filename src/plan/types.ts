import type { LimitPlan } from './limit-plan.js';
/**
 * The plan object: what `bulktext plan --json` prints (snake_case, a contract other tools read) and
 * what the human summary is rendered from.
 */
import type { SkipReason } from '../ingest/index.js';

export interface PlanRows {
  total: number;
  sendable: number;
  /** Rows whose number is not a valid phone number. */
  invalid: number;
  /** Rows to a country that refuses the job's alphanumeric sender ID (Telnyx 40328). */
  unsupported_destination: number;
  duplicate: number;
  /** The job's suppression file and the ledger's opt-out table together. */
  suppressed: number;
  /** Numbers an earlier run of the same job and message texted within `dedupe.window` (campaign memory). */
  already_sent: number;
  missing_field: number;
  /** Over 10 parts: Telnyx refuses them. */
  too_long: number;
  /** Malformed records (wrong field count, bad JSON), gsm7 text GSM-7 cannot carry, a group over 8 numbers. */
  invalid_row: number;
  /** Template values with control characters (NUL…) or bytes that are not valid UTF-8. */
  invalid_text: number;
  /** Sendable numbers written with non-ASCII digits (Arabic-Indic, fullwidth…), normalised to E.164. */
  non_ascii_digits: number;
}

export interface SkipExample {
  row: number;
  line: number;
  detail: string;
}

export interface Ucs2Example {
  row: number;
  line: number;
  to: string;
  /** The first character outside GSM-7 (7-bit ASCII for short codes). */
  char: string;
  /** "U+2019". */
  code_point: string;
  parts: number;
  /** Parts if every character outside GSM-7 (7-bit ASCII for short codes) were replaced by one inside it. */
  gsm7_parts: number;
  /** The text around the character. */
  excerpt: string;
}

export interface Ucs2Trigger {
  char: string;
  code_point: string;
  /** Sendable rows this character was the first to force into UCS-2. */
  rows: number;
}

export interface PlanSegments {
  /** Parts of the sendable rows, as Telnyx bills them (MMS: 1). */
  total: number;
  /** Sendable rows by part count: { "1": 980, "2": 20 }. */
  by_parts: Record<string, number>;
  /** Sendable rows sent as UCS-2. */
  ucs2_rows: number;
  /** Of those, rows that a character forced out of GSM-7 (encoding auto). */
  ucs2_switched: number;
  /** Parts the switched rows cost beyond what they would as GSM-7. */
  ucs2_extra_parts: number;
  /** The characters that forced UCS-2, most rows first (at most 10). */
  ucs2_triggers: Ucs2Trigger[];
  ucs2_examples: Ucs2Example[];
}

export interface CostLine {
  /** ISO country of the recipients priced here, or "*" for the default price. */
  country: string;
  kind: 'sms_part' | 'mms';
  /** Billable units: SMS parts, or MMS messages (one per recipient). */
  count: number;
  price: string;
  amount: string;
}

export interface PlanCost {
  /** Decimal string, or null without a pricing block. */
  amount: string | null;
  currency: string | null;
  /** Always true: the figure is segments × the job's prices, not a quote from Telnyx. */
  estimate: true;
  lines: CostLine[];
  note?: string;
}

export interface SenderEstimate {
  sender: string;
  messages: number;
  /** Units of the per-sender limit: messages, or parts with rate.count_parts. */
  units: number;
  segments: number;
  seconds: number;
}

export interface PlanDuration {
  estimated_seconds: number;
  /** What the limits count. */
  units: 'messages' | 'parts';
  total_units: number;
  /** The dispatcher paces each gate at this fraction of its ceiling. */
  pacing: number;
  run: { ceiling: number; effective: number; seconds: number };
  per_sender: { ceiling: number; effective: number; senders: number; busiest: SenderEstimate | null };
  /** Which limit sets the duration. */
  bound: 'run' | 'sender';
  note: string;
}

export type PlanWarningCode =
  | 'invalid_numbers'
  | 'invalid_rows'
  | 'invalid_text'
  | 'non_ascii_digits'
  | 'unsupported_destinations'
  | 'missing_fields'
  | 'too_long'
  | 'ucs2_switch'
  | 'queue_overflow'
  | 'sender_throughput'
  | 'account_throughput'
  | 'nothing_to_send';

export interface PlanWarning {
  code: PlanWarningCode;
  message: string;
  [detail: string]: unknown;
}

export interface PlanSample {
  row: number;
  line: number;
  to: string;
  /** The from number or sender ID; for a number pool or profile-only job, the messaging profile. */
  from: string;
  /** True when `from` is a messaging profile and Telnyx picks the number. */
  from_profile: boolean;
  text: string | null;
  subject: string | null;
  media_urls: string[] | null;
  parts: number;
  encoding: string | null;
}

/** Everything the plan counts from the rows, before hashing. */
export interface PlanTally {
  job: string;
  rows: PlanRows;
  /** Suppressed rows by where the number was listed (the ledger's table first). */
  suppressed_by: { list: number; ledger: number };
  /** The first few skipped rows of each reason, with line numbers. */
  skipped_examples: Record<SkipReason, SkipExample[]>;
  segments: PlanSegments;
  cost: PlanCost;
  estimated_seconds: number;
  duration: PlanDuration;
  /** Which of Telnyx's limits sets the pace, and how many days a brand's daily cap takes. */
  limits: LimitPlan;
  warnings: PlanWarning[];
  samples: PlanSample[];
  notes: string[];
}

/** The four digests a plan hash is made of (full sha256 hex each). */
export interface PlanHashParts {
  spec: string;
  source: string;
  suppression_list: string;
  suppression_ledger: string;
}

export interface Plan extends PlanTally {
  source: { path: string; format: string; sha256: string; bytes: number };
  /** What `run --plan` checks: job spec, source content and suppression state. */
  plan_hash: string;
  hash_components: PlanHashParts;
}
