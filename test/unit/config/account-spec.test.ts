import { describe, expect, it } from 'vitest';
import { inferSenderType, parseAccountSpec } from '../../../src/config/account-spec.js';
import { limitModel, resolveSenders } from '../../../src/config/limit-model.js';
import { parseJobSpec } from '../../../src/config/job-spec.js';

const job = (extra: Record<string, unknown> = {}, sender: Record<string, unknown> = { mode: 'long_code', from: ['+18445550001'] }) =>
  parseJobSpec({ name: 'j', source: { path: 'r.csv' }, sender, message: { text: 'hi' }, ...extra }, '/jobs/j.yaml');

describe('the account file', () => {
  it('infers a sender type from the number: NANP toll-free prefixes, 5-6 digit short codes, letters; the file overrides', () => {
    for (const npa of ['800', '833', '844', '855', '866', '877', '888']) expect(inferSenderType(`+1${npa}5550001`)).toBe('toll_free');
    expect(inferSenderType('+14155550101')).toBe('long_code');
    expect(inferSenderType('+442071234567')).toBe('long_code');
    expect(inferSenderType('12345')).toBe('short_code');
    expect(inferSenderType('123456')).toBe('short_code');
    expect(inferSenderType('ACME')).toBe('alphanumeric');
    const acc = parseAccountSpec({ senders: [{ id: '+14155550101', type: 'toll_free' }, { id: '+442071234567' }] }, 'a.yaml');
    expect(acc.senders.get('+14155550101')).toMatchObject({ type: 'toll_free', typeSource: 'file' });
    expect(acc.senders.get('+442071234567')).toMatchObject({ type: 'long_code', typeSource: 'inferred', country: 'GB' });
  });

  it('names every bad key: unknown keys, a campaign or brand that is not declared, a group member that is not a sender', () => {
    expect(() =>
      parseAccountSpec(
        { limits: { sms_per_second: 50, bogus: 1 }, senders: [{ id: '+14155550101', campaign: 'C9' }, { id: '+18445550001', campaign: 'C1' }], campaigns: { C1: { per_minute: 75, brand: 'nobody' } }, groups: { g: ['+19995550000'] } },
        'a.yaml',
      ),
    ).toThrow(
      /unknown key limits\.bogus[\s\S]*senders\.0\.campaign: no campaign C9[\s\S]*senders\.1\.campaign: only long codes have a 10DLC campaign[\s\S]*campaigns\.C1\.brand: no brand nobody[\s\S]*groups\.g\.0: \+19995550000 is not under senders/,
    );
  });

  it('a job names a group; its own rate only lowers what the account allows', () => {
    const acc = parseAccountSpec(
      {
        limits: { sms_per_second: 200 },
        senders: [{ id: '+18445550001' }, { id: '+14155550101', campaign: 'C1' }],
        campaigns: { C1: { per_minute: 240, brand: 'acme' } },
        brands: { acme: {} },
        groups: { all: ['+18445550001', '+14155550101'] },
      },
      'a.yaml',
    );
    const grouped = resolveSenders(job({}, { mode: 'long_code', group: 'all' }), acc);
    expect(grouped.sender.from).toEqual(['+18445550001', '+14155550101']);
    expect(() => resolveSenders(job({}, { mode: 'long_code', group: 'none' }), acc)).toThrow(/does not define/);

    const free = limitModel(grouped, acc, false);
    expect(free.runCeiling).toBe(200);
    expect(free.countParts).toBe(true);
    expect(free.sender('+18445550001').perSecond).toMatchObject({ key: 'sender:+18445550001', capacity: 20 });
    const tenDlc = free.sender('+14155550101');
    expect(tenDlc.perSecond.capacity).toBe(4);
    expect(tenDlc.campaign).toMatchObject({ key: 'campaign:C1', windowMs: 60_000, capacity: 240 });
    expect(tenDlc.brandDay).toMatchObject({ key: 'brand:acme', cap: 2000 });

    const lowered = limitModel(job({ rate: { messages_per_second: 30, per_sender_per_second: 5 } }), acc, false);
    expect(lowered.runCeiling).toBe(30);
    expect(lowered.jobPerSender).toBe(5);
    const above = limitModel(job({ rate: { messages_per_second: 500 } }), acc, false);
    expect(above.runCeiling).toBe(200);
  });

  it('without an account file the job stands for the account, and senders get their type\'s rate', () => {
    const m = limitModel(job({ rate: { messages_per_second: 20 } }), undefined, false);
    expect(m.account).toMatchObject({ key: 'account:sms', capacity: 20 });
    expect(m.sender('+18445550001').perSecond.capacity).toBe(20);
    const alnum = limitModel(job({}, { mode: 'alphanumeric', from: ['ACME'], messaging_profile_id: '40017f5e-4e7c-4a58-a5b1-0d58ef7f3a5c' }), undefined, false).sender('ACME').perSecond;
    expect(alnum).toMatchObject({ windowMs: 10_000, capacity: 1 });
  });
});
