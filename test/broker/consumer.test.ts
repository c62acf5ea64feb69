import { setTimeout as sleep } from 'node:timers/promises';
import type { MessageView } from 'rocketmq-client-nodejs';
import definitionPb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import servicePb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { describe, expect, it } from 'vitest';
import { useBroker } from '../support/broker-fixture.js';
import {
  clientMetadata,
  failureCode,
  message,
  rawClient,
  receiveAll,
  shutDownClientsAfterEach,
  startConsumer,
  startProducer,
  unary,
} from './support.js';

const fixture = useBroker();
shutDownClientsAfterEach();

async function sendTo(topic: string, ...bodies: string[]): Promise<string[]> {
  const producer = await startProducer(fixture.broker);
  const ids: string[] = [];
  for (const body of bodies) ids.push((await producer.send(message(topic, body))).messageId);
  return ids;
}

async function receiveOne(consumer: Awaited<ReturnType<typeof startConsumer>>, invisibleMs: number) {
  const [view] = await consumer.receive(1, invisibleMs);
  if (!view) throw new Error('expected a message');
  return view;
}

describe('invisible duration', () => {
  it('redelivers an un-acked message after its invisible duration with attempt 2', async () => {
    const [id] = await sendTo('logs', 'retry me');
    const consumer = await startConsumer(
      fixture.broker,
      'redelivery',
      { logs: '*' },
      { awaitDuration: 1500 },
    );
    const first = await receiveOne(consumer, 1000);
    expect([first.messageId, first.deliveryAttempt]).toEqual([id, 1]);

    const started = Date.now();
    const second = await receiveOne(consumer, 10_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    expect([second.messageId, second.deliveryAttempt]).toEqual([id, 2]);
    expect(second.receiptHandle).not.toBe(first.receiptHandle);

    expect(await failureCode(consumer.ack(first))).toBe(40013);
    await consumer.ack(second);
    expect(await consumer.receive(1, 1000)).toEqual([]);
  });

  it('rejects a handle whose invisible duration is over, and an unknown one', async () => {
    await sendTo('object-events', 'expire me');
    const consumer = await startConsumer(fixture.broker, 'expiry', { 'object-events': '*' });
    const view = await receiveOne(consumer, 300);
    await sleep(400);
    expect(await failureCode(consumer.ack(view))).toBe(40013);

    const client = rawClient(fixture.broker);
    const request = new servicePb.AckMessageRequest()
      .setGroup(new definitionPb.Resource().setName('expiry'))
      .setTopic(new definitionPb.Resource().setName('object-events'))
      .setEntriesList([
        new servicePb.AckMessageEntry().setMessageId(view.messageId).setReceiptHandle('bogus'),
      ]);
    const response = await unary<servicePb.AckMessageResponse>((done) =>
      client.ackMessage(request, clientMetadata(), done),
    );
    expect(response.getStatus()?.getCode()).toBe(40013);
    expect(response.getEntriesList()[0]?.getStatus()?.getCode()).toBe(40013);
  });

  it('ChangeInvisibleDuration issues a new receipt handle and moves the redelivery', async () => {
    const [id] = await sendTo('object-events', 'change me');
    const consumer = await startConsumer(
      fixture.broker,
      'change',
      { 'object-events': '*' },
      { awaitDuration: 3000 },
    );
    let view = await receiveOne(consumer, 60_000);
    while (view.messageId !== id) {
      await consumer.ack(view);
      view = await receiveOne(consumer, 60_000);
    }
    const firstHandle = view.receiptHandle;
    await consumer.changeInvisibleDuration(view, 500);
    expect(view.receiptHandle).not.toBe(firstHandle);

    const again = await receiveOne(consumer, 60_000);
    expect([again.messageId, again.deliveryAttempt]).toEqual([id, 2]);
    expect(await failureCode(consumer.ack(view))).toBe(40013);
    await consumer.ack(again);
  });

  it('answers an empty long-poll with no messages before the client deadline', async () => {
    const consumer = await startConsumer(
      fixture.broker,
      'idle',
      { 'mixed-topic': '*' },
      { awaitDuration: 1000 },
    );
    const started = Date.now();
    expect(await consumer.receive(10, 15_000)).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('wakes a waiting long-poll as soon as a message is stored', async () => {
    const consumer = await startConsumer(
      fixture.broker,
      'waiter',
      { metrics: '*' },
      { awaitDuration: 10_000 },
    );
    const receiving = consumer.receive(1, 15_000);
    await sleep(200);
    const [id] = await sendTo('metrics', 'wake up');
    const started = Date.now();
    const [view] = await receiving;
    expect(view?.messageId).toBe(id);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('dead letters', () => {
  it('moves a message to %DLQ%<group> after 17 deliveries without ack', async () => {
    await sendTo('orders', 'poison');
    const consumer = await startConsumer(fixture.broker, 'poisoned', { orders: '*' }, { awaitDuration: 500 });
    const attempts: number[] = [];
    let view: MessageView | undefined;
    do {
      [view] = await consumer.receive(1, 20);
      if (view) attempts.push(view.deliveryAttempt ?? 0);
      await sleep(25);
    } while (view);
    expect(attempts).toEqual(Array.from({ length: 17 }, (_, index) => index + 1));
    expect(fixture.broker.messages('%DLQ%poisoned').map((stored) => stored.body.toString())).toEqual([
      'poison',
    ]);
  });

  it('ForwardMessageToDeadLetterQueue moves the message at once', async () => {
    const [id] = await sendTo('logs', 'give up');
    const consumer = await startConsumer(fixture.broker, 'forwarder', { logs: '*' });
    let view = await receiveOne(consumer, 60_000);
    while (view.messageId !== id) {
      await consumer.ack(view);
      view = await receiveOne(consumer, 60_000);
    }
    const client = rawClient(fixture.broker);
    const request = new servicePb.ForwardMessageToDeadLetterQueueRequest()
      .setGroup(new definitionPb.Resource().setName('forwarder'))
      .setTopic(new definitionPb.Resource().setName('logs'))
      .setReceiptHandle(view.receiptHandle)
      .setMessageId(view.messageId);
    const forward = () =>
      unary<servicePb.ForwardMessageToDeadLetterQueueResponse>((done) =>
        client.forwardMessageToDeadLetterQueue(request, clientMetadata(), done),
      );
    expect((await forward()).getStatus()?.getCode()).toBe(definitionPb.Code.OK);
    expect((await forward()).getStatus()?.getCode()).toBe(40013);
    expect(fixture.broker.messages('%DLQ%forwarder').map((stored) => stored.messageId)).toEqual([id]);
    expect(await consumer.receive(1, 1000)).toEqual([]);
  });
});

describe('queues and where a new consumer group starts', () => {
  it('spreads sends over the 8 queues and starts a new group at the newest message of each queue', async () => {
    const fresh = await fixture.startBroker({ newGroupStart: 'last' });
    const producer = await startProducer(fresh);
    for (let i = 0; i < 20; i++) await producer.send(message('orders', `m${i}`));
    const stored = fresh.messages('orders');
    expect(stored.map((entry) => entry.queueId)).toEqual(Array.from({ length: 20 }, (_, i) => i % 8));
    // Like the proxy's ConsumeInitMode.MAX: the group sees only the last message of each queue...
    const late = await startConsumer(fresh, 'late-group', { orders: '*' });
    const first = await receiveAll(late, 8, { rounds: 2 });
    expect(first.map((view) => view.body.toString()).sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => `m${i + 12}`).sort(),
    );
    // ...and everything stored after its first receive.
    for (const body of ['after-1', 'after-2']) await producer.send(message('orders', body));
    expect((await receiveAll(late, 2, { rounds: 2 })).map((view) => view.body.toString())).toEqual([
      'after-1',
      'after-2',
    ]);
    expect(await late.receive(32, 15_000)).toEqual([]);
  });

  it('starts a new group at the oldest stored message with newGroupStart oldest', async () => {
    const reading = await fixture.startBroker({ newGroupStart: 'oldest', queuesPerTopic: 2 });
    const producer = await startProducer(reading);
    for (let i = 0; i < 12; i++) await producer.send(message('orders', `m${i}`));
    expect(reading.messages('orders').map((entry) => entry.queueId)).toEqual(
      Array.from({ length: 12 }, (_, i) => i % 2),
    );
    const everything = await startConsumer(reading, 'reads-all', { orders: '*' });
    expect((await receiveAll(everything, 12)).map((view) => view.body.toString())).toEqual(
      Array.from({ length: 12 }, (_, i) => `m${i}`),
    );
  });
});
