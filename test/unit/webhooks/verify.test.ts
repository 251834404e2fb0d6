import { sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/shared/errors.js';
import { maxSkewSeconds, parsePublicKey, verifyWebhook } from '../../../src/webhooks/verify.js';
import { keyPair } from './helpers.js';

const body = Buffer.from('{"data":{"id":"e1","event_type":"message.sent"}}');
const now = 1_800_000_000_000;
const ts = String(now / 1000);

function signature(privateKey: ReturnType<typeof keyPair>['privateKey'], timestamp: string, raw: Buffer): string {
  return sign(null, Buffer.concat([Buffer.from(`${timestamp}|`), raw]), privateKey).toString('base64');
}

describe('parsePublicKey', () => {
  it('accepts the base64 of 32 raw bytes and rejects anything else with ERR_WEBHOOK_KEY', () => {
    expect(parsePublicKey(keyPair().publicKey).asymmetricKeyType).toBe('ed25519');
    for (const bad of ['', 'not base64!', Buffer.alloc(31).toString('base64'), Buffer.alloc(33).toString('base64')]) {
      let caught: unknown;
      try {
        parsePublicKey(bad);
      } catch (err) {
        caught = err;
      }
      expect(isAppError(caught, 'ERR_WEBHOOK_KEY')).toBe(true);
    }
  });
});

describe('verifyWebhook', () => {
  const { privateKey, publicKey } = keyPair();
  const key = parsePublicKey(publicKey);

  it('accepts a signature over "{timestamp}|{raw body}"', () => {
    expect(verifyWebhook(key, { timestamp: ts, signature: signature(privateKey, ts, body) }, body, now)).toEqual({ ok: true, timestamp: now / 1000 });
  });

  it('rejects a tampered body, a wrong key, and a signature over a different timestamp', () => {
    const sig = signature(privateKey, ts, body);
    const tampered = Buffer.from(body.toString().replace('e1', 'e2'));
    expect(verifyWebhook(key, { timestamp: ts, signature: sig }, tampered, now)).toMatchObject({ ok: false, reason: 'bad_signature' });
    const other = keyPair();
    expect(verifyWebhook(key, { timestamp: ts, signature: signature(other.privateKey, ts, body) }, body, now)).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(verifyWebhook(key, { timestamp: String(now / 1000 + 1), signature: sig }, body, now)).toMatchObject({ ok: false, reason: 'bad_signature' });
    // Re-serialised JSON is different bytes: verification must use the raw body.
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1));
    expect(verifyWebhook(key, { timestamp: ts, signature: sig }, reserialised, now)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('rejects timestamps more than 300 s away, past or future, and accepts the edge', () => {
    for (const offset of [-(maxSkewSeconds + 1), maxSkewSeconds + 1]) {
      const t = String(now / 1000 + offset);
      expect(verifyWebhook(key, { timestamp: t, signature: signature(privateKey, t, body) }, body, now)).toMatchObject({ ok: false, reason: 'stale' });
    }
    const edge = String(now / 1000 - maxSkewSeconds);
    expect(verifyWebhook(key, { timestamp: edge, signature: signature(privateKey, edge, body) }, body, now).ok).toBe(true);
  });

  it('reports missing headers apart from malformed ones', () => {
    const sig = signature(privateKey, ts, body);
    expect(verifyWebhook(key, { timestamp: undefined, signature: sig }, body, now)).toMatchObject({ ok: false, reason: 'missing' });
    expect(verifyWebhook(key, { timestamp: ts, signature: undefined }, body, now)).toMatchObject({ ok: false, reason: 'missing' });
    expect(verifyWebhook(key, { timestamp: ts, signature: '' }, body, now)).toMatchObject({ ok: false, reason: 'missing' });
    expect(verifyWebhook(key, { timestamp: 'yesterday', signature: sig }, body, now)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(verifyWebhook(key, { timestamp: ts, signature: 'AAAA' }, body, now)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(verifyWebhook(key, { timestamp: [ts, ts], signature: sig }, body, now)).toMatchObject({ ok: false, reason: 'missing' });
  });
});
