/**
 * Issue 6's segment table, the cases test/unit/segments.test.ts does not already pin: the UCS-2
 * 10-part boundary (with and without surrogate pairs), short-code 306/307 and extension characters,
 * one curly quote or emoji in an otherwise plain text, and the extension-pair 10-part boundary.
 */
import { describe, expect, it } from 'vitest';
import { countSegments, MAX_PARTS } from '../../../src/telnyx/segments.js';

const a = (n: number) => 'a'.repeat(n);
const EMOJI = '😀';

describe('segments: issue 6 table (cases not covered elsewhere)', () => {
  const cases: Array<[string, string, { parts: number; encoding: 'GSM-7' | 'UCS-2'; units: number }, Parameters<typeof countSegments>[1]?]> = [
    ['UCS-2 670 units = 10 parts', '’' + a(669), { parts: 10, encoding: 'UCS-2', units: 670 }],
    ['UCS-2 671 units = 11 parts', '’' + a(670), { parts: 11, encoding: 'UCS-2', units: 671 }],
    // 67 is odd and a pair is never split: a part holds 33 emoji (66 units), so 10 parts hold 330.
    ['330 emoji = 660 units = 10 parts', EMOJI.repeat(330), { parts: 10, encoding: 'UCS-2', units: 660 }],
    ['331 emoji = 662 units = 11 parts (pairs never split)', EMOJI.repeat(331), { parts: 11, encoding: 'UCS-2', units: 662 }],
    ['one curly quote in a 160-char text: 1 GSM part becomes 3 UCS-2', a(159) + '’', { parts: 3, encoding: 'UCS-2', units: 160 }],
    ['one emoji in a 69-char text: 71 units, 2 parts', a(69) + EMOJI, { parts: 2, encoding: 'UCS-2', units: 71 }],
    ['one emoji in a 68-char text: 70 units, 1 part', a(68) + EMOJI, { parts: 1, encoding: 'UCS-2', units: 70 }],
    ['GSM 10 parts with an escape pair at the very end', a(1528) + '€', { parts: 10, encoding: 'GSM-7', units: 1530 }],
    ['GSM 10 parts + one escape pair over', a(1529) + '€', { parts: 11, encoding: 'GSM-7', units: 1531 }],
    ['short code ASCII 306', a(306), { parts: 2, encoding: 'GSM-7', units: 306 }, { shortCode: true }],
    ['short code: extension chars cost 1 (7-bit ASCII)', '^{}\\[~]|'.repeat(20), { parts: 1, encoding: 'GSM-7', units: 160 }, { shortCode: true }],
    ['short code: € is not ASCII', '€', { parts: 1, encoding: 'UCS-2', units: 1 }, { shortCode: true }],
    ['short code 1530 ASCII = 10 parts', a(1530), { parts: 10, encoding: 'GSM-7', units: 1530 }, { shortCode: true }],
    ['short code 1531 ASCII = 11 parts', a(1531), { parts: 11, encoding: 'GSM-7', units: 1531 }, { shortCode: true }],
  ];

  it.each(cases)('%s', (_name, text, expected, options) => {
    const got = countSegments(text, options);
    expect({ parts: got.parts, encoding: got.encoding, units: got.units }).toEqual(expected);
  });

  it('names the trigger for a curly quote and for an emoji (whole surrogate pair)', () => {
    expect(countSegments(a(100) + '’').ucs2Trigger).toBe('’');
    expect(countSegments(a(10) + EMOJI + '’').ucs2Trigger).toBe(EMOJI);
    expect(countSegments('café', { shortCode: true }).ucs2Trigger).toBe('é');
  });

  it('MAX_PARTS is the 10-part boundary Telnyx enforces', () => {
    expect(MAX_PARTS).toBe(10);
  });
});
