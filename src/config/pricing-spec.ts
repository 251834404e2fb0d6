/**
 * The job file's `pricing` block: what `bulktext plan` multiplies segments by to estimate a run's
 * cost. Prices are kept as decimal strings ("0.0040") so the estimate is exact decimal arithmetic,
 * not a sum of binary floats; a number is accepted too and turned into its decimal string.
 *
 * ```yaml
 * pricing:
 *   per_part: "0.0040"        # each SMS segment
 *   currency: USD
 *   countries: { GB: "0.0400", CA: "0.0050" }   # per destination country (of the recipient number)
 *   mms_per_message: "0.0150" # each MMS (not split into parts)
 * ```
 */
import { isSupportedCountry } from 'libphonenumber-js';
import { z } from 'zod';

const DECIMAL = /^\d{1,9}(\.\d{1,10})?$/;

/** A non-negative decimal price: "0.0040" or 0.004 (→ "0.004"). */
export const priceSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const text = typeof value === 'number' ? String(value) : value.trim();
  if (typeof value === 'number' && !Number.isFinite(value)) {
    ctx.addIssue({ code: 'custom', message: `${value} is not a price` });
    return z.NEVER;
  }
  if (!DECIMAL.test(text)) {
    ctx.addIssue({
      code: 'custom',
      message:
        typeof value === 'number'
          ? `${value} is not a plain decimal price; write it as a string such as "0.0040"`
          : `"${value}" is not a decimal price such as "0.0040" (digits, optional point, no sign or exponent)`,
    });
    return z.NEVER;
  }
  return text;
});

export const pricingSchema = z.strictObject({
  /** Price of one SMS segment (part), as a decimal. */
  per_part: priceSchema,
  /** ISO 4217 currency the prices are in. @default "USD" */
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be a three-letter ISO 4217 currency code such as USD')
    .default('USD'),
  /**
   * Per-part price by the recipient's country (ISO 3166 alpha-2, decided from the number with
   * libphonenumber-js), overriding `per_part` for numbers of that country.
   */
  countries: z
    .record(z.string(), priceSchema)
    .superRefine((countries, ctx) => {
      for (const key of Object.keys(countries)) {
        if (!/^[A-Z]{2}$/.test(key) || !isSupportedCountry(key)) {
          ctx.addIssue({ code: 'custom', path: [key], message: `"${key}" is not a two-letter country code with phone numbers, such as GB or CA` });
        }
      }
    })
    .optional(),
  /** Price of one MMS message (MMS is not split into parts). @default the SMS per-part price of the recipient's country */
  mms_per_message: priceSchema.optional(),
});

export type PricingSpec = z.output<typeof pricingSchema>;

/**
 * The price of one billable unit — an SMS segment, or an MMS to one recipient — for a recipient of
 * `country` (undefined: a country the block does not price). `plan`'s estimate and the daily spend cap's
 * count both apply this rule, so they can never disagree.
 */
export function unitPrice(pricing: PricingSpec, country: string | undefined, kind: 'sms' | 'mms'): string {
  const perPart = (country === undefined ? undefined : pricing.countries?.[country]) ?? pricing.per_part;
  return kind === 'mms' ? (pricing.mms_per_message ?? perPart) : perPart;
}
