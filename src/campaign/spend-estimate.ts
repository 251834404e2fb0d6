/**
 * What one message costs before Telnyx says (its answer often has no cost yet): the job's `pricing`
 * block applied to the row, as `plan` estimates a campaign — SMS segments × the per-part price of the
 * recipient's country, an MMS × `mms_per_message` per recipient. In micro-dollars, for the daily spend
 * cap (campaign/daily-caps.ts).
 */
import type { JobSpec } from '../config/job-spec.js';
import { unitPrice } from '../config/pricing-spec.js';
import type { PendingMessage } from '../dispatch/ports.js';
import { createCountryResolver } from '../plan/country.js';
import { toMicros } from '../shared/micros.js';

export function messagePrice(pricing: NonNullable<JobSpec['pricing']>, mms: boolean): (msg: PendingMessage) => number {
  const kind = mms ? 'mms' : 'sms';
  const countryOf = createCountryResolver(Object.keys(pricing.countries ?? {}));
  // One price per priced country (and the default), converted once.
  const byCountry = new Map<string | undefined, number>();
  const price = (to: string) => {
    const country = countryOf(to);
    let micros = byCountry.get(country);
    if (micros === undefined) byCountry.set(country, (micros = toMicros(unitPrice(pricing, country, kind))));
    return micros;
  };
  return (msg) => {
    if (!mms) return price(msg.to) * Math.max(1, msg.parts);
    // A group MMS goes to every participant (its `to` lists them), each billed.
    return msg.to.split(',').reduce((sum, to) => sum + price(to), 0);
  };
}
