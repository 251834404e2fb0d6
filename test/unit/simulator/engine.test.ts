import { describe, expect, it } from 'vitest';
import { SimulatorEngine } from '../../../src/telnyx/simulator/engine.js';

const body = (from: string, extra: Record<string, unknown> = {}) => ({ from, to: '+13125550100', text: 'x', ...extra });

describe('SimulatorEngine queue model', () => {
  it('spaces departures at the sender rate, parts counted', () => {
    const e = new SimulatorEngine({ seed: 1, senderRates: { longCode: 2 }, accountRate: 1000 });
    const a = e.send('long_code', body('+13125550001'));
    const b = e.send('long_code', body('+13125550001', { text: 'y'.repeat(200) }));
    const c = e.send('long_code', body('+13125550001'));
    if (!a.ok || !b.ok || !c.ok) throw new Error('expected accepts');
    expect(b.record.departAt - a.record.departAt).toBeCloseTo(500, -1);
    // b had 2 parts at 2 segments/s: it holds the queue for a second.
    expect(c.record.departAt - b.record.departAt).toBeCloseTo(1000, -1);
    expect(e.stats().queues['+13125550001']).toBeGreaterThan(1.4);
  });

  it('uses a number-specific rate over the type rate', () => {
    const e = new SimulatorEngine({ senderRates: { longCode: 1, byNumber: { '+13125550009': 100 } }, queueSeconds: 1 });
    expect([e.send('long_code', body('+13125550009')).ok, e.send('long_code', body('+13125550009')).ok]).toEqual([true, true]);
    expect([e.send('long_code', body('+13125550001')).ok, e.send('long_code', body('+13125550001')).ok]).toEqual([true, false]);
  });

  it('refunds the spend when a scheduled message is cancelled', () => {
    const e = new SimulatorEngine({ spendLimit: 0.004 });
    const s = e.send('messages', body('+13125550001', { send_at: new Date(Date.now() + 600_000).toISOString() }));
    if (!s.ok) throw new Error('expected accept');
    expect(e.send('messages', body('+13125550001')).ok).toBe(false);
    expect(e.cancel(s.record.id).ok).toBe(true);
    expect(e.send('messages', body('+13125550001')).ok).toBe(true);
  });

  it('draws random delivery failures per recipient from the seed', () => {
    const run = () => {
      const e = new SimulatorEngine({ seed: 4, outcomes: { failureProbability: 0.25, failureCodes: ['40002', '40003'] }, senderRates: { longCode: 1000 } });
      return Array.from({ length: 400 }, (_, i) => {
        const r = e.send('long_code', { from: '+13125550001', to: `+1312556${String(i).padStart(4, '0')}`, text: 'x' });
        if (!r.ok) throw new Error('expected accept');
        return r.record.outcomes[0]!.error?.code ?? 'ok';
      });
    };
    const a = run();
    expect(run()).toEqual(a);
    const failed = a.filter((c) => c !== 'ok');
    expect(failed.length).toBeGreaterThan(60);
    expect(failed.length).toBeLessThan(140);
    expect(new Set(failed)).toEqual(new Set(['40002', '40003']));
  });
});
