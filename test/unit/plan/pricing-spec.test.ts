import { describe, expect, it } from 'vitest';
import { describeIssues } from '../../../src/config/job-spec.js';
import { pricingSchema } from '../../../src/config/pricing-spec.js';

describe('pricingSchema', () => {
  it('keeps decimal strings, turns plain numbers into them, defaults the currency', () => {
    expect(pricingSchema.parse({ per_part: '0.0040', countries: { GB: 0.04 } })).toEqual({
      per_part: '0.0040',
      currency: 'USD',
      countries: { GB: '0.04' },
    });
    expect(pricingSchema.parse({ per_part: 0.004, currency: 'EUR', mms_per_message: '0.0150' })).toEqual({
      per_part: '0.004',
      currency: 'EUR',
      mms_per_message: '0.0150',
    });
  });

  it.each([
    [{ per_part: '-0.01' }, 'per_part: "-0.01" is not a decimal price'],
    [{ per_part: 1e-7 }, 'per_part: 1e-7 is not a plain decimal price'],
    [{ per_part: '0.004', currency: 'usd' }, 'currency: must be a three-letter ISO 4217 currency code'],
    [{ per_part: '0.004', countries: { UK: '0.04' } }, 'countries.UK: "UK" is not a two-letter country code'],
    [{ per_part: '0.004', per_segment: '0.1' }, 'unknown key per_segment'],
    [{}, 'per_part:'],
  ])('rejects %j naming the key', (input, message) => {
    const result = pricingSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(describeIssues(result.error!)).toContain(message);
  });
});
