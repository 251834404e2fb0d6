/**
 * Phone number normalisation to E.164, decided by libphonenumber-js with its full ("max") metadata:
 * a number is sendable exactly when `parsePhoneNumberFromString(raw, defaultCountry).isValid()`.
 *
 * Why a fast path: that call runs at ~36,000/s here, mostly because libphonenumber-js builds a new
 * RegExp for every pattern it matches (helpers/matchesEntirely.js) and, for a calling code shared by
 * several countries (+1), walks them checking each one's number types. Ingest must move well over
 * 150,000 rows/s, so inputs made only of ASCII digits and the separators ` -.()` (with or without a
 * leading `+`) take a path that replays libphonenumber-js's own steps — es6/parse.js,
 * extractCountryCallingCode, extractCountryCallingCodeFromInternationalNumberWithoutPlusSign,
 * extractNationalNumber, getCountryByCallingCode, isValid/getNumberType — over the library's own
 * metadata, with each pattern compiled once. Branches it does not replay go to the library itself:
 * any other character (letters, extensions, `tel:` URIs, non-ASCII digits), an IDD prefix
 * (`011…`, `00…`), a national prefix pattern with capture groups (carrier codes), non-geographic
 * calling codes. test/unit/ingest/phone.test.ts proves the same answer and E.164 as the library on
 * 240,000 generated inputs of mixed countries and formats, valid and invalid. No validity rule is
 * written here: every pattern, length and country order comes from the metadata.
 */
import { Metadata, parsePhoneNumberFromString } from 'libphonenumber-js/core';
import type { CountryCode, MetadataJson } from 'libphonenumber-js/core';
import metadataJson from 'libphonenumber-js/metadata.max.json';

/** Normalises one raw value: the E.164 number, or undefined when libphonenumber finds it invalid. */
export type PhoneNormalizer = (raw: string) => string | undefined;

/** The library's own answer (the reference the fast path must equal). */
export function normalizePhoneReference(raw: string, defaultCountry: string): string | undefined {
  const parsed = parsePhoneNumberFromString(raw, defaultCountry as CountryCode, metadataJson);
  return parsed !== undefined && parsed.isValid() ? parsed.number : undefined;
}

/** Whether the library reads an extension in `raw` ("ext. 23", "x45", ";ext=9", "#12"): such a number is not sendable. */
export function hasExtension(raw: string, defaultCountry: string): boolean {
  return parsePhoneNumberFromString(raw, defaultCountry as CountryCode, metadataJson)?.ext !== undefined;
}

/** Metadata methods used below; they exist on the class but its .d.ts declares only a few. */
interface MetadataApi {
  selectNumberingPlan(countryOrCallingCode: string): void;
  hasCountry(country: string): boolean;
  hasCallingCode(callingCode: string): boolean;
  isNonGeographicCallingCode(callingCode: string): boolean;
  getCountryCodesForCallingCode(callingCode: string): string[] | undefined;
  countryCallingCode(): string;
  nationalNumberPattern(): string;
  nationalPrefixForParsing(): string | undefined;
  IDDPrefix(): string | undefined;
  possibleLengths(): number[] | undefined;
  leadingDigits(): string | undefined;
  hasTypes(): boolean;
  type(type: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined;
}

/** The order getNumberType (helpers/getNumberType.js) tries: fixed line, then NON_FIXED_LINE_PHONE_TYPES. */
const NUMBER_TYPES = [
  'FIXED_LINE',
  'MOBILE',
  'PREMIUM_RATE',
  'TOLL_FREE',
  'SHARED_COST',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
] as const;

/** libphonenumber-js constants.js: MIN_LENGTH_FOR_NSN, MAX_LENGTH_FOR_NSN, MAX_LENGTH_COUNTRY_CODE. */
const MIN_LENGTH_FOR_NSN = 2;
const MAX_LENGTH_FOR_NSN = 17;
const MAX_LENGTH_COUNTRY_CODE = 3;

/** One country's patterns, compiled once. */
interface CountryPlan {
  callingCode: string;
  /** `^(?:national_number_pattern)$`, as matchesEntirely builds it. */
  nationalNumber: RegExp;
  /** Each defined number type with a non-empty pattern: its anchored pattern and possible lengths. */
  types: Array<{ pattern: RegExp; lengths: readonly number[] | undefined }>;
  hasTypes: boolean;
  /** `leading_digits`, anchored at the start (String#search(...) === 0 in getCountryByNationalNumber). */
  leadingDigits: RegExp | undefined;
  /** `^(?:national_prefix_for_parsing)` as extractNationalNumberFromPossiblyIncompleteNumber builds it. */
  nationalPrefix: RegExp | undefined;
  /** IDD prefix anchored at the start (stripIddPrefix: String#search(...) === 0). */
  idd: RegExp | undefined;
  /** The plan's possible national number lengths, ascending (checkNumberLength). */
  lengths: readonly number[] | undefined;
}

const metadata = new Metadata(metadataJson as MetadataJson) as unknown as MetadataApi;
const plans = new Map<string, CountryPlan>();

function planFor(country: string): CountryPlan {
  let plan = plans.get(country);
  if (plan !== undefined) return plan;
  metadata.selectNumberingPlan(country);
  const types: CountryPlan['types'] = [];
  if (metadata.hasTypes()) {
    for (const name of NUMBER_TYPES) {
      const type = metadata.type(name);
      if (type === undefined || !type.pattern()) continue;
      types.push({ pattern: new RegExp(`^(?:${type.pattern()})$`), lengths: type.possibleLengths() });
    }
  }
  const leading = metadata.leadingDigits();
  const prefix = metadata.nationalPrefixForParsing();
  const idd = metadata.IDDPrefix();
  plan = {
    callingCode: metadata.countryCallingCode(),
    nationalNumber: new RegExp(`^(?:${metadata.nationalNumberPattern()})$`),
    types,
    hasTypes: metadata.hasTypes(),
    leadingDigits: leading ? new RegExp(`^(?:${leading})`) : undefined,
    nationalPrefix: prefix ? new RegExp(`^(?:${prefix})`) : undefined,
    idd: idd ? new RegExp(`^(?:${idd})`) : undefined,
    lengths: metadata.possibleLengths(),
  };
  plans.set(country, plan);
  return plan;
}

/** getNumberType(...) !== undefined — which is also exactly isValid() when the plan has types. */
function hasNumberType(plan: CountryPlan, nationalNumber: string): boolean {
  if (!plan.nationalNumber.test(nationalNumber)) return false;
  for (const type of plan.types) {
    if (type.lengths !== undefined && !type.lengths.includes(nationalNumber.length)) continue;
    if (type.pattern.test(nationalNumber)) return true;
  }
  return false;
}

function isValidFor(plan: CountryPlan, nationalNumber: string): boolean {
  return plan.hasTypes ? hasNumberType(plan, nationalNumber) : plan.nationalNumber.test(nationalNumber);
}

/** getCountryByCallingCode → getCountryByNationalNumber, with the countries in metadata order. */
function countryByNationalNumber(countries: readonly string[], nationalNumber: string): string | undefined {
  if (countries.length === 1) return countries[0];
  for (const country of countries) {
    const plan = planFor(country);
    if (plan.leadingDigits !== undefined) {
      if (plan.leadingDigits.test(nationalNumber)) return country;
    } else if (hasNumberType(plan, nationalNumber)) {
      return country;
    }
  }
  return undefined;
}

/**
 * Geographic calling codes by numeric value (1-999): their countries in metadata order; null for
 * an unknown code; 'other' for a non-geographic one (+800, +882, …), which the library handles.
 */
const callingCodes: Array<readonly string[] | null | 'other'> = new Array(1000).fill(null);
for (let code = 1; code < 1000; code++) {
  const text = String(code);
  if (!metadata.hasCallingCode(text)) continue;
  callingCodes[code] = metadata.isNonGeographicCallingCode(text) ? 'other' : (metadata.getCountryCodesForCallingCode(text) ?? 'other');
}

// Character classes of the shapes the fast path accepts: ASCII digits and the separators people
// type between them. Anything else (letters, extensions, non-ASCII digits, '#', ';') → the library.
const DIGIT = 1;
const SEPARATOR = 2;
const charClass = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) charClass[c] = DIGIT;
for (const s of ' -.()') charClass[s.charCodeAt(0)] = SEPARATOR;

/**
 * The digits of `raw` when it is digits and separators only, starting at `from`; else undefined.
 * Requires at least 3 digits (below that isViablePhoneNumber's outcome depends on punctuation).
 */
function plainDigits(raw: string, from: number): string | undefined {
  let digits = '';
  let separators = false;
  for (let i = from; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    const k = c < 128 ? charClass[c] : 0;
    if (k === DIGIT) continue;
    if (k !== SEPARATOR) return undefined;
    separators = true;
  }
  if (!separators) {
    digits = from === 0 ? raw : raw.slice(from);
  } else {
    for (let i = from; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      if (c >= 0x30 && c <= 0x39) digits += raw[i];
    }
  }
  return digits.length >= 3 && digits.length <= 20 ? digits : undefined;
}

/** Result of the fast path: E.164, null for invalid, undefined for "ask the library". */
export type FastPhoneResult = string | null | undefined;

/** Marks "this branch is left to the library" inside the fast path. */
const UNDECIDED = Symbol('undecided');

/** helpers/checkNumberLength.js without a type: the verdicts extractNationalNumber looks at. */
function lengthVerdict(length: number, lengths: readonly number[] | undefined): 'possible' | 'too_short' | 'too_long' | 'invalid' {
  if (lengths === undefined || lengths.length === 0) return 'possible';
  const min = lengths[0]!;
  if (min === length) return 'possible';
  if (min > length) return 'too_short';
  if (lengths[lengths.length - 1]! < length) return 'too_long';
  return lengths.indexOf(length, 1) >= 0 ? 'possible' : 'invalid';
}

/**
 * helpers/extractNationalNumber.js with `country` undefined and `plan` selected: strips the
 * national prefix when the library would. A prefix pattern with capture groups (carrier codes,
 * transform rules) is left to the library.
 */
function extractNational(number: string, plan: CountryPlan): string | typeof UNDECIDED {
  if (plan.nationalPrefix === undefined || number === '') return number;
  const match = plan.nationalPrefix.exec(number);
  if (match === null) return number;
  if (match.length > 1) return UNDECIDED;
  const stripped = number.slice(match[0].length);
  if (stripped === number) return number;
  // shouldHaveExtractedNationalPrefix: keep a number that was valid-looking only with its prefix.
  if (plan.nationalNumber.test(number) && !plan.nationalNumber.test(stripped)) return number;
  if (plan.lengths !== undefined) {
    const countries = callingCodes[Number(plan.callingCode)];
    if (countries === undefined || countries === null || countries === 'other') return UNDECIDED;
    const country = countryByNationalNumber(countries, stripped);
    const verdict = lengthVerdict(stripped.length, country === undefined ? plan.lengths : planFor(country).lengths);
    if (verdict === 'too_short' || verdict === 'invalid') return number;
  }
  return stripped;
}

/**
 * parse.js from a number with its calling code (FROM_NUMBER_WITH_PLUS_SIGN, or a national number
 * that turned out to start with the calling code): `digits` has no `+`.
 */
function fromCallingCode(digits: string): string | null | typeof UNDECIDED {
  if (digits.charCodeAt(0) === 0x30) return null; // extractCountryCallingCode: '+0…' has none
  // The shortest prefix of 1-3 digits that is a known calling code.
  let code = 0;
  let codeLength = 0;
  let countries: readonly string[] | null | 'other' = null;
  for (let i = 0; i < MAX_LENGTH_COUNTRY_CODE && i < digits.length; i++) {
    code = code * 10 + (digits.charCodeAt(i) - 0x30);
    countries = callingCodes[code]!;
    if (countries !== null) {
      codeLength = i + 1;
      break;
    }
  }
  if (countries === null) return null; // no calling code: parse() throws INVALID_COUNTRY
  if (countries === 'other') return UNDECIDED;
  const rest = digits.slice(codeLength);
  if (rest === '') return null;
  // The calling code's main country is selected while the national number is extracted.
  const main = planFor(countries[0]!);
  const nationalNumber = extractNational(rest, main);
  if (nationalNumber === UNDECIDED) return UNDECIDED;
  if (nationalNumber.length < MIN_LENGTH_FOR_NSN || nationalNumber.length > MAX_LENGTH_FOR_NSN) return null;
  const country = countryByNationalNumber(countries, nationalNumber);
  // No exact country: PhoneNumber keeps only the calling code and isValid selects its main country.
  const plan = country === undefined ? main : planFor(country);
  return isValidFor(plan, nationalNumber) ? `+${main.callingCode}${nationalNumber}` : null;
}

/** parse.js for digits without `+` and a default country (`home` is its plan). */
function fromNational(digits: string, defaultCountry: string, home: CountryPlan): string | null | typeof UNDECIDED {
  // stripIddPrefix: an international number dialled with the IDD prefix (rare) → the library.
  if (home.idd !== undefined && home.idd.test(digits)) return UNDECIDED;
  // extractCountryCallingCodeFromInternationalNumberWithoutPlusSign ("14155550123" in the US).
  if (digits.startsWith(home.callingCode)) {
    const withoutCode = extractNational(digits.slice(home.callingCode.length), home);
    const whole = extractNational(digits, home);
    if (withoutCode === UNDECIDED || whole === UNDECIDED) return UNDECIDED;
    if (
      (!home.nationalNumber.test(whole) && home.nationalNumber.test(withoutCode)) ||
      lengthVerdict(whole.length, home.lengths) === 'too_long'
    ) {
      // The calling code is taken off; from here parse.js goes exactly as for "+" + digits.
      return fromCallingCode(digits);
    }
  }
  const nationalNumber = extractNational(digits, home);
  if (nationalNumber === UNDECIDED) return UNDECIDED;
  if (nationalNumber.length < MIN_LENGTH_FOR_NSN || nationalNumber.length > MAX_LENGTH_FOR_NSN) return null;
  const countries = callingCodes[Number(home.callingCode)];
  if (countries === undefined || countries === null || countries === 'other') return UNDECIDED;
  // parse.js starts from country = defaultCountry and replaces it only when an exact one is found.
  const country = countryByNationalNumber(countries, nationalNumber) ?? defaultCountry;
  return isValidFor(planFor(country), nationalNumber) ? `+${home.callingCode}${nationalNumber}` : null;
}

/** The fast path alone (exported for the equivalence test). */
export function normalizePhoneFast(raw: string, defaultCountry: string | undefined): FastPhoneResult {
  if (raw.length < 3 || raw.length > 250) return undefined;
  let result: string | null | typeof UNDECIDED;
  if (raw.charCodeAt(0) === 0x2b) {
    const first = raw.charCodeAt(1);
    if (first < 0x30 || first > 0x39) return undefined; // '+(…', '+ …' stay with the library
    const digits = plainDigits(raw, 1);
    if (digits === undefined) return undefined;
    result = fromCallingCode(digits);
    // Written as bare E.164 already: hand back the input rather than an equal new string.
    if (typeof result === 'string' && result.length === raw.length) return raw;
  } else {
    if (defaultCountry === undefined) return undefined;
    const digits = plainDigits(raw, 0);
    if (digits === undefined) return undefined;
    result = fromNational(digits, defaultCountry, planFor(defaultCountry));
  }
  return result === UNDECIDED ? undefined : result;
}

/**
 * Builds the normaliser for one job. `defaultCountry` reads numbers written without `+`; a country
 * libphonenumber does not know is ignored, as parsePhoneNumberFromString ignores it.
 */
export function createPhoneNormalizer(defaultCountry: string): PhoneNormalizer {
  const home = metadata.hasCountry(defaultCountry) ? defaultCountry : undefined;
  return (raw: string) => {
    const fast = normalizePhoneFast(raw, home);
    if (fast !== undefined) return fast ?? undefined;
    return normalizePhoneReference(raw, defaultCountry);
  };
}

/** E.164 as a number (≤ 15 digits < 2^53, so exact): the compact key for dedupe sets. */
export function e164Key(e164: string): number {
  return Number(e164.slice(1));
}
