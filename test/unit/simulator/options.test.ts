import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/shared/errors.js';
import { parseConfigPatch, parseSimulatorOptions } from '../../../src/telnyx/simulator/options.js';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isAppError(err, 'ERR_USAGE')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a throw');
}

describe('simulator options', () => {
  it('accepts a full, valid set', () => {
    const o = parseSimulatorOptions({
      port: 0,
      host: '127.0.0.1',
      apiKey: 'k',
      seed: 1,
      accountRate: 100,
      mmsAccountRate: 5,
      senderRates: { longCode: 2, tollFree: 20, shortCode: 100, alphanumeric: 0.1, byNumber: { '+13125550001': 0.5 } },
      queueSeconds: 60,
      apiRequestLimit: { requests: 10, windowMs: 1000 },
      spendLimit: 10,
      pricePerPart: '0.0040',
      currency: 'USD',
      costAtSend: false,
      stopList: ['+13125550100'],
      profiles: { '4000eba1-a0c0-4563-9925-b25e842a7cb6': ['+18445550001'], '6c2d1f7a-0b6e-4c39-9d0e-3a8f5b2e7c11': { numbers: ['+18445550002'], webhookUrl: 'http://127.0.0.1:1/h' } },
      webhooks: { enabled: true, defaultWebhookUrl: 'http://127.0.0.1:1/h', delayMs: 5, duplicateProbability: 0.1, outOfOrderProbability: 0.1 },
      outcomes: { recipients: { '+13125550100': '40008', '+13125550101': 'delivered' }, failureProbability: 0.01, failureCodes: ['40002'] },
      faults: { recipients: { '+13125550100': ['accept_then_reset', 'none'] }, probabilities: { server_error: 0.1 }, latencyMs: 10 },
      lifecycle: { sendingMs: 1, deliveryMs: 1 },
    });
    expect(o.queueSeconds).toBe(60);
  });

  it('names unknown keys and bad values by path', () => {
    const msg = messageOf(() =>
      parseSimulatorOptions({ stoplist: [], webhooks: { delay: 1 }, outcomes: { recipients: { '+1': '4000' } }, accountRate: -1 }, 'scenario x.json'),
    );
    expect(msg).toContain('invalid scenario x.json');
    expect(msg).toContain('(top level): unknown key "stoplist"');
    expect(msg).toContain('webhooks: unknown key "delay"');
    expect(msg).toContain('outcomes.recipients.+1');
    expect(msg).toContain('accountRate');
  });

  it('refuses fault probabilities that add up to more than 1, and unknown fault kinds', () => {
    expect(messageOf(() => parseSimulatorOptions({ faults: { probabilities: { server_error: 0.6, hang: 0.6 } } }))).toContain(
      'at most 1',
    );
    expect(messageOf(() => parseSimulatorOptions({ faults: { recipients: { '+1555': ['explode'] } } }))).toContain('faults.recipients');
  });

  it('limits run-time config to the run-time keys', () => {
    expect(parseConfigPatch({ stopList: ['+1'] })).toEqual({ stopList: ['+1'] });
    expect(messageOf(() => parseConfigPatch({ port: 1 }))).toContain('unknown key "port"');
  });
});
