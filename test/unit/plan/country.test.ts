import { describe, expect, it } from 'vitest';
import { countryOf, createCountryResolver } from '../../../src/plan/country.js';

describe('createCountryResolver', () => {
  it('returns the priced country of a number, undefined for the default price', () => {
    const resolve = createCountryResolver(['GB', 'CA', 'FR']);
    expect(resolve('+447400123456')).toBe('GB');
    expect(resolve('+15062345678')).toBe('CA');
    expect(resolve('+14165550100')).toBe('CA');
    expect(resolve('+12015550123')).toBeUndefined(); // US: +1 but not priced
    expect(resolve('+33612345678')).toBe('FR');
    expect(resolve('+4915123456789')).toBeUndefined(); // DE: no priced country uses +49
    expect(createCountryResolver([])('+447400123456')).toBeUndefined();
  });

  it('prices US numbers when US is priced, whatever the cache saw first', () => {
    const resolve = createCountryResolver(['US', 'PR']);
    expect(resolve('+14165550100')).toBeUndefined(); // CA first: caches 416 as CA
    expect(resolve('+14165550101')).toBeUndefined();
    expect(resolve('+17875550100')).toBe('PR');
    expect(resolve('+12125550100')).toBe('US');
  });

  it('agrees with a full libphonenumber lookup on generated +1 and +44 numbers', () => {
    const resolve = createCountryResolver(['US', 'CA', 'PR', 'GB', 'JE', 'GG']);
    const areaCodes = ['201', '212', '416', '604', '787', '939', '305', '514', '800', '868', '876'];
    let checked = 0;
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const nanp = `+1${areaCodes[i % areaCodes.length]}${String(2000000 + ((i * 7919) % 7_999_999)).padStart(7, '0')}`;
      const uk = `+44${['7400', '1534', '1481', '7781', '7797', '2079'][i % 6]}${String((i * 104729) % 1_000_000).padStart(6, '0')}`;
      for (const number of [nanp, uk]) {
        const full = countryOf(number);
        if (full === undefined) continue; // not a valid number: ingest would have skipped it
        const priced = ['US', 'CA', 'PR', 'GB', 'JE', 'GG'].includes(full) ? full : undefined;
        expect(resolve(number), number).toBe(priced);
        seen.add(full);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(3000);
    // The shared calling codes really were told apart.
    for (const country of ['US', 'CA', 'PR', 'GB', 'JE', 'GG']) expect(seen, country).toContain(country);
  });
});
