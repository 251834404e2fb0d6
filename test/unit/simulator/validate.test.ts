import { describe, expect, it } from 'vitest';
import { validateSend } from '../../../src/telnyx/simulator/validate.js';

const now = Date.parse('2026-03-01T12:00:00Z');
const P = '4000eba1-a0c0-4563-9925-b25e842a7cb6';

describe('validateSend', () => {
  it('classifies the sender on /messages by its form', () => {
    const kinds = ['+13125550001', '+18445550001', '12345', 'MyShop'].map((from) => {
      const r = validateSend('messages', { from, to: '+447700900123', text: 'x', messaging_profile_id: P }, now);
      return r.ok ? r.send.senderType : r.error.code;
    });
    expect(kinds).toEqual(['long_code', 'toll_free', 'short_code', 'alphanumeric']);
  });

  it('takes a short code as 5-6 digits or in its E.164 form, as the job file does', () => {
    const codes = ['12345', '123456', '+18445550003', '1234', 'ACME'].map((from) => {
      const r = validateSend('short_code', { from, to: '+13125550100', text: 'x' }, now);
      return r.ok ? r.send.senderType : r.error.code;
    });
    expect(codes).toEqual(['short_code', 'short_code', 'short_code', '40305', '40305']);
  });

  it('refuses a messaging_profile_id that is not a UUID with 422', () => {
    const r = validateSend('number_pool', { messaging_profile_id: 'prof-1', to: '+13125550100', text: 'x' }, now);
    expect(!r.ok && [r.status, r.error.code, r.error.source?.pointer]).toEqual([422, '10015', '/messaging_profile_id']);
  });

  it('leaves the sender open for a pool send', () => {
    const r = validateSend('messages', { messaging_profile_id: P, to: '+13125550100', text: 'x' }, now);
    expect(r.ok && [r.send.from, r.send.senderType, r.send.profileId]).toEqual([undefined, undefined, P]);
  });

  it('accepts a short code as recipient, refuses duplicate group recipients', () => {
    expect(validateSend('long_code', { from: '+13125550001', to: '54321', text: 'x' }, now).ok).toBe(true);
    const dup = validateSend('group_mms', { from: '+13125550001', to: ['+13125550100', '+13125550100'], text: 'x' }, now);
    expect(!dup.ok && dup.error.code).toBe('10015');
  });

  it('accepts send_at between 5 minutes and 5 days ahead', () => {
    const at = (ms: number) => validateSend('messages', { from: '+13125550001', to: '+13125550100', text: 'x', send_at: new Date(now + ms).toISOString() }, now);
    expect(at(4 * 60_000).ok).toBe(false);
    const ok = at(6 * 60_000);
    expect(ok.ok && ok.send.sendAt).toBe(now + 6 * 60_000);
    expect(at(5 * 86_400_000 - 1000).ok).toBe(true);
    expect(at(5 * 86_400_000 + 60_000).ok).toBe(false);
    expect(validateSend('messages', { from: '+13125550001', to: '+13125550100', text: 'x', send_at: null }, now).ok).toBe(true);
  });

  it('counts short-code texts as 7-bit ASCII and honours a forced UCS-2', () => {
    const sc = validateSend('short_code', { from: '12345', to: '+13125550100', text: '{'.repeat(100) }, now);
    expect(sc.ok && sc.send.parts).toBe(1); // GSM would count each brace as 2 septets → 2 parts
    const lc = validateSend('long_code', { from: '+13125550001', to: '+13125550100', text: '{'.repeat(100) }, now);
    expect(lc.ok && lc.send.parts).toBe(2);
    const ucs = validateSend('long_code', { from: '+13125550001', to: '+13125550100', text: 'a'.repeat(71), encoding: 'ucs2' }, now);
    expect(ucs.ok && [ucs.send.parts, ucs.send.encoding]).toEqual([2, 'UCS-2']);
  });

  it('treats a text-only group MMS as MMS and needs text or media', () => {
    const g = validateSend('group_mms', { from: '+13125550001', to: ['+13125550100'], text: 'hi' }, now);
    expect(g.ok && [g.send.type, g.send.parts]).toEqual(['MMS', 1]);
    const none = validateSend('group_mms', { from: '+13125550001', to: ['+13125550100'] }, now);
    expect(!none.ok && none.error.code).toBe('10016');
  });
});
