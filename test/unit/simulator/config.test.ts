import { describe, expect, it } from 'vitest';
import {
  defaultPool,
  formatUnits,
  parseDecimal,
  resolveConfig,
  resolveOutcome,
  senderType,
} from '../../../src/telnyx/simulator/config.js';

describe('simulator config', () => {
  it('classifies senders: short code, toll-free (real NANP set), alphanumeric, long code', () => {
    expect(senderType('12345')).toBe('short_code');
    expect(senderType('+123456')).toBe('short_code');
    expect(senderType('+18005550100')).toBe('toll_free');
    expect(senderType('+18885550100')).toBe('toll_free');
    expect(senderType('+18015550100')).toBe('long_code'); // 801 is Utah, not toll-free
    expect(senderType('+13125550100')).toBe('long_code');
    expect(senderType('+447700900123')).toBe('long_code');
    expect(senderType('MyShop')).toBe('alphanumeric');
  });

  it('does money in integer units', () => {
    expect(parseDecimal('0.0040')).toEqual({ units: 40, scale: 4 });
    expect(parseDecimal('2')).toEqual({ units: 2, scale: 0 });
    expect(formatUnits(40 * 3, 4)).toBe('0.0120');
    expect(formatUnits(123456, 4)).toBe('12.3456');
    expect(formatUnits(5, 0)).toBe('5');
    const c = resolveConfig({ pricePerPart: '0.00305', spendLimit: 1.5 });
    expect([c.pricePerPartUnits, c.priceScale, c.spendLimitUnits]).toEqual([305, 5, 150_000]);
  });

  it('fills the documented defaults', () => {
    const c = resolveConfig({});
    expect(c.accountRate).toBe(50);
    expect(c.mmsAccountRate).toBe(15);
    expect(c.senderRates).toEqual({ long_code: 1, toll_free: 20, short_code: 1000, alphanumeric: 0.1 });
    expect(c.queueMs).toBe(14_400_000);
    expect(c.apiLimit).toBeUndefined();
    expect(c.costAtSend).toBe(true);
    expect(c.webhooks).toMatchObject({ enabled: true, triesPerUrl: 3, timeoutMs: 2000, delayMs: 0 });
    expect(c.faultTable).toEqual([]);
  });

  it('builds a cumulative fault table', () => {
    const c = resolveConfig({ faults: { probabilities: { server_error: 0.1, hang: 0, accept_then_reset: 0.2 } } });
    expect(c.faultTable.map((r) => r.kind)).toEqual(['server_error', 'accept_then_reset']);
    expect(c.faultTable[1]!.upTo).toBeCloseTo(0.3);
  });

  it('gives every profile id a stable default pool of five toll-free numbers', () => {
    const a = defaultPool('profile-a');
    expect(a.numbers).toHaveLength(5);
    expect(new Set(a.numbers).size).toBe(5);
    expect(a.numbers.every((n) => senderType(n) === 'toll_free')).toBe(true);
    expect(defaultPool('profile-a').numbers).toEqual(a.numbers);
    expect(defaultPool('profile-b').numbers).not.toEqual(a.numbers);
  });

  it('derives a failure status from the code unless given', () => {
    expect(resolveOutcome('delivered').status).toBe('delivered');
    expect(resolveOutcome('40008')).toMatchObject({ status: 'delivery_failed', error: { code: '40008', title: 'Undeliverable' } });
    expect(resolveOutcome('40001').status).toBe('sending_failed');
    expect(resolveOutcome('40014').status).toBe('expired');
    expect(resolveOutcome({ code: '40008', status: 'delivery_unconfirmed', detail: 'why' }).error).toMatchObject({ detail: 'why' });
  });
});
