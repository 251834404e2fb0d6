import { describe, expect, it } from 'vitest';
import { countSegments, isGsm7, MAX_PARTS } from '../../src/telnyx/segments.js';
import { isAppError } from '../../src/shared/errors.js';

const a = (n: number) => 'a'.repeat(n);
const EMOJI = '😀'; // U+1F600: a surrogate pair, 2 UTF-16 units

describe('countSegments: table of cases', () => {
  const cases: Array<[string, string, { parts: number; encoding: 'GSM-7' | 'UCS-2'; units: number }, Parameters<typeof countSegments>[1]?]> = [
    ['empty text', '', { parts: 1, encoding: 'GSM-7', units: 0 }],
    ['GSM 160 chars', a(160), { parts: 1, encoding: 'GSM-7', units: 160 }],
    ['GSM 161 chars', a(161), { parts: 2, encoding: 'GSM-7', units: 161 }],
    ['GSM 306 chars', a(306), { parts: 2, encoding: 'GSM-7', units: 306 }],
    ['GSM 307 chars', a(307), { parts: 3, encoding: 'GSM-7', units: 307 }],
    ['GSM 459 chars', a(459), { parts: 3, encoding: 'GSM-7', units: 459 }],
    ['GSM 460 chars', a(460), { parts: 4, encoding: 'GSM-7', units: 460 }],
    ['GSM 1530 chars = 10 parts', a(1530), { parts: 10, encoding: 'GSM-7', units: 1530 }],
    ['GSM 1531 chars = 11 parts', a(1531), { parts: 11, encoding: 'GSM-7', units: 1531 }],
    ['80 extension chars = 160 septets, one part', '{'.repeat(80), { parts: 1, encoding: 'GSM-7', units: 160 }],
    ['159 + one extension char = 161 septets', a(159) + '€', { parts: 2, encoding: 'GSM-7', units: 161 }],
    // 152 basic + escape pair: the pair would straddle septets 153/154, so part 1 carries 152.
    // 306 septets would fit 2 parts, but the pair moves whole to part 2 and pushes 1 septet into part 3.
    ['escape pair at the 153 boundary', a(152) + '[' + a(152), { parts: 3, encoding: 'GSM-7', units: 306 }],
    ['escape pair just inside the boundary', a(151) + '[' + a(153), { parts: 2, encoding: 'GSM-7', units: 306 }],
    ['escape pair at the second boundary', a(153) + a(152) + '€' + a(152), { parts: 4, encoding: 'GSM-7', units: 459 }],
    ['GSM basic specials', '@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r', { parts: 1, encoding: 'GSM-7', units: 44 }],
    ['UCS-2 70 units', '’' + a(69), { parts: 1, encoding: 'UCS-2', units: 70 }],
    ['UCS-2 71 units', '’' + a(70), { parts: 2, encoding: 'UCS-2', units: 71 }],
    ['UCS-2 134 units', '’' + a(133), { parts: 2, encoding: 'UCS-2', units: 134 }],
    ['UCS-2 135 units', '’' + a(134), { parts: 3, encoding: 'UCS-2', units: 135 }],
    ['single emoji', EMOJI, { parts: 1, encoding: 'UCS-2', units: 2 }],
    ['emoji fills 70 units', EMOJI.repeat(35), { parts: 1, encoding: 'UCS-2', units: 70 }],
    // 66 units then a pair: the pair would straddle units 67/68, so it opens part 2.
    ['surrogate pair at the 67 boundary', a(66) + EMOJI + a(66), { parts: 3, encoding: 'UCS-2', units: 134 }],
    ['surrogate pair just inside the boundary', a(65) + EMOJI + a(67), { parts: 2, encoding: 'UCS-2', units: 134 }],
    ['forced ucs2 on plain text', a(71), { parts: 2, encoding: 'UCS-2', units: 71 }, { encoding: 'ucs2' }],
    ['short code ASCII 160', '{'.repeat(160), { parts: 1, encoding: 'GSM-7', units: 160 }, { shortCode: true }],
    ['short code ASCII 161', '~'.repeat(161), { parts: 2, encoding: 'GSM-7', units: 161 }, { shortCode: true }],
    ['short code ASCII 307', a(307), { parts: 3, encoding: 'GSM-7', units: 307 }, { shortCode: true }],
    ['short code: GSM-only é is UCS-2', 'café', { parts: 1, encoding: 'UCS-2', units: 4 }, { shortCode: true }],
  ];

  it.each(cases)('%s', (_name, text, expected, options) => {
    const got = countSegments(text, options);
    expect({ parts: got.parts, encoding: got.encoding, units: got.units }).toEqual(expected);
  });
});

describe('countSegments: extension characters', () => {
  it.each(['^', '{', '}', '\\', '[', '~', ']', '|', '€', '\f'])('%j costs 2 septets', (ch) => {
    expect(countSegments(ch)).toEqual({ parts: 1, encoding: 'GSM-7', units: 2 });
    expect(countSegments(a(158) + ch).parts).toBe(1);
    expect(countSegments(a(159) + ch).parts).toBe(2);
    expect(isGsm7(ch)).toBe(true);
  });
});

describe('countSegments: the UCS-2 trigger', () => {
  it('names the curly quote that doubled the bill', () => {
    const text = "Hi Ann, we're shipping your order today".replace("'", '’') + a(40);
    const plain = countSegments(text.replace('’', "'"));
    const curly = countSegments(text);
    expect(plain).toEqual({ parts: 1, encoding: 'GSM-7', units: text.length });
    expect(curly.encoding).toBe('UCS-2');
    expect(curly.parts).toBe(2);
    expect(curly.ucs2Trigger).toBe('’');
  });

  it('names a whole emoji, not half a surrogate pair', () => {
    expect(countSegments(`Sale ${EMOJI} now ’`).ucs2Trigger).toBe(EMOJI);
  });

  it('has no trigger when UCS-2 was requested', () => {
    expect(countSegments('hello', { encoding: 'ucs2' })).toEqual({ parts: 1, encoding: 'UCS-2', units: 5 });
  });

  it('encoding gsm7 with a non-GSM character throws ERR_USAGE naming it', () => {
    let caught: unknown;
    try {
      countSegments('Hello José’s', { encoding: 'gsm7' });
    } catch (err) {
      caught = err;
    }
    expect(isAppError(caught, 'ERR_USAGE')).toBe(true);
    expect((caught as Error).message).toContain('’');
    expect(countSegments('Hello José', { encoding: 'gsm7' }).encoding).toBe('GSM-7');
  });
});

describe('isGsm7 and MAX_PARTS', () => {
  it('classifies', () => {
    expect(isGsm7('Hello @ £5 {ok}')).toBe(true);
    expect(isGsm7('Hello ’')).toBe(false);
    expect(isGsm7('ç')).toBe(false); // only capital Ç is in the GSM basic set
    expect(isGsm7(EMOJI)).toBe(false);
    expect(MAX_PARTS).toBe(10);
  });

  it('counts a long UCS-2 text beyond 10 parts', () => {
    expect(countSegments('’'.repeat(67 * 11)).parts).toBe(11);
  });
});
