import { describe, expect, it } from 'vitest';
import { parseJobSpec, type JobSpec } from '../../../src/config/job-spec.js';
import { RATE_SAFETY } from '../../../src/dispatch/rate-gate.js';
import { classifySender, estimateDuration, throughputWarnings, type SenderLoad } from '../../../src/plan/throughput.js';

function spec(sender: Record<string, unknown>, rate: Record<string, unknown>, message: Record<string, unknown> = { text: 'hi' }): JobSpec {
  return parseJobSpec({ name: 'job', source: { path: 'r.csv' }, sender, message, rate }, '/tmp/job.yaml');
}

const load = (messages: number, units: number, segments: number): SenderLoad => ({ messages, units, segments });

describe('classifySender', () => {
  const from = { from: ['+18445550001', '+12015550123', '+447400123456', 'ACME', '+15555'] };
  it.each([
    ['long_code', '+18445550001', 'toll_free'],
    ['long_code', '+12015550123', 'us_long_code'],
    ['long_code', '+447400123456', 'intl_long_code'],
    ['messages', 'ACME', 'alphanumeric'],
    ['messages', '+15555', 'short_code'],
    ['short_code', '+15555', 'short_code'],
    ['alphanumeric', 'ACME', 'alphanumeric'],
    ['number_pool', 'profile-1', 'profile'],
    ['messages', 'profile-1', 'profile'],
  ] as const)('%s %s → %s', (mode, sender, kind) => {
    expect(classifySender(mode, sender, from)).toBe(kind);
  });
});

describe('estimateDuration', () => {
  it('is the larger of total / paced run rate and busiest sender / paced sender rate', () => {
    const s = spec({ mode: 'long_code', from: ['+12015550123', '+12015550124'] }, { messages_per_second: 10, per_sender_per_second: 1, count_parts: false });
    const loads = new Map([
      ['+12015550123', load(60, 60, 60)],
      ['+12015550124', load(40, 40, 80)],
    ]);
    const d = estimateDuration(s.rate, 100, loads);
    expect(d.run.seconds).toBeCloseTo(100 / (10 * RATE_SAFETY), 3);
    expect(d.per_sender.busiest?.sender).toBe('+12015550123');
    expect(d.estimated_seconds).toBeCloseTo(60 / RATE_SAFETY, 3);
    expect(d.bound).toBe('sender');
    expect(d.units).toBe('messages');

    // A fast sender: the run ceiling sets the pace.
    const fast = spec({ mode: 'short_code', from: '+15555' }, { messages_per_second: 10, count_parts: true });
    const f = estimateDuration(fast.rate, 250, new Map([['+15555', load(100, 250, 250)]]));
    expect(f.bound).toBe('run');
    expect(f.units).toBe('parts');
    expect(f.estimated_seconds).toBeCloseTo(250 / (10 * RATE_SAFETY), 3);
  });
});

describe('throughputWarnings', () => {
  it('warns when a long code paced per message would overflow its 4-hour queue in segments', () => {
    const s = spec({ mode: 'long_code', from: '+12015550123' }, { messages_per_second: 10, per_sender_per_second: 1, count_parts: false });
    // 20,000 two-part messages at 1 msg/s: 2 segments/s handed over, 1/s drained, for ~5.6 h.
    const warnings = throughputWarnings(s, new Map([['+12015550123', load(20_000, 20_000, 40_000)]]), false);
    const overflow = warnings.find((w) => w.code === 'queue_overflow');
    expect(overflow).toMatchObject({ sender: '+12015550123', segments: 40_000, capacity: 14_400 });
    expect(overflow?.backlog).toBe(Math.ceil(40_000 - 20_000 / RATE_SAFETY));
    expect(overflow?.message).toContain('count_parts: true');

    // The same list of one-part messages, or counted in parts, never builds a backlog.
    expect(throughputWarnings(s, new Map([['+12015550123', load(20_000, 20_000, 20_000)]]), false)).toEqual([]);
    const counted = spec({ mode: 'long_code', from: '+12015550123' }, { messages_per_second: 10, per_sender_per_second: 1, count_parts: true });
    expect(throughputWarnings(counted, new Map([['+12015550123', load(20_000, 40_000, 40_000)]]), false)).toEqual([]);
    // Fewer messages: the backlog fits the queue.
    expect(throughputWarnings(s, new Map([['+12015550123', load(10_000, 10_000, 20_000)]]), false).filter((w) => w.code === 'queue_overflow')).toEqual([]);
  });

  it('warns about per-sender rates above the documented throughput of the sender type', () => {
    const tollFree = spec({ mode: 'long_code', from: ['+18445550001', '+18445550002'] }, { messages_per_second: 50, per_sender_per_second: 25 });
    const w = throughputWarnings(tollFree, new Map([['+18445550001', load(10, 10, 10)], ['+18445550002', load(10, 10, 10)]]), false);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ code: 'sender_throughput', sender_kind: 'toll_free', senders: 2, documented: 20 });

    const tenDlc = spec({ mode: 'long_code', from: '+12015550123' }, { messages_per_second: 50, per_sender_per_second: 80 });
    expect(throughputWarnings(tenDlc, new Map([['+12015550123', load(10, 10, 10)]]), false)[0]).toMatchObject({ sender_kind: 'us_long_code', documented: 75 });
    const ok = spec({ mode: 'long_code', from: '+12015550123' }, { messages_per_second: 50, per_sender_per_second: 70 });
    expect(throughputWarnings(ok, new Map([['+12015550123', load(10, 10, 10)]]), false)).toEqual([]);

    // count_parts off: 3-part messages at 10 msg/s hand a toll-free number ~30 segments/s.
    const parts = spec({ mode: 'long_code', from: '+18445550001' }, { messages_per_second: 50, per_sender_per_second: 10 });
    expect(throughputWarnings(parts, new Map([['+18445550001', load(10, 10, 30)]]), false)[0]).toMatchObject({ code: 'sender_throughput' });

    const alnum = spec({ mode: 'alphanumeric', from: 'ACME', messaging_profile_id: '4000eba1-a0c0-4563-9925-b25e842a7cb6' }, { messages_per_second: 5, per_sender_per_second: 1 });
    expect(throughputWarnings(alnum, new Map([['ACME', load(10, 10, 10)]]), false)[0]).toMatchObject({ sender_kind: 'alphanumeric', documented: 0.1 });
  });

  it('warns about a run ceiling above the account default (50 SMS/s, 15 MMS/s)', () => {
    const sms = spec({ mode: 'short_code', from: '+15555' }, { messages_per_second: 60 });
    expect(throughputWarnings(sms, new Map([['+15555', load(1, 1, 1)]]), false)[0]).toMatchObject({ code: 'account_throughput', documented: 50 });
    const mms = spec({ mode: 'short_code', from: '+15555' }, { messages_per_second: 20 }, { media_urls: ['https://example.com/a.png'] });
    expect(throughputWarnings(mms, new Map([['+15555', load(1, 1, 1)]]), true)[0]).toMatchObject({ code: 'account_throughput', documented: 15 });
    expect(throughputWarnings(mms, new Map([['+15555', load(1, 1, 1)]]), false)).toEqual([]);
  });
});
