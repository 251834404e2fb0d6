/**
 * Message parts (segments) counted the way Telnyx counts them (API-NOTES "Encoding and parts").
 *
 * GSM-7: 160 septets in one part, 153 per part when split (the other 7 septets carry the
 * concatenation header); the extension characters `^ { } \ [ ~ ] |`, `€` and form feed are sent as
 * ESC + char, so they cost 2 septets, and a split never cuts that pair. Any character outside GSM-7
 * makes the whole message UCS-2: 70 code units in one part, 67 per part, counted in UTF-16 code
 * units (a character outside the BMP is a surrogate pair, 2 units) and a split never cuts a pair.
 * Short codes use 7-bit ASCII instead of the GSM alphabet: every ASCII character costs 1.
 *
 * This runs once per row of files with millions of rows, so it walks `charCodeAt` against a
 * precomputed table: no regex, no per-character allocation.
 */
import { AppError } from '../shared/errors.js';

/** Telnyx rejects a message of more than 10 parts (error 40302); callers decide what to do. */
export const MAX_PARTS = 10;

export type SegmentEncoding = 'GSM-7' | 'UCS-2';

export interface SegmentCount {
  /** Parts Telnyx bills and meters for this text (may exceed MAX_PARTS). */
  parts: number;
  encoding: SegmentEncoding;
  /** Septets (GSM-7), ASCII characters (short code) or UTF-16 code units (UCS-2). */
  units: number;
  /** The first character that forced UCS-2 (absent when UCS-2 was requested or not needed). */
  ucs2Trigger?: string;
}

export interface CountSegmentsOptions {
  /**
   * `auto` picks GSM-7 when every character fits, else UCS-2. `gsm7` demands GSM-7: a character
   * outside it throws AppError ERR_USAGE (Telnyx answers 400 for such a message, so no part count
   * would be true). `ucs2` always counts UCS-2.
   * @default "auto"
   */
  encoding?: 'auto' | 'gsm7' | 'ucs2' | undefined;
  /** Count with short-code rules: 7-bit ASCII, 1 unit per character, non-ASCII → UCS-2. @default false */
  shortCode?: boolean | undefined;
}

const GSM_SINGLE_PART = 160;
const GSM_PER_PART = 153;
const UCS2_SINGLE_PART = 70;
const UCS2_PER_PART = 67;

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '\f^{}\\[~]|€';

/** Septet cost per UTF-16 code unit: 0 = not GSM-7, 1 = basic set, 2 = extension (ESC + char). */
const GSM_COST = new Uint8Array(0x10000);
for (let i = 0; i < GSM_BASIC.length; i++) GSM_COST[GSM_BASIC.charCodeAt(i)] = 1;
for (let i = 0; i < GSM_EXTENSION.length; i++) GSM_COST[GSM_EXTENSION.charCodeAt(i)] = 2;

/** True when every character of `text` is in the GSM-7 basic or extension set. */
export function isGsm7(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (GSM_COST[text.charCodeAt(i)] === 0) return false;
  }
  return true;
}

/** The whole character (surrogate pair included) starting at code unit `i`. */
function charAt(text: string, i: number): string {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return text.slice(i, i + 2);
  }
  return text.charAt(i);
}

/**
 * The GSM-7 length in septets (ASCII length for short codes), or -(i + 1) where i is the first
 * code unit the narrow alphabet cannot carry. One number, so the hot path allocates nothing.
 */
function narrowUnits(text: string, ascii: boolean): number {
  if (ascii) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return -(i + 1);
    return text.length;
  }
  let units = 0;
  for (let i = 0; i < text.length; i++) {
    const w = GSM_COST[text.charCodeAt(i)]!;
    if (w === 0) return -(i + 1);
    units += w;
  }
  return units;
}

/** Parts of a GSM-7 text of more than 160 septets: greedy 153-septet parts, escape pairs kept whole. */
function gsmParts(text: string): number {
  let parts = 1;
  let inPart = 0;
  for (let i = 0; i < text.length; i++) {
    const w = GSM_COST[text.charCodeAt(i)]!;
    if (inPart + w > GSM_PER_PART) {
      parts++;
      inPart = w;
    } else {
      inPart += w;
    }
  }
  return parts;
}

/** Parts of a UCS-2 text: 70 units in one part, else greedy 67-unit parts with surrogate pairs kept whole. */
function ucs2Parts(text: string): number {
  const units = text.length;
  if (units <= UCS2_SINGLE_PART) return 1;
  let parts = 1;
  let inPart = 0;
  for (let i = 0; i < units; i++) {
    const c = text.charCodeAt(i);
    let w = 1;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < units) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        w = 2;
        i++;
      }
    }
    if (inPart + w > UCS2_PER_PART) {
      parts++;
      inPart = w;
    } else {
      inPart += w;
    }
  }
  return parts;
}

/** Parts, encoding and units of `text` as Telnyx counts them. */
export function countSegments(text: string, options?: CountSegmentsOptions): SegmentCount {
  const encoding = options?.encoding ?? 'auto';
  if (encoding === 'ucs2') return { parts: ucs2Parts(text), encoding: 'UCS-2', units: text.length };
  const ascii = options?.shortCode === true;
  const units = narrowUnits(text, ascii);
  if (units >= 0) {
    // Short-code ASCII has no escape pairs, so its parts are a plain division.
    const parts = units <= GSM_SINGLE_PART ? 1 : ascii ? Math.ceil(units / GSM_PER_PART) : gsmParts(text);
    return { parts, encoding: 'GSM-7', units };
  }
  const miss = -units - 1;
  const trigger = charAt(text, miss);
  if (encoding === 'gsm7') {
    const codePoint = trigger.codePointAt(0) ?? 0;
    throw new AppError(
      'ERR_USAGE',
      `encoding gsm7 was requested but the text contains "${trigger}" (U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}), which ${ascii ? '7-bit ASCII' : 'GSM-7'} cannot encode; Telnyx would reject the message`,
      { details: { char: trigger, index: miss } },
    );
  }
  return { parts: ucs2Parts(text), encoding: 'UCS-2', units: text.length, ucs2Trigger: trigger };
}
