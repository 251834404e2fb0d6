/**
 * The client and the wire schemas against Telnyx's own OpenAPI spec: every request body the client
 * puts on the wire validates against the operation's request schema (and uses only fields the spec
 * declares), and the spec's response examples parse with our zod schemas.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTelnyxClient, type TelnyxClient } from '../../src/telnyx/client.js';
import {
  errorBody,
  message,
  messageResponse,
  messageResponseCheck,
  sendPaths,
  sendRequestSchemas,
  webhookEnvelope,
  type SendKind,
  type SendRequestByKind,
} from '../../src/telnyx/wire.js';
import {
  componentExamples,
  declaredProperties,
  requestBodySchemaRef,
  responseSchemaRef,
  specExample,
  undeclaredKeys,
  validateAgainstSpec,
  validateRequestBody,
  validateResponse,
  webhookBodySchemaRef,
} from '../helpers/openapi.js';
import { reply, startScriptedServer, telnyxErrors, type ScriptedServer } from './client-scripted-server.js';

const profileId = '4000eba1-a0c0-4563-9925-b25e842a7cb6';
const hooks = {
  webhook_url: 'https://hooks.example.com/telnyx',
  webhook_failover_url: 'https://backup.example.com/telnyx',
  use_profile_webhooks: false,
};

/** The fullest body of each kind that the wire types allow. */
const fullBodies: { [K in SendKind]: SendRequestByKind[K] } = {
  messages: {
    to: '+18665550001',
    from: '+18445550001',
    messaging_profile_id: profileId,
    text: 'Hello, World!',
    subject: 'From bulktext',
    media_urls: ['https://media.example.com/a.png'],
    type: 'MMS',
    auto_detect: true,
    encoding: 'auto',
    send_at: '2026-07-17T12:00:00Z',
    ...hooks,
  },
  long_code: {
    from: '+18445550001',
    to: '+18665550001',
    text: 'Hello {{name}}',
    type: 'SMS',
    auto_detect: false,
    encoding: 'gsm7',
    ...hooks,
  },
  number_pool: {
    messaging_profile_id: profileId,
    to: '+18665550001',
    text: 'Pool hello',
    media_urls: ['https://media.example.com/b.jpg'],
    subject: 'Hi',
    type: 'MMS',
    encoding: 'ucs2',
    ...hooks,
  },
  short_code: { from: '12345', to: '+18665550001', text: 'Short code hello', type: 'SMS', ...hooks },
  group_mms: {
    from: '+13125551234',
    to: ['+18655551234', '+14155551234', '+14155551235'],
    text: 'Group hello',
    subject: 'Group',
    media_urls: ['https://media.example.com/c.gif'],
    ...hooks,
  },
  alphanumeric: { from: 'MyCompany', to: '+447700900001', text: 'Alpha hello', messaging_profile_id: profileId, ...hooks },
};

/** The smallest body of each kind: only the fields the spec requires. */
const minimalBodies: { [K in SendKind]: SendRequestByKind[K] } = {
  messages: { to: '+18665550001', from: '+18445550001', text: 'x' },
  long_code: { from: '+18445550001', to: '+18665550001', text: 'x' },
  number_pool: { messaging_profile_id: profileId, to: '+18665550001', text: 'x' },
  short_code: { from: '12345', to: '+18665550001', text: 'x' },
  group_mms: { from: '+13125551234', to: ['+18655551234'], media_urls: ['https://media.example.com/c.gif'] },
  alphanumeric: { from: 'MyCompany', to: '+447700900001', text: 'x', messaging_profile_id: profileId },
};

const kinds = Object.keys(sendPaths) as SendKind[];

let server: ScriptedServer;
let client: TelnyxClient;

beforeAll(async () => {
  const example = specExample('OutboundMessagePayload');
  server = await startScriptedServer((_req, res) => reply(res, 200, { data: example }));
  // Base URL without a path: the recorded request path is then exactly the spec's path.
  client = createTelnyxClient({ apiKey: 'KEYcontract', baseUrl: server.origin, timeoutMs: 5_000 });
});

afterAll(async () => {
  await client.close();
  await server.close();
});

describe('request bodies the client sends', () => {
  test.each(kinds.flatMap((kind) => [[kind, 'full'] as const, [kind, 'minimal'] as const]))(
    '%s (%s body) validates against the spec',
    async (kind, variant) => {
      const sent = (variant === 'full' ? fullBodies : minimalBodies)[kind];
      const before = server.requests.length;
      await client.send(kind, sent as never);
      const recorded = server.requests[before];
      expect(recorded?.method).toBe('POST');
      expect(recorded?.url).toBe(sendPaths[kind]);
      const onWire = JSON.parse(recorded?.body ?? 'null') as Record<string, unknown>;
      expect(onWire).toEqual(sent);

      const result = validateRequestBody(sendPaths[kind], 'post', onWire);
      expect(result.errors).toEqual([]);
      expect(result.valid).toBe(true);
      expect(undeclaredKeys(requestBodySchemaRef(sendPaths[kind], 'post'), onWire)).toEqual([]);
    },
  );

  test.each(kinds)('every field of the %s wire schema is one the spec declares', (kind) => {
    const ours = Object.keys(sendRequestSchemas[kind].shape);
    const spec = declaredProperties(requestBodySchemaRef(sendPaths[kind], 'post'));
    expect(ours.filter((k) => !spec.includes(k))).toEqual([]);
  });

  test('retrieve and cancel send no body', async () => {
    const before = server.requests.length;
    await client.retrieve('40385f64-5717-4562-b3fc-2c963f66afa6');
    await client.cancelScheduled('40385f64-5717-4562-b3fc-2c963f66afa6');
    const [get, del] = server.requests.slice(before);
    expect([get?.method, get?.url, get?.body]).toEqual(['GET', '/messages/40385f64-5717-4562-b3fc-2c963f66afa6', '']);
    expect([del?.method, del?.url, del?.body]).toEqual(['DELETE', '/messages/40385f64-5717-4562-b3fc-2c963f66afa6', '']);
  });
});

describe('spec examples parse with our zod schemas', () => {
  test.each([
    ['CreateMessageRequest', 'messages'],
    ['CreateLongCodeMessageRequest', 'long_code'],
    ['CreateNumberPoolMessageRequest', 'number_pool'],
    ['CreateShortCodeMessageRequest', 'short_code'],
    ['CreateGroupMMSMessageRequest', 'group_mms'],
  ] as const)('request example %s parses as %s', (name, kind) => {
    const result = sendRequestSchemas[kind].safeParse(specExample(name));
    expect(result.error?.issues ?? []).toEqual([]);
  });

  test.each(['OutboundMessagePayload', 'OutboundMessagePayloadCancelled', 'InboundMessagePayload'])(
    '%s example parses as a message',
    (name) => {
      const result = message.safeParse(specExample(name));
      expect(result.error?.issues ?? []).toEqual([]);
    },
  );

  test('the send response {data: example} matches both the spec and messageResponse', () => {
    const response = { data: specExample('OutboundMessagePayload') };
    for (const kind of kinds) expect(validateResponse(sendPaths[kind], 'post', 200, response).errors).toEqual([]);
    expect(validateResponse('/messages/{id}', 'get', 200, response).errors).toEqual([]);
    const parsed = messageResponse.parse(response);
    expect(parsed.data.cost?.amount).toBe('0.0051');
    // The client checks with the copy-free twin and hands on the answer itself: the same object.
    expect(messageResponseCheck.safeParse(response).error?.issues ?? []).toEqual([]);
    expect(parsed).toEqual(response);
  });

  test('the cancel response is the bare cancelled message', () => {
    expect(validateResponse('/messages/{id}', 'delete', 200, specExample('OutboundMessagePayloadCancelled')).errors).toEqual([]);
  });

  test('webhook event examples parse as webhook envelopes', () => {
    for (const name of ['OutboundMessage', 'InboundMessage']) {
      const envelope = { data: specExample(name), meta: { attempt: 1, delivered_to: 'https://hooks.example.com/telnyx' } };
      expect(webhookEnvelope.safeParse(envelope).error?.issues ?? []).toEqual([]);
    }
    expect(validateAgainstSpec(webhookBodySchemaRef('deliveryUpdate'), { data: specExample('OutboundMessage') }).errors).toEqual([]);
  });

  test('the error bodies the client tests use are spec-valid Telnyx errors and parse as errorBody', () => {
    const body = telnyxErrors('40310', '10015');
    expect(validateResponse('/messages/long_code', 'post', 422, body).errors).toEqual([]);
    expect(validateResponse('/messages/alphanumeric_sender_id', 'post', 401, body).errors).toEqual([]);
    expect(errorBody.safeParse(body).success).toBe(true);
  });

  test('every component example in the spec is valid against its own schema', () => {
    const examples = componentExamples();
    expect(examples.size).toBeGreaterThan(10);
    for (const [name, example] of examples) expect([name, validateAgainstSpec(name, example).errors]).toEqual([name, []]);
  });
});

describe('the spec helper itself', () => {
  test('reports violations of types, required fields and formats', () => {
    expect(validateRequestBody('/messages/long_code', 'post', { to: 5 }).errors).toEqual([
      "(root) must have required property 'from'",
      '/to must be string',
    ]);
    const badAlpha = { ...minimalBodies.alphanumeric, messaging_profile_id: 'not-a-uuid', webhook_url: 'not a url' };
    const result = validateRequestBody('/messages/alphanumeric_sender_id', 'post', badAlpha);
    expect(result.valid).toBe(false);
    expect(result.errors).toEqual(['/messaging_profile_id must match format "uuid"', '/webhook_url must match format "url"']);
    expect(validateAgainstSpec('messaging_Error', { code: 40310, title: 'x' }).errors).toEqual(['/code must be string']);
  });

  test('picks the response by exact status, then range, and follows $refs', () => {
    expect(responseSchemaRef('/messages/long_code', 'post', 200)).toBe('#/paths/~1messages~1long_code/post/responses/200/content/application~1json/schema');
    expect(responseSchemaRef('/messages/long_code', 'post', 429)).toBe('#/components/responses/messaging_GenericErrorResponse/content/application~1json/schema');
    expect(responseSchemaRef('/messages/alphanumeric_sender_id', 'post', 422)).toBe('#/components/responses/messaging_UnprocessableEntityResponse/content/application~1json/schema');
    expect(() => responseSchemaRef('/messages/alphanumeric_sender_id', 'post', 500)).toThrow(/no response for 500/);
    expect(() => requestBodySchemaRef('/messages/nowhere', 'post')).toThrow(/nothing at/);
  });

  test('finds fields the spec does not declare', () => {
    expect(undeclaredKeys(requestBodySchemaRef('/messages/long_code', 'post'), { from: 'a', to: 'b', send_at: 'x' })).toEqual(['send_at']);
  });
});
