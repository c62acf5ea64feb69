import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as awsHandler } from '../../functions/order-fulfilment/aws.js';
import { handler as fcHandler } from '../../functions/order-fulfilment/fc.js';
import { resetStock } from '../../functions/order-fulfilment/handler.js';
import { initialStock, reserveStock } from '../../functions/order-fulfilment/stock.js';
import { fcContext, lambdaContext } from '../../infra/emulate.js';
import { toCloudEvent, triggerEvent } from '../../infra/rocketmq-trigger.js';
import { sharedConsumerCount, shutdownSharedConsumer } from '../../lib/consumer/index.js';
import { getProducer, shutdownSharedProducer } from '../../lib/index.js';
import { fromRocketMQEvent } from '../../lib/triggers/index.js';
import { useBroker } from '../support/broker-fixture.js';
import { eventBytes } from '../triggers/load-event.js';

const order = (orderId: string, items: Array<{ sku: string; qty: number }>) => ({
  orderId,
  customerId: 'c-1',
  items,
  total: 10,
});

describe('reserveStock (pure)', () => {
  it('reserves all items or none, and leaves the given stock alone', () => {
    const stock = initialStock();
    const reserved = reserveStock(
      order('1', [
        { sku: 'A1', qty: 2 },
        { sku: 'A1', qty: 3 },
        { sku: 'B7', qty: 1 },
      ]),
      stock,
    );
    expect(reserved.ok && reserved.reservations.map((r) => [r.sku, r.qty])).toEqual([
      ['A1', 2],
      ['A1', 3],
      ['B7', 1],
    ]);
    expect(reserved.ok && reserved.stock.get('A1')).toBe(495);
    expect(stock.get('A1')).toBe(500);

    const short = reserveStock(
      order('2', [
        { sku: 'A1', qty: 1 },
        { sku: 'B7', qty: 201 },
        { sku: 'Q1', qty: 1 },
      ]),
      stock,
    );
    expect(short).toEqual({
      ok: false,
      missing: [
        { sku: 'B7', wanted: 201, available: 200 },
        { sku: 'Q1', wanted: 1, available: 0 },
      ],
    });
  });
});

describe('order-fulfilment against the embedded broker', () => {
  // The functions' shared producer and consumer find the broker through the environment.
  const fixture = useBroker({ newGroupStart: 'last' });
  beforeAll(() => {
    process.env.ROCKETMQ_ENDPOINTS = fixture.broker.endpoint;
  });
  beforeEach(() => resetStock());
  // Runs before the fixture stops the broker: their shutdown talks to it.
  afterAll(async () => {
    await shutdownSharedConsumer();
    await shutdownSharedProducer();
    delete process.env.ROCKETMQ_ENDPOINTS;
  });

  // First, while orders and orders-retry hold only what this test sends.
  it('AWS: the scheduled poller fulfils what is on orders and reuses its consumer when warm', async () => {
    const send = async (id: string) => {
      await getProducer().send({
        topic: 'orders',
        tag: 'OrderCreated',
        keys: [`ORDERID_${id}`],
        body: order(id, [{ sku: 'C3', qty: 1 }]),
      });
    };
    const schedule = JSON.parse(eventBytes('aws/schedule-fulfilment.json').toString());
    await send('6001');
    const first = await awsHandler(schedule, lambdaContext('order-fulfilment', 10));
    expect(first).toEqual({ processed: 1, failed: 0, retried: 0, deadLettered: 0 });
    const consumers = sharedConsumerCount();
    await send('6002');
    await send('6003');
    const second = await awsHandler(schedule, lambdaContext('order-fulfilment', 10));
    expect(second).toEqual({ processed: 2, failed: 0, retried: 0, deadLettered: 0 });
    expect(sharedConsumerCount()).toBe(consumers);
    const keys = fixture.broker.messages('shipments').map((m) => m.keys[0]);
    expect(keys).toEqual(expect.arrayContaining(['ORDERID_6001', 'ORDERID_6002', 'ORDERID_6003']));
  });

  it.each(['fc/rocketmq-orders.json', 'fc/rocketmq-orders-rawdata.json', 'fc/rocketmq-selfmanaged.json'])(
    'FC: %s → one shipments message per item, drained before the handler returns',
    async (name) => {
      const before = fixture.broker.messages('shipments').length;
      const result = await fcHandler(eventBytes(name), fcContext('order-fulfilment', 10));
      expect(result).toEqual({ processed: 2, failed: 0, retried: 0, deadLettered: 0 });
      // Drained: the async sends are stored by the time the handler has returned.
      const shipments = fixture.broker.messages('shipments').slice(before);
      expect(shipments.map((m) => m.keys)).toEqual([
        ['ORDERID_1001', 'SKU_A1'],
        ['ORDERID_1001', 'SKU_B7'],
        ['ORDERID_1002', 'SKU_C3'],
      ]);
    },
  );

  it('FC: an order without stock goes to the retry topic and the batch still succeeds', async () => {
    const [first] = JSON.parse(eventBytes('fc/rocketmq-orders.json').toString()) as Array<{
      data: { body: string };
    }>;
    if (!first) throw new Error('fixture');
    first.data.body = JSON.stringify(order('5005', [{ sku: 'A1', qty: 10_000 }]));
    const result = await fcHandler(Buffer.from(JSON.stringify([first])), fcContext('order-fulfilment', 10));
    expect(result).toEqual({ processed: 0, failed: 0, retried: 1, deadLettered: 0 });
    const retried = fixture.broker.messages('orders-retry').at(-1);
    expect(retried?.properties['consume.attempt']).toBe('1');
    expect(retried?.keys).toEqual(['ORDERID_1001']);
  });

  it('FC: a malformed event fails the invocation with EVENT_INVALID and sends nothing', async () => {
    const before = fixture.broker.stats().storedMessages;
    await expect(
      fcHandler(Buffer.from('[{"specversion":"1.0"}]'), fcContext('order-fulfilment', 10)),
    ).rejects.toMatchObject({
      code: 'EVENT_INVALID',
    });
    expect(fixture.broker.stats().storedMessages).toBe(before);
  });

  it('AWS: anything but a scheduled event is refused', async () => {
    await expect(
      awsHandler(JSON.parse(eventBytes('fc/timer.json').toString()), lambdaContext('order-fulfilment', 5)),
    ).rejects.toMatchObject({
      code: 'EVENT_INVALID',
    });
  });
});

describe('the local trigger emulation', () => {
  it('builds events that parse back to the same messages, in both schemas', () => {
    const view = {
      messageId: '0102FC0000000001',
      topic: 'orders',
      tag: 'OrderCreated',
      keys: ['ORDERID_1', 'CUSTOMER_2'],
      body: Buffer.from('{"orderId":"1"}'),
      properties: new Map([['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']]),
      messageGroup: undefined,
      bornTimestamp: new Date('2026-11-24T08:00:00.000Z'),
      offset: 7,
    } as never;
    const trigger = {
      name: 'orders-rocketmq',
      type: 'rocketmq' as const,
      instanceId: 'MQ_INST_LOCAL',
      topic: 'orders',
      groupId: 'GID',
      tag: '*',
      batchSize: 10,
      batchWindowSeconds: 1,
      eventSchema: 'CloudEvents' as const,
      retryStrategy: 'BACKOFF_RETRY' as const,
    };
    const where = { region: 'cn-hangzhou', accountId: '1234567890123456' };
    const event = toCloudEvent(view, trigger, where);
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'mq:Topic:SendMessage',
      subject: 'acs:mq:cn-hangzhou:1234567890123456:MQ_INST_LOCAL%orders',
      data: {
        systemProperties: {
          TAGS: 'OrderCreated',
          KEYS: 'ORDERID_1 CUSTOMER_2',
          UNIQ_KEY: '0102FC0000000001',
        },
      },
    });
    expect(typeof event.data.systemProperties.CONSUME_START_TIME).toBe('number');
    for (const schema of ['CloudEvents', 'RawData'] as const) {
      const [message] = fromRocketMQEvent(triggerEvent([view], { ...trigger, eventSchema: schema }, where));
      expect(message).toMatchObject({
        messageId: '0102FC0000000001',
        tag: 'OrderCreated',
        keys: ['ORDERID_1', 'CUSTOMER_2'],
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      });
      expect(message?.json()).toEqual({ orderId: '1' });
    }
  });
});
