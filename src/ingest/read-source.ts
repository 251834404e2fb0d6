/**
 * Reads a recipients file (CSV, JSON array, NDJSON) as batches of records, streaming: one chunk of
 * the file, and the records parsed from it, are in memory at a time. Each record carries its
 * 1-based record number and the line it starts on, and the values of the fields the caller asked
 * for. Structural problems (unreadable file, empty file, no header, not a JSON array) throw
 * AppError before any record is produced; a malformed record is returned as a record with a
 * `problem` so the caller can report it as a skipped row.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { TextDecoder } from 'node:util';
import { Parser } from 'csv-parse';
import type { SourceFormat } from '../config/job-spec.js';
import { AppError, isAppError } from '../shared/errors.js';
import { JsonArraySplitter } from './json-array-splitter.js';

export interface SourceRecord {
  /** 1-based record number (CSV: data rows after the header; blank lines are not records). */
  row: number;
  /** 1-based line where the record starts. */
  line: number;
  /** Values of the requested fields, in request order; undefined where the record has none. */
  values: Array<string | undefined>;
  /** Set when the record is malformed (wrong column count, bad JSON): `values` is then empty. */
  problem?: string;
}

export interface OpenSourceOptions {
  path: string;
  format: SourceFormat;
  /** CSV field delimiter. @default "," */
  delimiter?: string;
  /** Fields to pick from each record (CSV columns or JSON properties), in order. */
  fields: readonly string[];
  signal?: AbortSignal;
  /** Sees every chunk of file bytes in order (for hashing while reading). */
  onChunk?: (chunk: Buffer) => void;
  /** Bytes per read (smaller keeps fewer parsed records alive at once). @default 65536 */
  chunkSize?: number;
}

export interface OpenedSource {
  /** The CSV header's column names; null for JSON and NDJSON, whose records name their fields. */
  columns: readonly string[] | null;
  /** Batches of records; closing the iterator early closes the file. */
  records: AsyncGenerator<SourceRecord[], void, undefined>;
  /** Closes the file when the caller will not iterate `records`. */
  close(): Promise<void>;
}

const DEFAULT_CHUNK = 64 * 1024;

function aborted(signal: AbortSignal, file: string): AppError {
  return new AppError('ERR_RUN_ABORTED', `reading ${file} was aborted`, { cause: signal.reason });
}

/** Reads the file in fresh buffers (parsers may keep slices of a chunk across reads). */
async function* readChunks(handle: FileHandle, options: OpenSourceOptions): AsyncGenerator<Buffer> {
  const size = options.chunkSize ?? DEFAULT_CHUNK;
  for (;;) {
    if (options.signal?.aborted === true) throw aborted(options.signal, options.path);
    const buffer = Buffer.allocUnsafe(size);
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, 0, size, null));
    } catch (err) {
      throw new AppError('ERR_SOURCE_UNREADABLE', `cannot read ${options.path}: ${(err as Error).message}`, { cause: err });
    }
    if (bytesRead === 0) return;
    const chunk = bytesRead === size ? buffer : buffer.subarray(0, bytesRead);
    options.onChunk?.(chunk);
    yield chunk;
  }
}

/**
 * The file's bytes as UTF-8. A UTF-16 file (spreadsheets save "Unicode text" so) is recognised by its byte
 * order mark, either order, and re-encoded chunk by chunk; anything else passes through untouched. The hash
 * (onChunk) has already seen the original bytes. Unpaired surrogates become U+FFFD, which ingest reports.
 */
async function* asUtf8(chunks: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  let decoder: TextDecoder | undefined;
  let first = true;
  for await (const chunk of chunks) {
    if (first) {
      first = false;
      if (chunk.length >= 2 && chunk[0] === 0xff && chunk[1] === 0xfe) decoder = new TextDecoder('utf-16le');
      else if (chunk.length >= 2 && chunk[0] === 0xfe && chunk[1] === 0xff) decoder = new TextDecoder('utf-16be');
    }
    if (decoder === undefined) yield chunk;
    else {
      const text = decoder.decode(chunk, { stream: true });
      if (text !== '') yield Buffer.from(text, 'utf8');
    }
  }
  const rest = decoder?.decode();
  if (rest !== undefined && rest !== '') yield Buffer.from(rest, 'utf8');
}

async function openFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new AppError('ERR_SOURCE_UNREADABLE', `cannot open recipients file ${path}: ${why}`, { cause: err });
  }
}

/** Line breaks inside a field (a quoted CSV field may span lines): CRLF, LF and lone CR each count one. */
function lineBreaks(value: string): number {
  if (value.indexOf('\n') === -1 && value.indexOf('\r') === -1) return 0;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0a) n++;
    else if (c === 0x0d && value.charCodeAt(i + 1) !== 0x0a) n++;
  }
  return n;
}

function recordLineBreaks(record: readonly string[]): number {
  let n = 0;
  for (const field of record) n += lineBreaks(field);
  return n;
}

function isBlankRecord(record: readonly string[]): boolean {
  return record.length === 1 && record[0]!.trim() === '';
}

/** Opens a source and reads as far as its structure check needs (the CSV header, JSON's `[`). */
export async function openSource(options: OpenSourceOptions): Promise<OpenedSource> {
  const handle = await openFile(options.path);
  try {
    const opened =
      options.format === 'csv'
        ? await openCsv(handle, options)
        : options.format === 'json'
          ? await openJson(handle, options)
          : await openNdjson(handle, options);
    return opened;
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
}

/**
 * Wraps a record generator so the file is closed however iteration ends, and `close()` works
 * when iteration never starts.
 */
function wrap(
  handle: FileHandle,
  columns: readonly string[] | null,
  body: () => AsyncGenerator<SourceRecord[], void, undefined>,
): OpenedSource {
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  async function* records(): AsyncGenerator<SourceRecord[], void, undefined> {
    try {
      yield* body();
    } finally {
      await close();
    }
  }
  return { columns, records: records(), close };
}

async function openCsv(handle: FileHandle, options: OpenSourceOptions): Promise<OpenedSource> {
  const file = options.path;
  // Array records (not `columns: true` objects) are cheaper; the header is mapped once below.
  // Lines are counted here, not by csv-parse, whose `info.lines` counts CRLF as two lines.
  const parser = new Parser({
    bom: true,
    delimiter: options.delimiter ?? ',',
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: false,
  });
  // Errors are read from `parser.errored` right after each write; this keeps them from also
  // surfacing as an unhandled 'error' event.
  parser.on('error', () => {});
  const chunks = asUtf8(readChunks(handle, options));
  let nextLine = 1;
  let ended = false;

  const fail = (err: unknown): never => {
    if (isAppError(err)) throw err;
    throw new AppError(
      'ERR_SOURCE_STRUCTURE',
      `${file}: malformed CSV in the record starting at line ${nextLine}: ${(err as Error).message}`,
      { cause: err },
    );
  };

  /** Parses the next chunk (or the end) and returns the raw records it completed; null at the end. */
  const more = async (): Promise<string[][] | null> => {
    if (ended) return null;
    const next = await chunks.next();
    if (next.done === true) {
      ended = true;
      parser.end();
    } else {
      parser.write(next.value);
    }
    const out: string[][] = [];
    let record: string[] | null;
    while ((record = parser.read() as string[] | null) !== null) out.push(record);
    if (parser.errored !== null) fail(parser.errored);
    return out;
  };

  // The header: the first record that is not a blank line.
  let header: string[] | undefined;
  let pending: string[][] = [];
  while (header === undefined) {
    const raw = await more();
    if (raw === null) {
      throw new AppError('ERR_SOURCE_STRUCTURE', `${file} is empty: expected a header line naming the columns (such as "phone,first_name")`);
    }
    let k = 0;
    for (; k < raw.length && header === undefined; k++) {
      const record = raw[k]!;
      nextLine += 1 + recordLineBreaks(record);
      if (!isBlankRecord(record)) header = record.map((c) => c.trim());
    }
    pending = raw.slice(k);
  }
  const columns = header;
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const c of columns) {
    if (c !== '' && seen.has(c)) repeated.add(c);
    seen.add(c);
  }
  if (repeated.size > 0) {
    // Which of two "first_name" columns would the message use? Neither guess is safe.
    const names = [...repeated].map((c) => JSON.stringify(c)).join(', ');
    throw new AppError('ERR_SOURCE_STRUCTURE', `${file}: the header names ${names} more than once; rename or remove the repeated column${repeated.size > 1 ? 's' : ''}`);
  }
  const indexes = options.fields.map((f) => columns.indexOf(f));
  const width = columns.length;

  async function* body(): AsyncGenerator<SourceRecord[], void, undefined> {
    let row = 0;
    let raw: string[][] | null = pending;
    while (raw !== null) {
      const batch: SourceRecord[] = [];
      for (const record of raw) {
        const line = nextLine;
        nextLine += 1 + recordLineBreaks(record);
        if (isBlankRecord(record)) continue;
        row++;
        if (record.length !== width) {
          batch.push({
            row,
            line,
            values: [],
            problem: `expected ${width} fields as in the header, found ${record.length}`,
          });
          continue;
        }
        const values: Array<string | undefined> = new Array(indexes.length);
        for (let i = 0; i < indexes.length; i++) {
          const at = indexes[i]!;
          values[i] = at < 0 ? undefined : record[at];
        }
        batch.push({ row, line, values });
      }
      if (batch.length > 0) yield batch;
      raw = await more();
    }
  }
  return wrap(handle, columns, body);
}

/** A JSON value as a template/phone value: primitives as text, anything else as absent. */
function fieldValue(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value);
    default:
      return undefined;
  }
}

/** Turns one parsed JSON element into a record: an object, or a problem naming what it was. */
function objectRecord(text: string, row: number, line: number, fields: readonly string[]): SourceRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { row, line, values: [], problem: `malformed JSON: ${(err as Error).message}` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    const kind = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
    return { row, line, values: [], problem: `expected a JSON object, found ${kind}` };
  }
  const object = parsed as Record<string, unknown>;
  const values: Array<string | undefined> = new Array(fields.length);
  for (let i = 0; i < fields.length; i++) {
    const name = fields[i]!;
    values[i] = Object.hasOwn(object, name) ? fieldValue(object[name]) : undefined;
  }
  return { row, line, values };
}

async function openJson(handle: FileHandle, options: OpenSourceOptions): Promise<OpenedSource> {
  const splitter = new JsonArraySplitter(options.path);
  const chunks = asUtf8(readChunks(handle, options));
  let row = 0;
  const toRecords = (elements: ReturnType<JsonArraySplitter['push']>) =>
    elements.map((e) => objectRecord(e.text, ++row, e.line, options.fields));
  // Read until the opening "[" is seen: the splitter throws if the file starts with anything else.
  let pending: SourceRecord[] = [];
  let done = false;
  while (!splitter.opened) {
    const next = await chunks.next();
    if (next.done === true) {
      splitter.end();
      done = true;
      break;
    }
    pending = toRecords(splitter.push(next.value));
  }
  async function* body(): AsyncGenerator<SourceRecord[], void, undefined> {
    if (pending.length > 0) yield pending;
    pending = [];
    while (!done) {
      const next = await chunks.next();
      if (next.done === true) break;
      const batch = toRecords(splitter.push(next.value));
      if (batch.length > 0) yield batch;
    }
    splitter.end();
  }
  return wrap(handle, null, body);
}

async function openNdjson(handle: FileHandle, options: OpenSourceOptions): Promise<OpenedSource> {
  const chunks = asUtf8(readChunks(handle, options));
  let line = 0;
  let row = 0;
  let carry: Buffer | null = null;
  let ended = false;

  /** Splits the next chunk into complete lines and returns their records; null at the end. */
  const more = async (): Promise<SourceRecord[] | null> => {
    if (ended) return null;
    const next = await chunks.next();
    let data: Buffer;
    if (next.done === true) {
      ended = true;
      if (carry === null) return [];
      data = carry;
      carry = null;
    } else {
      data = next.value;
      if (carry !== null) {
        data = Buffer.concat([carry, data]);
        carry = null;
      }
    }
    const out: SourceRecord[] = [];
    let start = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, start);
      if (nl === -1 && !ended) {
        if (start < data.length) carry = Buffer.from(data.subarray(start));
        break;
      }
      const end = nl === -1 ? data.length : nl;
      line++;
      // trim() also drops a byte order mark (U+FEFF) on the first line.
      const text = data.toString('utf8', start, end).trim();
      if (text !== '') out.push(objectRecord(text, ++row, line, options.fields));
      if (nl === -1) break;
      start = nl + 1;
    }
    return out;
  };

  // Structure check: at least one non-blank line.
  let pending: SourceRecord[] = [];
  while (pending.length === 0) {
    const got = await more();
    if (got === null) {
      throw new AppError('ERR_SOURCE_STRUCTURE', `${options.path} is empty: expected one JSON object per line`);
    }
    pending = got;
  }
  async function* body(): AsyncGenerator<SourceRecord[], void, undefined> {
    let batch: SourceRecord[] | null = pending;
    while (batch !== null) {
      if (batch.length > 0) yield batch;
      batch = await more();
    }
  }
  return wrap(handle, null, body);
}
