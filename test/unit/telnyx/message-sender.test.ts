import { describe, expect, it } from 'vitest';
import type { PendingMessage } from '../../../src/dispatch/ports.js';
import { requestBodyBuilder, type SendTemplate } from '../../../src/telnyx/message-sender.js';
import { sendRequestSchemas } from '../../../src/telnyx/wire.js';

const row = (over: Partial<PendingMessage> = {}): PendingMessage => ({
  row: 1, tz: null, to: '+14155550101', sender: '+18445550001', text: 'hi', subject: null, parts: 1, attempts: 0, ...over,
});

/** The body as it goes on the wire (undefined keys dropped), checked against the endpoint's schema. */
function wire(template: SendTemplate, msg: PendingMessage): Record<string, unknown> {
  const body = JSON.parse(JSON.stringify(requestBodyBuilder(template)(msg))) as Record<string, unknown>;
  expect(sendRequestSchemas[template.kind].safeParse(body).error?.issues ?? []).toEqual([]);
  return body;
}

describe('request bodies', () => {
  const webhooks = { webhookUrl: 'https://hooks.example.com/t', useProfileWebhooks: false };

  it('long code and short code: from, to, the row’s text, the job’s options', () => {
    const template: SendTemplate = { kind: 'long_code', ...webhooks, type: 'SMS', encoding: 'gsm7', autoDetect: true };
    expect(wire(template, row())).toEqual({
      from: '+18445550001', to: '+14155550101', text: 'hi', webhook_url: 'https://hooks.example.com/t', use_profile_webhooks: false,
      type: 'SMS', encoding: 'gsm7', auto_detect: true,
    });
    expect(wire({ kind: 'short_code' }, row({ sender: '22000', text: 'yo' }))).toEqual({ from: '22000', to: '+14155550101', text: 'yo' });
  });

  it('number pool: the profile, never a from', () => {
    expect(wire({ kind: 'number_pool', messagingProfileId: 'prof-1' }, row({ sender: 'prof-1' }))).toEqual({
      messaging_profile_id: 'prof-1', to: '+14155550101', text: 'hi',
    });
  });

  it('alphanumeric: the sender id and the profile', () => {
    expect(wire({ kind: 'alphanumeric', messagingProfileId: 'prof-1' }, row({ sender: 'ACME' }))).toEqual({
      from: 'ACME', messaging_profile_id: 'prof-1', to: '+14155550101', text: 'hi',
    });
  });

  it('alphanumeric: none of the fields its endpoint does not declare, even when the template has them', () => {
    const template: SendTemplate = {
      kind: 'alphanumeric', messagingProfileId: 'prof-1', ...webhooks, type: 'SMS', encoding: 'ucs2', autoDetect: true, mediaUrls: ['https://c.example.com/a.png'],
    };
    expect(wire(template, row({ sender: 'ACME', subject: 'Hello' }))).toEqual({
      from: 'ACME', messaging_profile_id: 'prof-1', to: '+14155550101', text: 'hi', webhook_url: 'https://hooks.example.com/t', use_profile_webhooks: false,
    });
  });

  it('messages: a row pinned to the profile sends no from, a row with a number does', () => {
    const template: SendTemplate = { kind: 'messages', messagingProfileId: 'prof-1' };
    expect(wire(template, row({ sender: 'prof-1' }))).toEqual({ to: '+14155550101', messaging_profile_id: 'prof-1', text: 'hi' });
    expect(wire(template, row())).toEqual({ to: '+14155550101', from: '+18445550001', messaging_profile_id: 'prof-1', text: 'hi' });
  });

  it('group MMS: every recipient, the media and subject, no SMS options', () => {
    const template: SendTemplate = { kind: 'group_mms', mediaUrls: ['https://cdn.example.com/a.png'], type: 'MMS' };
    expect(wire(template, row({ to: '+14155550101,+14155550102', subject: 'Hello', text: null }))).toEqual({
      from: '+18445550001', to: ['+14155550101', '+14155550102'], subject: 'Hello', media_urls: ['https://cdn.example.com/a.png'],
    });
  });

  it('one builder serves every row: the job’s part is not shared state between bodies', () => {
    const build = requestBodyBuilder({ kind: 'long_code', mediaUrls: ['https://cdn.example.com/a.png'] });
    const a = build(row({ to: '+14155550101', text: 'a' }));
    const b = build(row({ to: '+14155550102', text: 'b' }));
    expect([a['to'], a['text'], b['to'], b['text']]).toEqual(['+14155550101', 'a', '+14155550102', 'b']);
    expect(a).not.toBe(b);
  });
});
