/**
 * Telnyx webhook signatures: Ed25519 over the bytes of "{telnyx-timestamp}|{raw body}", checked with the
 * account's public key (base64 of the 32 raw key bytes), as API-NOTES "Webhooks" describes. Pure apart
 * from node:crypto; the clock is injected.
 *
 * Verification runs on the raw body bytes, never on re-serialised JSON (which would change the bytes).
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { AppError } from '../shared/errors.js';

/** Timestamps further than this from now are refused, so a captured request cannot be replayed later. */
export const maxSkewSeconds = 300;

/**
 * The fixed DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE { SEQUENCE { OID 1.3.101.112 },
 * BIT STRING (33 bytes: 0 unused bits + the 32 key bytes) }. Telnyx publishes only the 32 key bytes.
 */
const ed25519SpkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');

/** Turns Telnyx's base64 public key into a node:crypto key; ERR_WEBHOOK_KEY if it is not 32 bytes. */
export function parsePublicKey(base64: string): KeyObject {
  const trimmed = base64.trim();
  const raw = /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (raw.length !== 32) {
    throw new AppError(
      'ERR_WEBHOOK_KEY',
      'the webhook public key must be the base64 of 32 raw Ed25519 bytes (Mission Control Portal → Keys & Credentials → Public Key)',
    );
  }
  return createPublicKey({ key: Buffer.concat([ed25519SpkiPrefix, raw]), format: 'der', type: 'spki' });
}

export type VerifyResult =
  | { ok: true; timestamp: number }
  | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'bad_signature'; detail: string };

export interface SignatureHeaders {
  /** `telnyx-timestamp`: Unix seconds. */
  timestamp: string | string[] | undefined;
  /** `telnyx-signature-ed25519`: base64 of the 64-byte signature. */
  signature: string | string[] | undefined;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
}

/**
 * Checks one webhook request. `missing` (headers absent) maps to 401; `malformed`, `stale` and
 * `bad_signature` to 403. The signature is checked before the timestamp's age so that a forged request
 * learns nothing about the clock.
 */
export function verifyWebhook(key: KeyObject, headers: SignatureHeaders, rawBody: Buffer, nowMs: number): VerifyResult {
  const timestamp = single(headers.timestamp)?.trim();
  const signature = single(headers.signature)?.trim();
  if (timestamp === undefined || timestamp === '' || signature === undefined || signature === '') {
    return { ok: false, reason: 'missing', detail: 'telnyx-timestamp and telnyx-signature-ed25519 headers are required' };
  }
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'malformed', detail: 'telnyx-timestamp is not Unix seconds' };
  const sig = /^[A-Za-z0-9+/]+={0,2}$/.test(signature) ? Buffer.from(signature, 'base64') : Buffer.alloc(0);
  if (sig.length !== 64) return { ok: false, reason: 'malformed', detail: 'telnyx-signature-ed25519 is not a base64 Ed25519 signature' };
  const signed = Buffer.concat([Buffer.from(`${timestamp}|`, 'utf8'), rawBody]);
  if (!verify(null, signed, key, sig)) return { ok: false, reason: 'bad_signature', detail: 'signature does not match the body' };
  const seconds = Number(timestamp);
  const skew = Math.abs(nowMs / 1000 - seconds);
  if (skew > maxSkewSeconds) {
    return { ok: false, reason: 'stale', detail: `timestamp is ${Math.round(skew)} s from now (at most ${maxSkewSeconds} s allowed)` };
  }
  return { ok: true, timestamp: seconds };
}
