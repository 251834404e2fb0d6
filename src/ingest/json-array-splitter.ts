/**
 * Splits a JSON document that is one top-level array into its elements, incrementally, so a file
 * of any size is read in bounded memory: only the element being read is held. Each element's text
 * is handed over with the line it starts on; the caller JSON.parses it (a bad element is one bad
 * row, not a dead file).
 *
 * It scans bytes: every structural character (`[ ] { } , "` and `\`) is ASCII, so a UTF-8
 * sequence split between chunks is never cut; the bytes of an element spanning chunks are joined
 * before decoding.
 */
import { AppError } from '../shared/errors.js';

export interface JsonElement {
  /** The element's text, untrimmed inside but without surrounding whitespace. */
  text: string;
  /** 1-based line where the element starts. */
  line: number;
}

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const BOM = [0xef, 0xbb, 0xbf];

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

type State = 'before' | 'between' | 'element' | 'after';

export class JsonArraySplitter {
  private state: State = 'before';
  private line = 1;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private elementLine = 0;
  /** Bytes of the current element from earlier chunks. */
  private pending: Buffer[] = [];
  /** Bytes seen so far, to recognise a byte order mark at the very start (even split over chunks). */
  private offset = 0;
  private sawBom = false;

  /** `file` names the source in error messages. */
  constructor(private readonly file: string) {}

  /** True once the first non-blank byte has been seen and it opened an array. */
  get opened(): boolean {
    return this.state !== 'before';
  }

  /** Feeds the next chunk; returns the elements it completed. */
  push(chunk: Buffer): JsonElement[] {
    const out: JsonElement[] = [];
    let i = 0;
    while (this.offset < 3 && i < chunk.length && chunk[i] === BOM[this.offset]) {
      i++;
      this.offset++;
      this.sawBom = this.offset === 3;
    }
    // A byte that is not the next BOM byte ends the chance of one (a chunk may end mid-BOM).
    if (i < chunk.length) this.offset = 3;
    let elementStart = this.state === 'element' ? 0 : -1;
    for (; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === NEWLINE) this.line++;
      switch (this.state) {
        case 'before':
          if (isSpace(b)) continue;
          if (b !== OPEN_BRACKET) {
            throw new AppError(
              'ERR_SOURCE_STRUCTURE',
              `${this.file} is not a JSON array: it must start with "[" (an array of objects), found ${JSON.stringify(String.fromCharCode(b))} on line ${this.line}`,
            );
          }
          this.state = 'between';
          continue;
        case 'between':
          if (isSpace(b)) continue;
          if (b === CLOSE_BRACKET) {
            this.state = 'after';
            continue;
          }
          if (b === COMMA) {
            // Two commas in a row (or a leading comma): an empty element, reported as a bad row.
            out.push({ text: '', line: this.line });
            continue;
          }
          this.state = 'element';
          this.elementLine = this.line;
          elementStart = i;
          this.depth = 0;
          this.inString = false;
          this.escaped = false;
          i--; // scan this first byte again as part of the element (it is not a newline)
          continue;
        case 'element':
          if (this.inString) {
            if (this.escaped) this.escaped = false;
            else if (b === BACKSLASH) this.escaped = true;
            else if (b === QUOTE) this.inString = false;
            continue;
          }
          if (b === QUOTE) this.inString = true;
          else if (b === OPEN_BRACE || b === OPEN_BRACKET) this.depth++;
          else if ((b === CLOSE_BRACE || b === CLOSE_BRACKET) && this.depth > 0) this.depth--;
          else if (this.depth === 0 && (b === COMMA || b === CLOSE_BRACKET)) {
            out.push({ text: this.take(chunk, elementStart, i), line: this.elementLine });
            elementStart = -1;
            this.state = b === COMMA ? 'between' : 'after';
          }
          continue;
        case 'after':
          if (!isSpace(b)) {
            throw new AppError(
              'ERR_SOURCE_STRUCTURE',
              `${this.file}: unexpected ${JSON.stringify(String.fromCharCode(b))} after the closing "]" of the array on line ${this.line}`,
            );
          }
          continue;
      }
    }
    if (this.state === 'element' && elementStart >= 0) {
      // Copy: the chunk's memory may be reused by the reader.
      this.pending.push(Buffer.from(chunk.subarray(elementStart)));
    }
    return out;
  }

  /** Called at end of input; throws if the array was never opened or never closed. */
  end(): void {
    if (this.state === 'before') {
      throw new AppError('ERR_SOURCE_STRUCTURE', `${this.file} is empty${this.sawBom ? ' (only a byte order mark)' : ''}: expected a JSON array of objects`);
    }
    if (this.state !== 'after') {
      throw new AppError(
        'ERR_SOURCE_STRUCTURE',
        `${this.file}: the JSON array is not closed (no "]" before the end of the file, line ${this.line}); is the file truncated?`,
      );
    }
  }

  private take(chunk: Buffer, start: number, end: number): string {
    let text: string;
    if (this.pending.length === 0) {
      text = chunk.toString('utf8', start, end);
    } else {
      this.pending.push(chunk.subarray(0, end));
      text = Buffer.concat(this.pending).toString('utf8');
      this.pending = [];
    }
    return text.trim();
  }
}
