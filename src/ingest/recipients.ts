/**
 * The ingest pipeline: source records → normalised, rendered, counted rows, each either sendable
 * or skipped with a reason, in bounded batches. Memory stays flat whatever the file size: one
 * chunk of the file and one batch of rows are held at a time, plus the duplicate check's bounded
 * table and filter (seen-numbers.ts: the numbers it cannot hold wait in a temporary SQLite file) and
 * the job's suppression list.
 *
 * Check order for a row: malformed record (invalid_row) → phone number (invalid_number; group_mms:
 * more than 8 numbers is invalid_row) → a destination the sender cannot reach (unsupported_destination) → suppression → duplicate of an earlier *sendable* row →
 * template fields (missing_field) → encoding/length (invalid_row for a gsm7 job whose text GSM-7
 * cannot carry; too_long over 10 parts). Only a row that passes everything enters the dedupe index.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { JobSpec } from '../config/job-spec.js';
import { AppError, isAppError } from '../shared/errors.js';
import { alphanumericRefusal } from '../shared/sender-forms.js';
import { countSegments, MAX_PARTS } from '../telnyx/segments.js';
import type { SegmentEncoding } from '../telnyx/segments.js';
import { VARS_SEPARATOR } from '../ledger/message-text.js';
import { createPhoneNormalizer, e164Key, hasExtension } from './phone.js';
import { openSource } from './read-source.js';
import { SeenGroups, SeenNumbers, type SeenNumbersOptions } from './seen-numbers.js';
import type { SourceRecord } from './read-source.js';
import { loadSuppressionList } from './suppression.js';
import { resolveZone, type ZoneChoice } from '../schedule/window.js';
import { bindTemplate, parseTemplate } from './template.js';
import type { BoundTemplate, Template } from './template.js';

export type SkipReason = 'invalid_number' | 'unsupported_destination' | 'duplicate' | 'suppressed' | 'already_sent' | 'missing_field' | 'too_long' | 'invalid_row' | 'invalid_text';

export const SKIP_REASONS: readonly SkipReason[] = ['invalid_number', 'unsupported_destination', 'duplicate', 'suppressed', 'already_sent', 'missing_field', 'too_long', 'invalid_row', 'invalid_text'];

/**
 * Characters a template value must not carry to a phone: C0 controls other than tab and line breaks, DEL,
 * C1 controls (a NUL alone forces UCS-2 and shows as garbage), and U+FFFD, which is what bytes that are
 * not valid UTF-8 (or UTF-16) decode to.
 */
function isBadChar(c: number): boolean {
  if (c < 0x20) return c !== 0x09 && c !== 0x0a && c !== 0x0d;
  return (c >= 0x7f && c <= 0x9f) || c === 0xfffd;
}

/** What is wrong with a template value, or undefined when nothing is. */
function badText(value: string): string | undefined {
  // Every value of every row passes here: a loop over its characters costs a fraction of a regex search.
  let at = 0;
  while (at < value.length && !isBadChar(value.charCodeAt(at))) at++;
  if (at === value.length) return undefined;
  const c = value.charCodeAt(at);
  if (c === 0xfffd) return 'holds bytes that are not valid UTF-8';
  return `holds the control character U+${c.toString(16).toUpperCase().padStart(4, '0')}${c === 0 ? ' (NUL)' : ''}`;
}

/** Characters the phone fast path takes: such a value cannot hold an extension or a non-ASCII digit. */
const PLAIN_NUMBER = /^[0-9+\s\-.()]*$/;
const NON_ASCII_DIGIT = /(?![0-9])\p{Nd}/u;

/** The most characters of a skipped row's value kept in the ledger (a 10 MB junk field is not stored whole). */
export const MAX_STORED_CHARS = 256;

/** `value` cut to MAX_STORED_CHARS, marked as cut with its full length. */
export function capStored(value: string): string {
  if (value.length <= MAX_STORED_CHARS) return value;
  // Never split a surrogate pair.
  const end = (value.charCodeAt(MAX_STORED_CHARS - 1) & 0xfc00) === 0xd800 ? MAX_STORED_CHARS - 1 : MAX_STORED_CHARS;
  return `${value.slice(0, end)}… [cut: ${value.length} characters]`;
}

export interface IngestedRow {
  /** 1-based record number in the source (the report's "row"). */
  row: number;
  /** 1-based line in the file where the record starts. */
  line: number;
  /** Normalised E.164; group_mms: the numbers joined with ','; an invalid number: the raw value. */
  to: string;
  /** Normalised numbers (group_mms: up to 8); empty when the row has no valid number. */
  recipients: string[];
  /** Rendered text; null when the job has no text or the row was skipped before rendering. */
  text: string | null;
  /**
   * A sendable row's text as the values its template placed, joined by U+001F (the ledger stores this
   * instead of the text; ledger/message-text.ts renders it back with the template's literals).
   */
  vars?: string;
  /** Rendered subject, if the job has one. */
  subject: string | null;
  /** Parts as Telnyx bills them: countSegments for SMS, 1 for MMS, 0 when skipped before counting. */
  parts: number;
  encoding: SegmentEncoding | null;
  /** The first character that forced UCS-2. */
  ucs2Trigger?: string;
  /** The recipient's IANA time zone for the send window (row's `window.timezone_field`, else `window.timezone`). */
  zone?: string;
  skip?: { reason: SkipReason; detail: string };
  /** The number was written with non-ASCII digits (e.g. Arabic-Indic) and normalised to E.164. */
  nonAsciiDigits?: true;
}

export interface IngestStats {
  total: number;
  sendable: number;
  skipped: Record<SkipReason, number>;
  /** sha256 (hex) of the source file's bytes, computed from the same read. */
  sourceSha256: string;
  bytes: number;
}

export interface IngestOptions {
  /** The ledger's suppression table (in addition to the job's suppression.path file). */
  suppressed?: (e164: string) => boolean;
  /**
   * Campaign memory: given the `to` of a batch's sendable rows, says which an earlier run already texted
   * (with a detail naming that run). Those rows are skipped as `already_sent`. Called once a batch, so
   * the lookup can be one indexed query instead of a set of every number ever texted.
   */
  alreadySent?: (numbers: readonly string[]) => ReadonlyMap<string, string>;
  /** Rows per yielded batch. @default 1000 */
  batchSize?: number;
  /** Stops reading; iteration then throws ERR_RUN_ABORTED. */
  signal?: AbortSignal;
  /** The duplicate check's memory (tests make it tiny to exercise its temporary database). */
  seen?: SeenNumbersOptions;
}

export interface IngestResult {
  /**
   * Batches of rows in source order. Structural problems (unreadable source, no header, a missing
   * column, not a JSON array, unreadable suppression list) throw from the first `next()`, before
   * any row. Iterate once.
   */
  batches: AsyncIterable<IngestedRow[]>;
  /**
   * Settles when iteration ends: the counts and the source hash, or the error that ended it
   * (ERR_RUN_ABORTED if the consumer stopped early). Never settles if `batches` is never iterated.
   */
  stats: Promise<IngestStats>;
}

/** group_mms sends to at most 8 numbers (API-NOTES). */
export const MAX_GROUP_RECIPIENTS = 8;

interface RowPlan {
  fields: string[];
  text: BoundTemplate | null;
  subject: BoundTemplate | null;
  templates: Template[];
  mms: boolean;
  group: boolean;
  shortCode: boolean;
  /** An alphanumeric sender: rows to countries that refuse one are skipped (unsupported_destination). */
  alphanumeric: boolean;
  encoding: 'auto' | 'gsm7' | 'ucs2';
  /** Index in `fields` of the row's time-zone column (window.timezone_field), or -1. */
  zoneIndex: number;
}

/** Whether the job sends MMS: group MMS, `message.type: MMS`, or media attached. MMS is never split into parts. */
export function isMmsJob(spec: JobSpec): boolean {
  return spec.sender.mode === 'group_mms' || spec.message.type === 'MMS' || (spec.message.media_urls?.length ?? 0) > 0;
}

function planRows(spec: JobSpec): RowPlan {
  const textTemplate = spec.message.text === undefined ? null : parseTemplate(spec.message.text);
  const subjectTemplate = spec.message.subject === undefined ? null : parseTemplate(spec.message.subject);
  const templates = [textTemplate, subjectTemplate].filter((t): t is Template => t !== null);
  const zoneField = spec.window?.timezone_field;
  const fields = [...new Set([spec.source.phone_field, ...templates.flatMap((t) => t.fields), ...(zoneField === undefined ? [] : [zoneField])])];
  const group = spec.sender.mode === 'group_mms';
  return {
    zoneIndex: zoneField === undefined ? -1 : fields.indexOf(zoneField),
    fields,
    text: textTemplate === null ? null : bindTemplate(textTemplate, fields),
    subject: subjectTemplate === null ? null : bindTemplate(subjectTemplate, fields),
    templates,
    mms: isMmsJob(spec),
    group,
    shortCode: spec.sender.mode === 'short_code',
    alphanumeric: spec.sender.mode === 'alphanumeric',
    encoding: spec.message.encoding ?? 'auto',
  };
}

/** A CSV header must name the phone column and every template field, before anything is sent. */
function checkColumns(file: string, columns: readonly string[], spec: JobSpec, plan: RowPlan): void {
  const found = columns.length > 0 ? columns.map((c) => JSON.stringify(c)).join(', ') : '(none)';
  const phone = spec.source.phone_field;
  if (!columns.includes(phone)) {
    throw new AppError(
      'ERR_SOURCE_STRUCTURE',
      `${file} has no column "${phone}" for the phone number (source.phone_field); columns found: ${found}`,
    );
  }
  const zoneField = spec.window?.timezone_field;
  if (zoneField !== undefined && !columns.includes(zoneField)) {
    throw new AppError(
      'ERR_SOURCE_STRUCTURE',
      `${file} has no column "${zoneField}" for the recipient's time zone (window.timezone_field); columns found: ${found}`,
    );
  }
  const missing = [...new Set(plan.templates.flatMap((t) => t.fields))].filter((f) => !columns.includes(f));
  if (missing.length > 0) {
    const uses = missing.map((f) => `{{${f}}}`).join(', ');
    throw new AppError(
      'ERR_SOURCE_STRUCTURE',
      `the message template uses ${uses} but ${file} has no column ${missing.join(', ')}; columns found: ${found}`,
    );
  }
}

/** "invalid_number 2, duplicate 1": the reasons rows were skipped and how many, or "" when none were. */
export function describeSkipped(skipped: Readonly<Record<SkipReason, number>>): string {
  return Object.entries(skipped)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
}

/** "read 40 rows: 33 to send, skipped duplicate 2, …": what ingest read, as `run` prints it on either ledger. */
export function describeIngest(ingest: IngestStats): string {
  const skipped = describeSkipped(ingest.skipped);
  return `read ${ingest.total} rows: ${ingest.sendable} to send${skipped === '' ? '' : `, skipped ${skipped}`}`;
}

function emptyCounts(): Record<SkipReason, number> {
  return { invalid_number: 0, unsupported_destination: 0, duplicate: 0, suppressed: 0, already_sent: 0, missing_field: 0, too_long: 0, invalid_row: 0, invalid_text: 0 };
}

function isBlank(value: string | undefined): value is undefined {
  return value === undefined || value.trim() === '';
}

/** Reads, validates and renders the job's recipients; see IngestResult. */
export function ingestRecipients(spec: JobSpec, options: IngestOptions = {}): IngestResult {
  let settle!: { resolve: (s: IngestStats) => void; reject: (e: unknown) => void };
  const stats = new Promise<IngestStats>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // The caller may only iterate; a failure is still reported through the iteration itself.
  stats.catch(() => {});
  return { batches: run(spec, options, settle), stats };
}

async function* run(
  spec: JobSpec,
  options: IngestOptions,
  settle: { resolve: (s: IngestStats) => void; reject: (e: unknown) => void },
): AsyncGenerator<IngestedRow[], void, undefined> {
  const batchSize = Math.max(1, options.batchSize ?? 1000);
  const { signal } = options;
  const file = spec.source.path;
  let settled = false;
  const singles = new SeenNumbers(options.seen);
  const groups = new SeenGroups(options.seen);
  try {
    const plan = planRows(spec);
    const normalize = createPhoneNormalizer(spec.source.default_country);
    const suppressionFile = spec.suppression;
    const listed =
      suppressionFile === undefined
        ? null
        : await loadSuppressionList(suppressionFile.path, suppressionFile.phone_field, spec.source.default_country);
    const listName = suppressionFile === undefined ? '' : path.basename(suppressionFile.path);
    const suppressedByLedger = options.suppressed;

    const hash = createHash('sha256');
    let bytes = 0;
    const source = await openSource({
      path: file,
      format: spec.source.format,
      delimiter: spec.source.delimiter,
      fields: plan.fields,
      ...(signal === undefined ? {} : { signal }),
      onChunk: (chunk) => {
        hash.update(chunk);
        bytes += chunk.length;
      },
    });
    if (source.columns !== null) {
      try {
        checkColumns(file, source.columns, spec, plan);
      } catch (err) {
        await source.close();
        throw err;
      }
    }

    const phoneField = spec.source.phone_field;
    const country = spec.source.default_country;
    const skipped = emptyCounts();
    let total = 0;
    let sendable = 0;

    const skip = (
      rec: SourceRecord,
      reason: SkipReason,
      detail: string,
      to: string,
      recipients: string[],
      text: string | null = null,
      subject: string | null = null,
    ): IngestedRow => {
      skipped[reason]++;
      return {
        row: rec.row,
        line: rec.line,
        to: capStored(to),
        recipients,
        text: text === null ? null : capStored(text),
        subject: subject === null ? null : capStored(subject),
        parts: 0,
        encoding: null,
        skip: { reason, detail: capStored(detail) },
      };
    };

    /** One raw number: its E.164 form, or why it cannot be sent to. */
    const numberOf = (raw: string): { e164: string; nonAscii: boolean } | { why: string } => {
      const e164 = normalize(raw);
      // Quoted only for a refusal: most numbers are fine, and a JSON.stringify a row was a tenth of ingest's time.
      const shown = () => JSON.stringify(capStored(raw));
      if (e164 === undefined) return { why: `${shown()} is not a valid phone number (default country ${country})` };
      if (PLAIN_NUMBER.test(raw)) return { e164, nonAscii: false };
      // Sending "415-555-0101 ext. 23" to the base number would reach a switchboard, not the person.
      if (hasExtension(raw, country)) return { why: `${shown()} has an extension; a text cannot reach an extension` };
      return { e164, nonAscii: NON_ASCII_DIGIT.test(raw) };
    };

    const suppressionOf = (e164: string): string | null => {
      if (listed !== null && listed.has(e164)) return `${e164} is on the suppression list ${listName}`;
      if (suppressedByLedger !== undefined && suppressedByLedger(e164)) return `${e164} is suppressed (opted out earlier)`;
      return null;
    };

    // Each distinct zone string is checked once (an Intl lookup costs tens of microseconds).
    const zoneCache = new Map<string, ZoneChoice>();
    const window = spec.window;
    const zoneOf = (raw: string | undefined): ZoneChoice => {
      const key = raw ?? '';
      let choice = zoneCache.get(key);
      if (choice === undefined) {
        choice = resolveZone(window!, raw);
        zoneCache.set(key, choice);
      }
      return choice;
    };

    const processRecord = (rec: SourceRecord): IngestedRow => {
      if (rec.problem !== undefined) return skip(rec, 'invalid_row', `line ${rec.line}: ${rec.problem}`, '', []);
      const values = rec.values;
      const raw = values[0];
      if (isBlank(raw)) return skip(rec, 'invalid_number', `no phone number in ${phoneField}`, raw ?? '', []);

      let to: string;
      let recipients: string[];
      let key = 0;
      let groupKey = '';
      let nonAscii = false;
      if (!plan.group) {
        const number = numberOf(raw);
        if ('why' in number) return skip(rec, 'invalid_number', number.why, raw, []);
        const e164 = number.e164;
        nonAscii = number.nonAscii;
        to = e164;
        recipients = [e164];
        // Telnyx refuses these with 40328 on every try: skip them by rule, visible in plan and report.
        const refusedBy = plan.alphanumeric ? alphanumericRefusal(e164) : undefined;
        if (refusedBy !== undefined) {
          return skip(rec, 'unsupported_destination', `${e164}: alphanumeric sender IDs cannot send to ${refusedBy}`, to, recipients);
        }
        const why = suppressionOf(e164);
        if (why !== null) return skip(rec, 'suppressed', why, to, recipients);
        key = e164Key(e164);
        const earlier = singles.get(key);
        if (earlier !== 0) return skip(rec, 'duplicate', `same number as row ${earlier}`, to, recipients);
      } else {
        const parts = raw.split(';').map((p) => p.trim()).filter((p) => p !== '');
        if (parts.length > MAX_GROUP_RECIPIENTS) {
          return skip(rec, 'invalid_row', `group_mms allows at most ${MAX_GROUP_RECIPIENTS} numbers, found ${parts.length}`, raw, []);
        }
        const numbers = new Set<string>();
        for (const part of parts) {
          const number = numberOf(part);
          if ('why' in number) return skip(rec, 'invalid_number', number.why, raw, []);
          nonAscii ||= number.nonAscii;
          numbers.add(number.e164);
        }
        // The same person listed twice is one participant: Telnyx gets each number once.
        recipients = [...numbers].sort();
        to = recipients.join(',');
        for (const e164 of recipients) {
          const why = suppressionOf(e164);
          if (why !== null) return skip(rec, 'suppressed', why, to, recipients);
        }
        groupKey = to;
        const earlier = groups.get(groupKey);
        if (earlier !== 0) return skip(rec, 'duplicate', `same recipients as row ${earlier}`, to, recipients);
      }

      for (let i = 1; i < values.length; i++) {
        const value = values[i];
        const wrong = value === undefined ? undefined : badText(value);
        if (wrong !== undefined) return skip(rec, 'invalid_text', `line ${rec.line}: ${plan.fields[i]} ${wrong}`, to, recipients);
      }

      const text = plan.text === null ? null : plan.text.render(values);
      const subject = plan.subject === null ? null : plan.subject.render(values);
      if ((plan.text !== null && text === null) || (plan.subject !== null && subject === null)) {
        const names = [...new Set([...(plan.text?.missing(values) ?? []), ...(plan.subject?.missing(values) ?? [])])];
        const detail = `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} missing or empty`;
        return skip(rec, 'missing_field', detail, to, recipients, text, subject);
      }

      let parts = 1;
      let encoding: SegmentEncoding | null = null;
      let ucs2Trigger: string | undefined;
      if (!plan.mms && text !== null) {
        try {
          const counted = countSegments(text, { encoding: plan.encoding, shortCode: plan.shortCode });
          parts = counted.parts;
          encoding = counted.encoding;
          ucs2Trigger = counted.ucs2Trigger;
        } catch (err) {
          if (!isAppError(err, 'ERR_USAGE')) throw err;
          const char = JSON.stringify(err.details?.['char']);
          const alphabet = plan.shortCode ? '7-bit ASCII' : 'GSM-7';
          return skip(rec, 'invalid_row', `message.encoding is gsm7 but the text contains ${char}, which ${alphabet} cannot encode`, to, recipients, text, subject);
        }
        if (parts > MAX_PARTS) {
          const why = `${parts} parts (${encoding}${ucs2Trigger === undefined ? '' : `, forced by ${JSON.stringify(ucs2Trigger)}`}); Telnyx sends at most ${MAX_PARTS}`;
          skipped.too_long++;
          const row: IngestedRow = { row: rec.row, line: rec.line, to, recipients, text, subject, parts, encoding, skip: { reason: 'too_long', detail: why } };
          if (ucs2Trigger !== undefined) row.ucs2Trigger = ucs2Trigger;
          return row;
        }
      }

      let zone: string | undefined;
      if (window !== undefined) {
        const choice = zoneOf(plan.zoneIndex >= 0 ? values[plan.zoneIndex] : undefined);
        if (choice.zone === undefined) {
          const given = choice.invalidRowZone === undefined ? 'is empty' : `is ${JSON.stringify(choice.invalidRowZone)}, not an IANA time zone`;
          return skip(rec, 'invalid_row', `${window.timezone_field ?? 'timezone'} ${given}, and the window has no timezone to fall back on`, to, recipients, text, subject);
        }
        zone = choice.zone;
      }

      if (plan.group) groups.add(groupKey, rec.row);
      else singles.add(key, rec.row);
      sendable++;
      const row: IngestedRow = { row: rec.row, line: rec.line, to, recipients, text, subject, parts, encoding };
      const vars = plan.text === null ? undefined : plan.text.placed(values, VARS_SEPARATOR);
      if (vars !== undefined) row.vars = vars;
      if (ucs2Trigger !== undefined) row.ucs2Trigger = ucs2Trigger;
      if (zone !== undefined) row.zone = zone;
      if (nonAscii) row.nonAsciiDigits = true;
      return row;
    };

    const alreadySent = options.alreadySent;
    /** Skips the batch's rows an earlier run of the campaign already texted. */
    const remember = (rows: IngestedRow[]): IngestedRow[] => {
      if (alreadySent === undefined) return rows;
      const numbers: string[] = [];
      for (const r of rows) if (r.skip === undefined) numbers.push(r.to);
      const found = alreadySent(numbers);
      if (found.size === 0) return rows;
      for (const r of rows) {
        const detail = r.skip === undefined ? found.get(r.to) : undefined;
        if (detail === undefined) continue;
        r.skip = { reason: 'already_sent', detail };
        r.parts = 0;
        r.encoding = null;
        delete r.ucs2Trigger;
        skipped.already_sent++;
        sendable--;
      }
      return rows;
    };

    let batch: IngestedRow[] = [];
    let sized = plan.group;
    for await (const records of source.records) {
      if (signal?.aborted === true) throw new AppError('ERR_RUN_ABORTED', `reading ${file} was aborted`, { cause: signal.reason });
      if (!sized && records.length > 0 && bytes > 0) {
        // Size the duplicate check once, from the rows per byte of the first read (see NumberIndex.reserve).
        sized = true;
        const fileBytes = await fileSize(file);
        singles.reserve(Math.min(fileBytes / MIN_ROW_BYTES, (records.length * fileBytes) / bytes));
      }
      for (const rec of records) {
        total++;
        batch.push(processRecord(rec));
        if (batch.length >= batchSize) {
          yield remember(batch);
          batch = [];
        }
      }
    }
    if (batch.length > 0) yield remember(batch);
    settled = true;
    settle.resolve({ total, sendable, skipped, sourceSha256: hash.digest('hex'), bytes });
  } catch (err) {
    settled = true;
    settle.reject(err);
    throw err;
  } finally {
    singles.close();
    groups.close();
    if (!settled) {
      settle.reject(new AppError('ERR_RUN_ABORTED', `ingest of ${file} was stopped before the end of the file`));
    }
  }
}

/** The shortest row that can hold a number ("+1234567890" and a line break): caps the size estimate. */
const MIN_ROW_BYTES = 12;

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0; // only an estimate: the read itself reports an unreadable file
  }
}

/** sha256 (hex) of a file's bytes, streamed. */
export async function hashSource(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) hash.update(chunk as Buffer);
  } catch (err) {
    throw new AppError('ERR_SOURCE_UNREADABLE', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  return hash.digest('hex');
}
