/**
 * The forms a sender can take, in one place: the job file, the request builder and the simulator must
 * accept exactly the same ones, or a job that validates fails every row (or the fake accepts what
 * Telnyx refuses). Source: the OpenAPI spec's send bodies (test/fixtures/messaging-openapi.yml).
 */

/** E.164: a plus, a non-zero digit, then up to 14 more digits. */
export const E164 = /^\+[1-9]\d{1,14}$/;

/** A short code as carriers print it: 5 or 6 digits. */
const SHORT_CODE_DIGITS = /^\d{5,6}$/;

/** An alphanumeric sender ID: 1–11 letters, digits or spaces, at least one letter. */
export const ALPHANUMERIC_SENDER_ID = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;

/** A messaging profile id (the spec's `format: uuid`); any other value fails every send with 422. */
export const PROFILE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A short code's `from`: the bare 5–6 digits, or the "+E.164 format" the spec's
 * CreateShortCodeMessageRequest documents (its example is `+18445550001`).
 */
export function isShortCodeSender(from: string): boolean {
  return SHORT_CODE_DIGITS.test(from) || E164.test(from);
}

/**
 * The `message` keys POST /messages/alphanumeric_sender_id declares besides `from`, `to` and
 * `messaging_profile_id`: no subject, media, type, encoding or auto_detect.
 */
export const alphanumericMessageKeys = ['text', 'webhook_url', 'webhook_failover_url', 'use_profile_webhooks'] as const;

/**
 * Destinations that refuse alphanumeric senders, by E.164 prefix (Telnyx answers 40328). Telnyx documents
 * the US, Canada and Puerto Rico (developers.telnyx.com, "Alphanumeric Sender ID"); they share +1 with the
 * rest of the North American Numbering Plan, which is refused as a whole. Add a prefix here to refuse more.
 */
export const alphanumericRefusedDestinations: readonly { prefix: string; region: string }[] = [
  { prefix: '+1', region: '+1 (US, Canada, Puerto Rico and the rest of the North American Numbering Plan)' },
];

/** The region that refuses alphanumeric senders for this E.164 number, or undefined when it takes them. */
export function alphanumericRefusal(e164: string): string | undefined {
  return alphanumericRefusedDestinations.find((d) => e164.startsWith(d.prefix))?.region;
}
