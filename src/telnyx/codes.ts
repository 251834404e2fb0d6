/**
 * The one table of Telnyx error codes: what each means (Telnyx's title, as its error-code reference
 * words it) and what an operator should do about it. The simulator writes these titles on the wire and
 * the dashboard and `status` explain failures with them, so the fake and the explanation cannot drift.
 * Codes arrive as HTTP errors at send time or in `errors[]` of a `message.finalized` receipt.
 */
export interface TelnyxCodeInfo {
  title: string;
  /** What to do, for a person reading a run's failures. */
  advice: string;
}

export const telnyxCodes: Readonly<Record<string, TelnyxCodeInfo>> = {
  '10004': { title: 'Missing required parameter', advice: 'a field the endpoint needs is missing: check the job file' },
  '10005': { title: 'Resource not found', advice: 'check the messaging profile id and TELNYX_BASE_URL' },
  '10007': { title: 'Unexpected error', advice: 'a Telnyx-side fault: resume later; rows in doubt stay unknown' },
  '10009': { title: 'Authentication failed', advice: 'the API key is wrong or revoked: set a valid TELNYX_API_KEY and resume' },
  '10010': { title: 'Authorization failed', advice: 'the key may not send from this account or profile: check it in the portal, then resume' },
  '10011': { title: 'Too many requests', advice: 'API request limit: lower rate.messages_per_second' },
  '10015': { title: 'Invalid value', advice: 'a field has a value Telnyx refuses: check the job file' },
  '10016': { title: 'Missing required parameter', advice: 'a field the endpoint needs is missing: check sender and profile in the job file' },
  '10037': { title: 'Service unavailable', advice: 'Telnyx is unavailable: resume later' },
  '20012': { title: 'Account inactive', advice: 'the account is inactive: contact Telnyx, then resume' },
  '20100': { title: 'Insufficient funds', advice: 'top up the balance, then resume' },
  '40001': { title: 'Not routable', advice: 'the destination cannot receive SMS (landline or unknown number): remove it from the list' },
  '40002': { title: 'Blocked as spam - temporary', advice: 'the carrier filtered the text as spam: reword it, register the campaign, slow down' },
  '40003': { title: 'Blocked as spam - permanent', advice: 'the carrier blocks this content or sender: change the text or sender' },
  '40006': { title: 'Recipient server unavailable', advice: 'a carrier-side outage: try these recipients again later' },
  '40008': { title: 'Undeliverable', advice: 'the handset could not be reached (off, out of service): try again later or drop the number' },
  '40010': { title: 'Not 10DLC registered', advice: 'register the sending number with a 10DLC campaign before texting US numbers' },
  '40011': { title: 'Too many requests', advice: 'an upstream rate limit: lower the per-sender rate' },
  '40014': { title: 'Message expired during transmission', advice: 'it waited too long in a queue: lower the rate or split the list' },
  '40016': { title: 'T-Mobile sending limit reached', advice: "the brand's daily T-Mobile cap is spent: send the rest tomorrow" },
  '40018': { title: 'AT&T sending limit reached', advice: "the campaign's AT&T per-minute limit is exceeded: lower the rate" },
  '40300': { title: 'Blocked due to STOP message', advice: 'the recipient opted out: they are now suppressed; never resend' },
  '40302': { title: 'Message too large', advice: 'more than 10 parts: shorten the template' },
  '40305': { title: "Invalid 'from' address", advice: 'the sender is not a number of this account: fix sender.from' },
  '40309': { title: "Invalid 'from' for messaging profile", advice: 'the sender is not in the messaging profile: fix sender.from or the profile' },
  '40310': { title: "Invalid 'to' address", advice: 'the destination is not a valid number: fix or drop it' },
  '40312': { title: 'Messaging profile disabled', advice: 'enable the messaging profile in the portal, then resume' },
  '40314': { title: 'Messaging disabled', advice: 'messaging is disabled on the account: contact Telnyx, then resume' },
  '40316': { title: 'Invalid media URL', advice: 'a media URL is unreachable or too large: fix message.media_urls' },
  '40317': { title: 'Invalid send_at', advice: 'send_at must be 5 minutes to 5 days ahead' },
  '40318': { title: 'Message queue full', advice: 'the sender or account queue is full: lower the rates' },
  '40328': { title: 'Alphanumeric sender ID not supported for destination', advice: 'use a number as the sender for these countries' },
  '40333': { title: 'Daily spend limit reached', advice: "the profile's daily spend limit is spent: resume after 00:00 UTC or raise it" },
};

/** bulktext's own codes for rows that failed without a Telnyx code. */
const ownCodes: Readonly<Record<string, TelnyxCodeInfo>> = {
  in_doubt: {
    title: 'In doubt: the request may have reached Telnyx',
    advice: 'check with the recipient or wait for a receipt; resume --resend-unknown sends again (they may get two)',
  },
};

/** What a code means and what to do; a code nobody documented gets a generic line. */
export function describeCode(code: string | null): TelnyxCodeInfo {
  if (code === null) return { title: 'No error code', advice: 'see the error detail in the report' };
  return telnyxCodes[code] ?? ownCodes[code] ?? { title: 'Message delivery failed', advice: 'see the error detail in the report' };
}
