/**
 * What one message costs before Telnyx says (its answer often has no cost yet): the job's `pricing`
 * block applied to the row, as `plan` estimates a campaign — SMS segments × the per-part price of the
 * recipient's country, an MMS × `mms_per_message` per recipient. In micro-dollars, for the daily spend
 * cap (campaign/daily-caps.ts).
 */
import type { JobSpec } from '../config/job-spec.js';
import type { PendingMessage } from '../dispatch/ports.js';
import { createCountryResolver } from '../plan/country.js';
import { toMicros } from '../shared/micros.js';

export function messagePrice(pricing: NonNullable<JobSpec['pricing']>, mms: boolean): (msg: PendingMessage) => number {
  const perPart = toMicros(pricing.per_part);
  const byCountry = new Map(Object.entries(pricing.countries ?? {}).map(([c, p]) => [c, toMicros(p)]));
  const mmsPrice = pricing.mms_per_message === undefined ? undefined : toMicros(pricing.mms_per_message);
  const countryOf = createCountryResolver([...byCountry.keys()]);
  const partPrice = (to: string) => {
    const country = countryOf(to);
    return (country === undefined ? undefined : byCountry.get(country)) ?? perPart;
  };
  return (msg) => {
    if (!mms) return partPrice(msg.to) * Math.max(1, msg.parts);
    // A group MMS goes to every participant (its `to` lists them), each billed.
    const recipients = msg.to.split(',');
    return recipients.reduce((sum, to) => sum + (mmsPrice ?? partPrice(to)), 0);
  };
}
