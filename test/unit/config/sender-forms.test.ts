/** Sender forms in the job file: short codes, alphanumeric senders and profile ids, as the spec has them. */
import { describe, expect, it } from 'vitest';
import { parseJobSpec } from '../../../src/config/job-spec.js';

const PROFILE = '4000eba1-a0c0-4563-9925-b25e842a7cb6';

function problems(sender: Record<string, unknown>, message: Record<string, unknown> = { text: 'hi' }): string {
  try {
    parseJobSpec({ name: 'job', source: { path: 'r.csv' }, sender, message }, '/tmp/job.yaml');
    return '';
  } catch (err) {
    return (err as Error).message.split('\n').slice(1).join('\n');
  }
}

describe('short codes', () => {
  it('accepts 5-6 digits and the E.164 form the spec documents; refuses anything else, naming it', () => {
    expect(problems({ mode: 'short_code', from: ['12345', '123456', '+18445550003', '+12345'] })).toBe('');
    expect(problems({ mode: 'short_code', from: ['1234', 'ACME'] })).toBe(
      'sender.from.0: "1234" must be a short code: 5 or 6 digits such as 12345, or its E.164 form\n' +
        'sender.from.1: "ACME" must be a short code: 5 or 6 digits such as 12345, or its E.164 form',
    );
  });

  it('mode messages takes any of the three forms', () => {
    expect(problems({ mode: 'messages', from: ['+18445550001', '22000'] })).toBe('');
    expect(problems({ mode: 'messages', from: 'not a sender!' })).toMatch(/"not a sender!" must be an E\.164 number, a 5-6 digit short code/);
    expect(problems({ mode: 'messages', from: 'ACME' })).toMatch(/sender\.messaging_profile_id: is required for mode messages/);
  });
});

describe('alphanumeric senders', () => {
  it('refuse every message field their endpoint does not take, naming each', () => {
    const message = { text: 'hi', subject: 'S', type: 'SMS', encoding: 'gsm7', auto_detect: true, webhook_url: 'https://h.example.com/t' };
    const out = problems({ mode: 'alphanumeric', from: 'ACME', messaging_profile_id: PROFILE }, message);
    expect(out.split('\n').map((l) => l.split(':')[0])).toEqual(['message.subject', 'message.type', 'message.auto_detect', 'message.encoding']);
    expect(out).toContain('is not taken by alphanumeric senders (SMS only; they take text, webhook_url, webhook_failover_url, use_profile_webhooks)');
    expect(problems({ mode: 'alphanumeric', from: 'ACME', messaging_profile_id: PROFILE }, { text: 'hi', media_urls: ['https://c.example.com/a.png'] })).toMatch(
      /^message\.media_urls: is not taken by alphanumeric senders/,
    );
  });

  it('accept text and the webhook fields', () => {
    const message = { text: 'hi', webhook_url: 'https://h.example.com/t', webhook_failover_url: 'https://h2.example.com/t', use_profile_webhooks: false };
    expect(problems({ mode: 'alphanumeric', from: 'ACME Shop', messaging_profile_id: PROFILE }, message)).toBe('');
  });
});

describe('messaging_profile_id', () => {
  it('must be a UUID in every mode that uses it', () => {
    for (const sender of [
      { mode: 'number_pool', messaging_profile_id: 'prof-1' },
      { mode: 'alphanumeric', from: 'ACME', messaging_profile_id: '4000eba1-a0c0-4563-9925-b25e842a7cb' },
      { mode: 'messages', messaging_profile_id: 'my profile' },
    ]) {
      expect(problems(sender)).toMatch(/^sender\.messaging_profile_id: must be a UUID such as /);
    }
    expect(problems({ mode: 'number_pool', messaging_profile_id: PROFILE.toUpperCase() })).toBe('');
  });
});
