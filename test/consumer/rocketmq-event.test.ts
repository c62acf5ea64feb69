import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../lib/errors.js';
import { fromRocketMQEvent } from '../../lib/triggers/index.js';
import { eventBytes, eventObject, expectError, type JsonObject, withField } from '../triggers/load-event.js';

const ORDER_1001 = {
  orderId: '1001',
  customerId: 'c-42',
  items: [
    { sku: 'A1', qty: 2 },
    { sku: 'B7', qty: 1 },
  ],
  total: 59.8,
  currency: 'EUR',
};

function batch(name: string): JsonObject[] {
  return eventObject(name) as unknown as JsonObject[];
}

describe('fromRocketMQEvent: the published shapes', () => {
  it('maps a CloudEvents batch as FC hands it over (a Buffer), in order, with typed fields', () => {
    const messages = fromRocketMQEvent(eventBytes('fc/rocketmq-orders.json'));

    expect(messages.map((m) => m.messageId)).toEqual([
      '0A0B0C0D00002A9F0000000000001001',
      '0A0B0C0D00002A9F0000000000001002',
    ]);
    const [first] = messages;
    expect(first?.source).toBe('fc-rocketmq');
    expect(first?.topic).toBe('orders');
    expect(first?.tag).toBe('OrderCreated');
    expect(first?.keys).toEqual(['ORDERID_1001']);
    expect(first?.json()).toEqual(ORDER_1001);
    expect(first?.text()).toBe(JSON.stringify(ORDER_1001));
    expect(first?.userProperties['content-type']).toBe('application/json');
    expect(first?.traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    expect(first?.systemProperties.CONSUME_START_TIME).toBe(1795507200396);
    expect(first?.bornTime).toBe('2026-11-24T08:00:00.120Z');
    expect(first?.publishTime).toBe('2026-11-24T08:00:00.310Z');
    expect(first?.deliveryAttempt).toBeUndefined();
    expect(first?.pack).toBeUndefined();
  });

  it('maps the single CloudEvents event of event mode, from a string and from the object', () => {
    const [single] = batch('fc/rocketmq-orders.json');
    for (const input of [JSON.stringify(single), single]) {
      const messages = fromRocketMQEvent(input as never);
      expect(messages).toHaveLength(1);
      expect(messages[0]?.messageId).toBe('0A0B0C0D00002A9F0000000000001001');
    }
  });

  it('uses the CloudEvents id when the message carries no UNIQ_KEY (the published sample has none)', () => {
    const [single] = batch('fc/rocketmq-orders.json');
    const event = withField(single as JsonObject, ['data', 'systemProperties', 'UNIQ_KEY'], undefined);
    expect(fromRocketMQEvent(event as never)[0]?.messageId).toBe(single?.id);
  });

  it('maps the RawData schema (only data), batched and single', () => {
    const messages = fromRocketMQEvent(eventBytes('fc/rocketmq-orders-rawdata.json'));
    expect(messages.map((m) => [m.source, m.topic, m.tag, m.messageId])).toEqual([
      ['fc-rocketmq', 'orders', 'OrderCreated', '0A0B0C0D00002A9F0000000000001001'],
      ['fc-rocketmq', 'orders', 'OrderCreated', '0A0B0C0D00002A9F0000000000001002'],
    ]);
    expect(messages[0]?.bornTime).toBeUndefined();
    const [one] = batch('fc/rocketmq-orders-rawdata.json');
    expect(fromRocketMQEvent(one as never)[0]?.json()).toEqual(ORDER_1001);
  });

  it('maps a self-managed Apache RocketMQ batch by msgId', () => {
    const messages = fromRocketMQEvent(eventBytes('fc/rocketmq-selfmanaged.json'));
    expect(messages.map((m) => [m.source, m.messageId, m.keys.join()])).toEqual([
      ['fc-apache-rocketmq', '0A0B0C0D00002A9F0000000000001001', 'ORDERID_1001'],
      ['fc-apache-rocketmq', '0A0B0C0D00002A9F0000000000001002', 'ORDERID_1002'],
    ]);
    expect(messages[0]?.systemProperties.CLUSTER).toBe('DefaultCluster');
    expect(messages[1]?.json()).toMatchObject({ orderId: '1002' });
  });

  it('splits space-separated keys, reads the FIFO group and ignores a malformed traceparent', () => {
    const [raw] = batch('fc/rocketmq-orders-rawdata.json');
    let event = withField(raw as JsonObject, ['systemProperties', 'KEYS'], 'ORDERID_1 CUSTOMER_9');
    event = withField(event, ['systemProperties', '__SHARDINGKEY'], 'customer-9');
    event = withField(event, ['userProperties', 'traceparent'], '00-zz-00-01');
    const [message] = fromRocketMQEvent(event as never);
    expect(message?.keys).toEqual(['ORDERID_1', 'CUSTOMER_9']);
    expect(message?.messageGroup).toBe('customer-9');
    expect(message?.traceparent).toBeUndefined();
  });

  it('keeps a body as text by default and decodes base64 when asked', () => {
    const [raw] = batch('fc/rocketmq-orders-rawdata.json');
    const event = withField(raw as JsonObject, ['body'], Buffer.from([0xff, 0x00, 0x7f]).toString('base64'));
    expect([...(fromRocketMQEvent(event as never, { bodyEncoding: 'base64' })[0]?.body ?? [])]).toEqual([
      0xff, 0x00, 0x7f,
    ]);
    expect(fromRocketMQEvent(event as never)[0]?.text()).toBe('/wB/');
  });

  it('logs without the body', () => {
    const [message] = fromRocketMQEvent(eventBytes('fc/rocketmq-orders.json'));
    const logged = JSON.stringify(message);
    expect(logged).not.toContain('c-42');
    expect(JSON.parse(logged)).toMatchObject({ topic: 'orders', bodyBytes: message?.body.byteLength });
  });
});

describe('fromRocketMQEvent: bad events', () => {
  const ce = batch('fc/rocketmq-orders.json');

  it.each<[string, unknown, string | undefined, RegExp]>([
    ['an empty array', [], undefined, /empty array/],
    ['a number', 42, undefined, /JSON object or array/],
    ['not JSON', '{"id":', undefined, /not valid JSON/],
    ['an unknown object', { hello: 'world' }, 'event', /neither a CloudEvents/],
    ['a CloudEvent without data', withField(ce[0] as JsonObject, ['data'], null), 'event.data', /object/],
    [
      'a wrong specversion',
      withField(ce[0] as JsonObject, ['specversion'], '0.3'),
      'event.specversion',
      /"1\.0"/,
    ],
    [
      'a missing topic',
      withField(ce[0] as JsonObject, ['data', 'topic'], undefined),
      'event.data.topic',
      /string/,
    ],
    ['a numeric body', withField(ce[0] as JsonObject, ['data', 'body'], 5), 'event.data.body', /string/],
    [
      'an object user property',
      withField(ce[0] as JsonObject, ['data', 'userProperties', 'x'], { a: 1 }),
      'event.data.userProperties.x',
      /string/,
    ],
    ['a bad time', withField(ce[0] as JsonObject, ['time'], 'yesterday'), 'event.time', /RFC 3339/],
  ])('rejects %s with a typed error', (_name, event, field, message) => {
    expectError(() => fromRocketMQEvent(event as never), {
      code: ErrorCode.EVENT_INVALID,
      ...(field !== undefined && { field }),
      message,
    });
  });

  it('rejects the whole batch when one entry is bad, naming its index', () => {
    const broken = [ce[0], withField(ce[1] as JsonObject, ['data', 'body'], null)];
    expectError(() => fromRocketMQEvent(broken as never), { field: 'event[1].data.body' });
  });

  it('rejects a batch that mixes schemas', () => {
    const mixed = [ce[0], (ce[1] as JsonObject).data];
    expectError(() => fromRocketMQEvent(mixed as never), { field: 'event[1]', message: /one schema/ });
  });

  it('rejects bytes that are not UTF-8 and a body that is not base64 when base64 is expected', () => {
    expectError(() => fromRocketMQEvent(Buffer.from([0x5b, 0xff, 0x5d])), { message: /UTF-8/ });
    expectError(() => fromRocketMQEvent(ce as never, { bodyEncoding: 'base64' }), {
      field: 'event[0].data.body',
      message: /base64/,
    });
  });

  it('bounds the batch size and rejects unknown options', () => {
    expectError(() => fromRocketMQEvent(ce as never, { maxMessages: 1 }), { message: /maxMessages/ });
    expectError(() => fromRocketMQEvent(ce as never, { maxBatch: 1 } as never), {
      code: ErrorCode.CONFIG_INVALID,
      message: /unknown option "maxBatch"/,
    });
  });

  it('json() of a body that is not JSON is a typed error naming the message', () => {
    const [raw] = batch('fc/rocketmq-orders-rawdata.json');
    const [message] = fromRocketMQEvent(withField(raw as JsonObject, ['body'], 'not json') as never);
    const error = expectError(() => message?.json(), { field: 'body', message: /not JSON/ });
    expect(error.messageId).toBe('0A0B0C0D00002A9F0000000000001001');
  });
});
