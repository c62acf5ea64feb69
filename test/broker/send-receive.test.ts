import type { MessageView } from 'rocketmq-client-nodejs';
import definitionPb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import { describe, expect, it } from 'vitest';
import { useBroker } from '../support/broker-fixture.js';
import { message, receiveAll, shutDownClientsAfterEach, startConsumer, startProducer } from './support.js';

const lines: string[] = [];
// These groups read back what was sent before their first receive: the fixture's `oldest` start.
const fixture = useBroker({ log: (line) => lines.push(line) });
shutDownClientsAfterEach();

describe('NORMAL messages', () => {
  it('stores 1,000 synchronous sends and a simple consumer reads all of them back unchanged', async () => {
    const producer = await startProducer(fixture.broker, { topics: ['orders'] });
    const sent = new Map<
      string,
      { tag: string; keys: string[]; properties: Record<string, string>; body: string }
    >();
    for (let i = 0; i < 1000; i++) {
      const expected = {
        tag: `Tag${i % 3}`,
        keys: [`order-${i}`, `customer-${i % 7}`],
        properties: { index: String(i), source: 'broker-test' },
        body: `order #${i} ${'x'.repeat(i % 50)}`,
      };
      const receipt = await producer.send(
        message('orders', expected.body, {
          tag: expected.tag,
          keys: expected.keys,
          properties: new Map(Object.entries(expected.properties)),
        }),
      );
      sent.set(receipt.messageId, expected);
    }
    expect(sent.size).toBe(1000);
    expect(fixture.broker.messages('orders').map((stored) => stored.messageId)).toEqual([...sent.keys()]);

    const consumer = await startConsumer(fixture.broker, 'read-back', { orders: '*' });
    const received = await receiveAll(consumer, 1000);
    expect(received).toHaveLength(1000);
    for (const view of received) {
      const expected = sent.get(view.messageId);
      expect(expected, view.messageId).toBeDefined();
      expect({
        tag: view.tag,
        keys: view.keys,
        properties: Object.fromEntries(view.properties),
        body: view.body.toString(),
      }).toEqual(expected);
      expect(view.deliveryAttempt).toBe(1);
      expect(view.corrupted).toBeFalsy();
    }
    expect(new Set(received.map((view) => view.messageId)).size).toBe(1000);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^stored topic=orders type=NORMAL tag=Tag0 keys=order-0,customer-0 id=\w{34} size=\d+$/,
      ),
    );
  });

  it('filters by tag expression and lets every consumer group read the topic from the start', async () => {
    const producer = await startProducer(fixture.broker);
    for (const tag of ['TagA', 'TagB', 'TagC']) await producer.send(message('metrics', tag, { tag }));
    const onlyA = await startConsumer(fixture.broker, 'tag-a', { metrics: 'TagA || TagC' });
    const everything = await startConsumer(fixture.broker, 'tag-all', { metrics: '*' });
    expect((await receiveAll(onlyA, 2)).map((view) => view.tag)).toEqual(['TagA', 'TagC']);
    expect((await receiveAll(everything, 3)).map((view) => view.tag)).toEqual(['TagA', 'TagB', 'TagC']);
  });
});

describe('FIFO messages', () => {
  it('delivers each message group in order, one in-flight message per group', async () => {
    const producer = await startProducer(fixture.broker, { topics: ['fifo-topic'] });
    for (let i = 0; i < 10; i++) {
      for (const group of ['g1', 'g2', 'g3']) {
        await producer.send(message('fifo-topic', `${group}:${i}`, { messageGroup: group }));
      }
    }
    expect(fixture.broker.messages('fifo-topic').every((stored) => stored.type === 'FIFO')).toBe(true);
    const consumer = await startConsumer(fixture.broker, 'fifo-reader', { 'fifo-topic': '*' });

    const firstBatch = await consumer.receive(32, 15_000);
    expect(firstBatch.map((view) => view.body.toString())).toEqual(['g1:0', 'g2:0', 'g3:0']);
    for (const view of firstBatch) await consumer.ack(view);

    const order = new Map<string, number[]>();
    for (const view of await receiveAll(consumer, 27)) {
      const [group, index] = view.body.toString().split(':');
      expect(view.messageGroup).toBe(group);
      order.set(group ?? '', [...(order.get(group ?? '') ?? []), Number(index)]);
    }
    const rest = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    expect(Object.fromEntries(order)).toEqual({ g1: rest, g2: rest, g3: rest });
  });
});

describe('DELAY messages', () => {
  it('holds a delay message back until its delivery time', async () => {
    const producer = await startProducer(fixture.broker, { topics: ['delay-topic'] });
    const consumer = await startConsumer(
      fixture.broker,
      'delay-reader',
      { 'delay-topic': '*' },
      { awaitDuration: 500 },
    );
    const receipt = await producer.send(message('delay-topic', 'later', { delay: 1500 }));
    const stored = fixture.broker
      .messages('delay-topic')
      .find((candidate) => candidate.messageId === receipt.messageId);
    expect(stored?.type).toBe('DELAY');
    const due = stored?.deliveryTimestamp ?? 0;

    expect(await consumer.receive(1, 15_000)).toEqual([]);
    let received: MessageView[] = [];
    while (received.length === 0 && Date.now() < due + 3000) received = await consumer.receive(1, 15_000);
    expect(received.map((view) => view.messageId)).toEqual([receipt.messageId]);
    expect(Date.now()).toBeGreaterThanOrEqual(due);
    expect(received[0]?.deliveryTimestamp?.getTime()).toBe(due);
  });

  it('recalls a delay message before it is delivered', async () => {
    const producer = await startProducer(fixture.broker, { topics: ['delay-topic'] });
    const receipt = await producer.send(message('delay-topic', 'cancelled', { delay: 60_000 }));
    expect(receipt.recallHandle).not.toBe('');
    await expect(producer.recallMessage('delay-topic', receipt.recallHandle)).resolves.toEqual({
      messageId: receipt.messageId,
    });
    expect(fixture.broker.messages('delay-topic').map((stored) => stored.messageId)).not.toContain(
      receipt.messageId,
    );
    await expect(producer.recallMessage('delay-topic', receipt.recallHandle)).rejects.toThrow(/code: 40400/);
  });
});

describe('TRANSACTION messages', () => {
  it('makes a committed message visible and never a rolled-back one', async () => {
    const producer = await startProducer(fixture.broker, {
      topics: ['tx-topic'],
      checker: { check: async () => definitionPb.TransactionResolution.ROLLBACK },
    });
    const committed = producer.beginTransaction();
    const committedReceipt = await producer.send(message('tx-topic', 'commit me'), committed);
    expect(committedReceipt.transactionId).toMatch(/^01[0-9A-F]{32}$/);
    expect(fixture.broker.messages('tx-topic')).toEqual([]);
    await committed.commit();
    expect(fixture.broker.messages('tx-topic').map((stored) => [stored.messageId, stored.type])).toEqual([
      [committedReceipt.messageId, 'TRANSACTION'],
    ]);

    const rolledBack = producer.beginTransaction();
    const rolledBackReceipt = await producer.send(message('tx-topic', 'roll me back'), rolledBack);
    await rolledBack.rollback();

    const consumer = await startConsumer(
      fixture.broker,
      'tx-reader',
      { 'tx-topic': '*' },
      { awaitDuration: 300 },
    );
    const received = await receiveAll(consumer, 2, { rounds: 2 });
    expect(received.map((view) => view.messageId)).toEqual([committedReceipt.messageId]);
    expect(fixture.broker.messages('tx-topic').map((stored) => stored.messageId)).not.toContain(
      rolledBackReceipt.messageId,
    );
  });
});

describe('MIXED topics', () => {
  it('accept every message type', async () => {
    const producer = await startProducer(fixture.broker, { topics: ['mixed-topic'] });
    await producer.send(message('mixed-topic', 'normal'));
    await producer.send(message('mixed-topic', 'fifo', { messageGroup: 'g' }));
    await producer.send(message('mixed-topic', 'delay', { delay: 10 }));
    expect(fixture.broker.messages('mixed-topic').map((stored) => stored.type)).toEqual([
      'NORMAL',
      'FIFO',
      'DELAY',
    ]);
  });
});
