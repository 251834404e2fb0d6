/**
 * The destination country of a recipient number, for per-country prices. libphonenumber-js decides
 * (with the same "max" metadata ingest validates with), but only when the answer can change the
 * price: a number whose calling code no priced country uses gets the default price without a lookup.
 *
 * Why the shortcuts: a full lookup runs at ~40,000 numbers/s (for a calling code shared by several
 * countries, +1 or +44, libphonenumber-js tries each country's number patterns), and plan reads
 * files of millions of rows.
 * - A calling code used by one country only (+33, +49 …) names the country outright.
 * - Under +1 (NANP) each area code is assigned to one country, and libphonenumber-js's +1 countries
 *   are told apart by their area codes, so one lookup per area code (at most 1,000) is cached.
 * - Other shared codes (+44 GB/GG/IM/JE, +7 RU/KZ …) are decided by longer prefixes: looked up per number.
 * ITU calling codes are prefix-free, so a number that starts with a priced country's code has that code.
 */
import { getCountries, getCountryCallingCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { CountryCode } from 'libphonenumber-js/max';

/** Returns the priced country an E.164 number belongs to, or undefined (the default price applies). */
export type CountryResolver = (e164: string) => string | undefined;

/** The country libphonenumber-js assigns to an E.164 number (undefined for non-geographic numbers). */
export function countryOf(e164: string): string | undefined {
  return parsePhoneNumberFromString(e164)?.country;
}

export function createCountryResolver(priced: readonly string[]): CountryResolver {
  if (priced.length === 0) return () => undefined;
  const pricedSet = new Set(priced);
  /** calling code → every country using it (for the codes some priced country uses). */
  const byCode = new Map<string, string[]>();
  for (const country of priced) byCode.set(getCountryCallingCode(country as CountryCode), []);
  for (const country of getCountries()) {
    byCode.get(getCountryCallingCode(country))?.push(country);
  }
  const nanpCache = new Map<string, string | undefined>();
  const pricedOnly = (country: string | undefined) => (country !== undefined && pricedSet.has(country) ? country : undefined);

  return (e164) => {
    const digits = e164.startsWith('+') ? e164.slice(1) : e164;
    for (let len = 1; len <= 3; len++) {
      const countries = byCode.get(digits.slice(0, len));
      if (countries === undefined) continue;
      if (countries.length === 1) return pricedOnly(countries[0]);
      if (len === 1 && digits.startsWith('1')) {
        const npa = digits.slice(0, 4);
        if (!nanpCache.has(npa)) nanpCache.set(npa, countryOf(`+${digits}`));
        return pricedOnly(nanpCache.get(npa));
      }
      return pricedOnly(countryOf(`+${digits}`));
    }
    return undefined;
  };
}
