/**
 * The job's suppression list (numbers never to text), loaded into a set of E.164 numbers.
 *
 * Formats: `.json` — an array of numbers or of objects with the phone field; `.ndjson`/`.jsonl` —
 * one number (JSON string) or object per line; anything else — a CSV whose header names the phone
 * field, or a plain list with one number per line (`#` starts a comment line). Which of the last
 * two is decided by the first non-blank line: a header naming the field, or a valid number. A
 * first line that is neither is an error, not an empty list: a list that silently matched nothing
 * would text everyone who opted out.
 *
 * Entries that are not valid numbers are ignored: a recipient is only ever sent to as a valid
 * E.164 number, which such an entry cannot equal.
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import { AppError, isAppError } from '../shared/errors.js';
import { JsonArraySplitter } from './json-array-splitter.js';
import { createPhoneNormalizer } from './phone.js';
import type { PhoneNormalizer } from './phone.js';
import { openSource } from './read-source.js';

const SNIFF_BYTES = 64 * 1024;

function unreadable(file: string, message: string, cause?: unknown): AppError {
  return new AppError('ERR_SUPPRESSION_UNREADABLE', `suppression list ${file}: ${message}`, cause === undefined ? undefined : { cause });
}

/** Re-labels a recipients-reader error as a suppression-list error. */
function relabel(file: string, err: unknown): AppError {
  if (isAppError(err) && (err.code === 'ERR_SOURCE_UNREADABLE' || err.code === 'ERR_SOURCE_STRUCTURE')) {
    return new AppError('ERR_SUPPRESSION_UNREADABLE', `suppression list: ${err.message}`, { cause: err });
  }
  if (isAppError(err)) return err;
  return unreadable(file, (err as Error).message, err);
}

/** The value of an entry: a bare number, or an object's phone field. */
function entryValue(entry: unknown, phoneField: string): string | undefined {
  if (typeof entry === 'string') return entry;
  if (typeof entry === 'number') return String(entry);
  if (entry !== null && typeof entry === 'object' && !Array.isArray(entry) && Object.hasOwn(entry, phoneField)) {
    const v = (entry as Record<string, unknown>)[phoneField];
    return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
  }
  return undefined;
}

function addEntry(set: Set<string>, normalize: PhoneNormalizer, value: string | undefined): void {
  if (value === undefined || value.trim() === '') return;
  const e164 = normalize(value);
  if (e164 !== undefined) set.add(e164);
}

async function* fileChunks(file: string): AsyncGenerator<Buffer> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw unreadable(file, code === 'ENOENT' ? 'no such file' : (err as Error).message, err);
  }
  try {
    for (;;) {
      const buffer = Buffer.allocUnsafe(SNIFF_BYTES);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, null));
      } catch (err) {
        throw unreadable(file, (err as Error).message, err);
      }
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

async function loadJson(file: string, phoneField: string, normalize: PhoneNormalizer): Promise<Set<string>> {
  const set = new Set<string>();
  const splitter = new JsonArraySplitter(file);
  try {
    for await (const chunk of fileChunks(file)) {
      for (const element of splitter.push(chunk)) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(element.text);
        } catch (err) {
          throw unreadable(file, `malformed JSON element on line ${element.line}: ${(err as Error).message}`, err);
        }
        addEntry(set, normalize, entryValue(parsed, phoneField));
      }
    }
    splitter.end();
  } catch (err) {
    throw relabel(file, err);
  }
  return set;
}

/** Lines of a file, streamed, without line terminators and with a leading BOM removed. */
async function* fileLines(file: string): AsyncGenerator<{ text: string; line: number }> {
  let carry = '';
  let line = 0;
  let first = true;
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of fileChunks(file)) {
    let text = carry + decoder.decode(chunk, { stream: true });
    if (first) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    const parts = text.split('\n');
    carry = parts.pop()!;
    for (const part of parts) yield { text: part.endsWith('\r') ? part.slice(0, -1) : part, line: ++line };
  }
  const rest = carry + decoder.decode();
  if (rest !== '') yield { text: rest.endsWith('\r') ? rest.slice(0, -1) : rest, line: ++line };
}

async function loadNdjson(file: string, phoneField: string, normalize: PhoneNormalizer): Promise<Set<string>> {
  const set = new Set<string>();
  for await (const { text, line } of fileLines(file)) {
    const trimmed = text.trim();
    if (trimmed === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      throw unreadable(file, `line ${line} is not JSON: ${(err as Error).message}`, err);
    }
    addEntry(set, normalize, entryValue(parsed, phoneField));
  }
  return set;
}

/** Splits a header line into trimmed, unquoted cell names (enough to recognise a header). */
function headerCells(line: string, delimiter: string): string[] {
  return line.split(delimiter).map((c) => c.trim().replace(/^"(.*)"$/, '$1').trim());
}

async function loadListOrCsv(file: string, phoneField: string, normalize: PhoneNormalizer): Promise<Set<string>> {
  // Find the first meaningful line to decide between a CSV with a header and a plain list.
  let firstLine: string | undefined;
  for await (const { text } of fileLines(file)) {
    const t = text.trim();
    if (t === '' || t.startsWith('#')) continue;
    firstLine = t;
    break;
  }
  if (firstLine === undefined) return new Set();
  const delimiter = firstLine.includes(';') && !firstLine.includes(',') ? ';' : firstLine.includes('\t') && !firstLine.includes(',') ? '\t' : ',';
  const cells = headerCells(firstLine, delimiter);
  const column = cells.find((c) => c.toLowerCase() === phoneField.toLowerCase());
  if (column !== undefined) {
    const set = new Set<string>();
    try {
      const source = await openSource({ path: file, format: 'csv', delimiter, fields: [column] });
      for await (const batch of source.records) {
        for (const record of batch) addEntry(set, normalize, record.values[0]);
      }
    } catch (err) {
      throw relabel(file, err);
    }
    return set;
  }
  if (normalize(firstLine) === undefined) {
    throw unreadable(
      file,
      `the first line ${JSON.stringify(firstLine.slice(0, 80))} is neither a header naming the column ${phoneField} nor a valid phone number; use a CSV with a ${phoneField} column or one number per line`,
    );
  }
  const set = new Set<string>();
  for await (const { text } of fileLines(file)) {
    const t = text.trim();
    if (t === '' || t.startsWith('#')) continue;
    addEntry(set, normalize, t);
  }
  return set;
}

/**
 * Loads a suppression list into a set of E.164 numbers. Numbers without `+` are read in
 * `defaultCountry`. Throws ERR_SUPPRESSION_UNREADABLE when the file cannot be read or understood.
 */
export async function loadSuppressionList(file: string, phoneField: string, defaultCountry: string): Promise<Set<string>> {
  const normalize = createPhoneNormalizer(defaultCountry);
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json') return loadJson(file, phoneField, normalize);
  if (ext === '.ndjson' || ext === '.jsonl') return loadNdjson(file, phoneField, normalize);
  return loadListOrCsv(file, phoneField, normalize);
}
