/**
 * The account file: the limits Telnyx sets for the whole account and for each sender, declared once
 * (jobs name senders instead of repeating limits). A zod schema (unknown keys are errors that name the
 * key) and `parseAccountSpec` (pure); `loadAccountSpec` reads it.
 *
 * Why senders carry a type: Telnyx's per-sender throughput depends on it (API-NOTES "Throughput"), and
 * the number usually says which it is (NANP toll-free prefixes, 5–6 digit short codes, letters for an
 * alphanumeric ID); the file can override the guess. US long codes are 10DLC: their real limit is the
 * campaign's per-minute figure, shared by every number of the campaign, and the brand's daily cap.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { describeIssues } from './job-spec.js';
import { priceSchema } from './pricing-spec.js';

export type SenderType = 'long_code' | 'toll_free' | 'short_code' | 'alphanumeric';

/** Telnyx's default account throughput (messages/s), API-NOTES. */
export const DEFAULT_ACCOUNT_RATE = { sms: 50, mms: 15 } as const;

/** NANP toll-free area codes: such a number is toll-free whatever the file says it is not. */
export const TOLL_FREE_NPA: ReadonlySet<string> = new Set(['800', '833', '844', '855', '866', '877', '888']);

const positive = z.number().positive();

const senderEntrySchema = z.strictObject({
  /** The E.164 number, the short code, or the alphanumeric sender ID. */
  id: z.string().min(1, 'must not be empty'),
  /** @default inferred from the id */
  type: z.enum(['long_code', 'toll_free', 'short_code', 'alphanumeric']).optional(),
  /** ISO country of the number. @default from the number (libphonenumber-js); US for short codes */
  country: z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter ISO country code such as US').optional(),
  /** Messages (segments) per second for this sender. @default by type: what Telnyx drains it at */
  per_second: positive.optional(),
  /** The 10DLC campaign of a US long code (a key of `campaigns`). */
  campaign: z.string().min(1).optional(),
});

const campaignSchema = z.strictObject({
  /** The campaign's per-minute limit (AT&T's figure for its message class), shared by all its numbers. */
  per_minute: positive,
  /** The brand the campaign belongs to (a key of `brands`), whose daily cap it shares. */
  brand: z.string().min(1).optional(),
});

const brandSchema = z.strictObject({
  /** T-Mobile's daily cap for the brand, in segments per UTC day. @default 2000 */
  daily_cap: z.number().int().positive().default(2000),
});

export const accountSpecSchema = z
  .strictObject({
    limits: z
      .strictObject({
        /** Account-wide SMS per second (segments). @default 50 */
        sms_per_second: positive.default(DEFAULT_ACCOUNT_RATE.sms),
        /** Account-wide MMS per second. @default 15 */
        mms_per_second: positive.default(DEFAULT_ACCOUNT_RATE.mms),
        /**
         * What the account may spend per UTC day, in USD (a decimal such as "25.00"), counted in the
         * ledger; past it rows are deferred to the next UTC day. Needs the job's `pricing` block. @default none
         */
        daily_spend_usd: priceSchema.optional(),
      })
      .default({ sms_per_second: DEFAULT_ACCOUNT_RATE.sms, mms_per_second: DEFAULT_ACCOUNT_RATE.mms }),
    senders: z.array(senderEntrySchema).default([]),
    campaigns: z.record(z.string(), campaignSchema).default({}),
    brands: z.record(z.string(), brandSchema).default({}),
    /** Named lists of sender ids a job can name with `sender.group`. */
    groups: z.record(z.string(), z.array(z.string().min(1)).min(1)).default({}),
  })
  .superRefine((doc, ctx) => {
    const ids = new Set<string>();
    doc.senders.forEach((s, i) => {
      if (ids.has(s.id)) ctx.addIssue({ code: 'custom', path: ['senders', i, 'id'], message: `${s.id} is listed twice` });
      ids.add(s.id);
      if (s.campaign !== undefined && doc.campaigns[s.campaign] === undefined) {
        ctx.addIssue({ code: 'custom', path: ['senders', i, 'campaign'], message: `no campaign ${s.campaign} under campaigns` });
      }
      const type = s.type ?? inferSenderType(s.id);
      if (s.campaign !== undefined && type !== 'long_code') {
        ctx.addIssue({ code: 'custom', path: ['senders', i, 'campaign'], message: `only long codes have a 10DLC campaign; ${s.id} is ${type}` });
      }
    });
    for (const [name, c] of Object.entries(doc.campaigns)) {
      if (c.brand !== undefined && doc.brands[c.brand] === undefined) {
        ctx.addIssue({ code: 'custom', path: ['campaigns', name, 'brand'], message: `no brand ${c.brand} under brands` });
      }
    }
    for (const [name, members] of Object.entries(doc.groups)) {
      members.forEach((m, i) => {
        if (!ids.has(m)) ctx.addIssue({ code: 'custom', path: ['groups', name, i], message: `${m} is not under senders` });
      });
    }
  });

export interface AccountSender {
  id: string;
  type: SenderType;
  country: string | undefined;
  /** Where `type` came from: the file, or the number itself. */
  typeSource: 'file' | 'inferred';
  perSecond: number | undefined;
  campaign: string | undefined;
}

export interface AccountSpec {
  /** Absolute path of the file (for messages). */
  file: string;
  limits: { sms_per_second: number; mms_per_second: number; daily_spend_usd?: string | undefined };
  senders: ReadonlyMap<string, AccountSender>;
  campaigns: Readonly<Record<string, { per_minute: number; brand?: string | undefined }>>;
  brands: Readonly<Record<string, { daily_cap: number }>>;
  groups: Readonly<Record<string, readonly string[]>>;
}

/** The type a sender id says it is: letters → alphanumeric, 5–6 digits → short code, a NANP toll-free prefix → toll-free. */
export function inferSenderType(id: string): SenderType {
  if (/[A-Za-z]/.test(id)) return 'alphanumeric';
  const digits = id.replace(/^\+/, '');
  if (/^\d{5,6}$/.test(digits)) return 'short_code';
  if (digits.length === 11 && digits.startsWith('1') && TOLL_FREE_NPA.has(digits.slice(1, 4))) return 'toll_free';
  return 'long_code';
}

/** The country of a sender: the file's, else the number's; short codes and alphanumeric IDs have none to read. */
export function senderCountry(id: string, type: SenderType): string | undefined {
  if (type === 'short_code' || type === 'alphanumeric') return undefined;
  return parsePhoneNumberFromString(id)?.country;
}

/** Validates an account document. Pure; throws ERR_ACCOUNT_INVALID naming every bad key. */
export function parseAccountSpec(doc: unknown, file: string): AccountSpec {
  const result = accountSpecSchema.safeParse(doc ?? {});
  if (!result.success) {
    throw new AppError('ERR_ACCOUNT_INVALID', `invalid account file ${file}:\n${describeIssues(result.error)}`);
  }
  const d = result.data;
  const senders = new Map<string, AccountSender>();
  for (const s of d.senders) {
    const type = s.type ?? inferSenderType(s.id);
    senders.set(s.id, {
      id: s.id,
      type,
      typeSource: s.type === undefined ? 'inferred' : 'file',
      country: s.country ?? senderCountry(s.id, type),
      perSecond: s.per_second,
      campaign: s.campaign,
    });
  }
  return { file, limits: d.limits, senders, campaigns: d.campaigns, brands: d.brands, groups: d.groups };
}
