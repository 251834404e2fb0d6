import { describe, expect, it } from 'vitest';
import { getCountries, getExampleNumber } from 'libphonenumber-js/core';
import type { CountryCode, MetadataJson } from 'libphonenumber-js/core';
import metadataJson from 'libphonenumber-js/metadata.max.json';
import examples from 'libphonenumber-js/mobile/examples';
import { createPhoneNormalizer, e164Key, normalizePhoneFast, normalizePhoneReference } from '../../../src/ingest/phone.js';

/** Deterministic generator so a failure reproduces. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function generateInputs(count: number, seed: number): string[] {
  const rnd = rng(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const digits = (n: number) => {
    let x = '';
    for (let i = 0; i < n; i++) x += Math.floor(rnd() * 10);
    return x;
  };
  const meta = metadataJson as MetadataJson;
  const seeds = getCountries(meta)
    .map((c) => getExampleNumber(c, examples, meta))
    .filter((p) => p !== undefined);
  const usLike = ['415', '212', '646', '305', '604', '416', '514', '787', '876', '242', '800', '555', '011', '123'];
  const out: string[] = [];
  while (out.length < count) {
    const r = rnd();
    if (r < 0.35) {
      // A real country's example number with its tail changed: many stay valid, many do not.
      const ex = pick(seeds);
      const nn = ex.nationalNumber;
      const k = 1 + Math.floor(rnd() * Math.min(5, nn.length));
      const mutated = nn.slice(0, nn.length - k) + digits(k) + (rnd() < 0.05 ? digits(1) : '');
      const cc = ex.countryCallingCode;
      const f = rnd();
      if (f < 0.5) out.push(`+${cc}${mutated}`);
      else if (f < 0.7) out.push(`+${cc} ${mutated.slice(0, 3)} ${mutated.slice(3)}`);
      else if (f < 0.8) out.push(`+${cc}-${mutated.slice(0, 2)}-${mutated.slice(2)}`);
      else if (f < 0.9) out.push(mutated);
      else out.push(`0${mutated}`);
    } else if (r < 0.75) {
      // North American numbers in the ways people write them.
      const ten = (rnd() < 0.8 ? pick(usLike) : digits(3)) + digits(7);
      const f = rnd();
      if (f < 0.3) out.push(`+1${ten}`);
      else if (f < 0.45) out.push(`(${ten.slice(0, 3)}) ${ten.slice(3, 6)}-${ten.slice(6)}`);
      else if (f < 0.6) out.push(ten);
      else if (f < 0.68) out.push(`1${ten}`);
      else if (f < 0.76) out.push(`${ten.slice(0, 3)}.${ten.slice(3, 6)}.${ten.slice(6)}`);
      else if (f < 0.84) out.push(`+1 (${ten.slice(0, 3)}) ${ten.slice(3, 6)}-${ten.slice(6)}`);
      else if (f < 0.9) out.push(`1-${ten.slice(0, 3)}-${ten.slice(3, 6)}-${ten.slice(6)}`);
      else out.push(`+1${ten.slice(0, 3 + Math.floor(rnd() * 8))}`);
    } else if (r < 0.95) {
      // Random digit strings with and without +, of every length.
      const n = 1 + Math.floor(rnd() * 18);
      const f = rnd();
      out.push(f < 0.5 ? `+${digits(n)}` : f < 0.8 ? digits(n) : `+${digits(2)} ${digits(n)}`);
    } else {
      out.push(
        pick([
          '',
          ' ',
          'abc',
          '+',
          '++14155550123',
          `+1 ${digits(10)} ext 5`,
          `tel:+1${digits(10)}`,
          `00${digits(11)}`,
          `011${digits(12)}`,
          ` +1${digits(10)} `,
          `+1${digits(10)}#`,
          `(${digits(3)})${digits(7)}`,
          `+(1) ${digits(10)}`,
          `${digits(3)} / ${digits(7)}`,
          '+800 1234 5678',
          `+882${digits(8)}`,
          `+４１５${digits(7)}`,
          `${digits(2)}`,
          `+${digits(2)}`,
          `--${digits(10)}--`,
        ]),
      );
    }
  }
  return out;
}

describe('phone fast path', () => {
  it('gives exactly the libphonenumber-js answer and E.164 on 240,000 generated inputs', () => {
    const countries = ['US', 'CA', 'GB', 'DE', 'FR', 'AU', 'IN', 'BR'];
    const inputs = generateInputs(240_000, 20_240_611);
    let decidedFast = 0;
    let valid = 0;
    const mismatches: string[] = [];
    inputs.forEach((raw, i) => {
      const country = countries[i % countries.length]!;
      const expected = normalizePhoneReference(raw, country);
      const fast = normalizePhoneFast(raw, country);
      if (fast !== undefined) decidedFast++;
      const got = createPhoneNormalizer(country)(raw);
      if (expected !== undefined) valid++;
      if (got !== expected || (fast !== undefined && (fast ?? undefined) !== expected)) {
        if (mismatches.length < 20) mismatches.push(`${JSON.stringify(raw)} ${country}: library ${expected} fast ${String(fast)}`);
      }
    });
    expect(mismatches).toEqual([]);
    // The proof means something only if the fast path decides most inputs, valid and invalid alike.
    expect(decidedFast / inputs.length).toBeGreaterThan(0.85);
    expect(valid / inputs.length).toBeGreaterThan(0.2);
    expect(valid / inputs.length).toBeLessThan(0.8);
  }, 180_000);

  it('resolves a Canadian +1 number as Canada (valid), as the library does', () => {
    const normalize = createPhoneNormalizer('US');
    expect(normalizePhoneFast('+16045550199', 'US')).toBe(normalizePhoneReference('+16045550199', 'US') ?? null);
    expect(normalize('+1 604 253 0123')).toBe(normalizePhoneReference('+1 604 253 0123', 'US'));
    expect(normalize('(604) 253-0123')).toBe('+16042530123');
  });

  it('normalises common US formats to one E.164', () => {
    const normalize = createPhoneNormalizer('US');
    for (const raw of ['+12125550123', '(212) 555-0123', '212.555.0123', '2125550123', '1-212-555-0123', '12125550123']) {
      expect(normalize(raw)).toBe(normalizePhoneReference(raw, 'US'));
    }
    expect(normalize('+12125550123')).toBe(normalize('212.555.0123'));
    expect(normalize('12345')).toBeUndefined();
  });

  it('an unknown default country is ignored, as parsePhoneNumberFromString ignores it', () => {
    const normalize = createPhoneNormalizer('ZZ');
    expect(normalize('2125550123')).toBeUndefined();
    expect(normalize('+442079460958')).toBe(normalizePhoneReference('+442079460958', 'ZZ'));
  });

  it('e164Key is exact for 15-digit numbers', () => {
    expect(e164Key('+999999999999999')).toBe(999_999_999_999_999);
    expect(Number.isSafeInteger(e164Key('+999999999999999'))).toBe(true);
  });
});
