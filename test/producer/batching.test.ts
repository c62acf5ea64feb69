import { describe, expect, it } from 'vitest';
import { createProducer } from '../../lib/index.js';
import { useBroker } from '../support/broker-fixture.js';

const fixture = useBroker();
const producerFor = fixture.producerFor.bind(fixture);

describe('oneway micro-batching', () => {
  it('stores every message, each under its own keys, in far fewer calls', async () => {
    const producer = producerFor({ onewayBatching: { maxMessages: 64, lingerMs: 5 } });
    await producer.send({ topic: 'logs', body: 'warm-up' });
    const callsBefore = fixture.broker.stats().sendMessageCalls;
    const storedBefore = fixture.broker.messages('logs').length;
    for (let i = 0; i < 500; i++)
      producer.sendOneway({ topic: 'logs', tag: 'app', keys: [`line-${i}`], body: `line ${i}` });
    await producer.drain({ timeoutMs: 5000 });
    const stored = fixture.broker.messages('logs').slice(storedBefore);
    expect(stored).toHaveLength(500);
    expect(new Set(stored.map((m) => m.keys[0])).size).toBe(500);
    expect(stored.every((m) => m.tag === 'app')).toBe(true);
    const calls = fixture.broker.stats().sendMessageCalls - callsBefore;
    expect(calls).toBeLessThanOrEqual(Math.ceil(500 / 64) + 2);
    expect(producer.stats().oneway).toMatchObject({ sent: 500, failed: 0 });
  });

  it('keeps FIFO and delay messages out of batches', async () => {
    const producer = producerFor({ onewayBatching: true });
    producer.sendOneway({ topic: 'fifo-topic', messageGroup: 'g', body: 'a' });
    producer.sendOneway({ topic: 'delay-topic', deliveryTimestamp: Date.now() + 1000, body: 'b' });
    await producer.drain();
    expect(producer.stats().oneway).toMatchObject({ sent: 2, failed: 0 });
  });

  it('counts a failed batch per message and never throws', async () => {
    const producer = producerFor({ onewayBatching: { lingerMs: 50 } });
    await producer.send({ topic: 'logs', body: 'warm-up' });
    fixture.broker.faults.failNextSends(1, 50001);
    for (let i = 0; i < 10; i++)
      expect(() => producer.sendOneway({ topic: 'logs', body: `x${i}` })).not.toThrow();
    await producer.drain();
    expect(producer.stats().oneway).toMatchObject({ sent: 0, failed: 10 });
  });

  it('drain sends open batches at once instead of waiting out the linger', async () => {
    const producer = producerFor({ onewayBatching: { lingerMs: 60_000 } });
    await producer.send({ topic: 'logs', body: 'warm-up' });
    producer.sendOneway({ topic: 'logs', body: 'lonely' });
    const started = Date.now();
    await producer.drain({ timeoutMs: 5000 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(producer.stats().oneway.sent).toBe(1);
  });

  it('rejects unknown batching options by name', () => {
    expect(() =>
      createProducer({ endpoints: fixture.broker.endpoint, onewayBatching: { maxMesages: 2 } as never }),
    ).toThrow(/unknown onewayBatching option: maxMesages/);
  });
});

describe('async micro-batching', () => {
  it('each message gets its own callback exactly once, in far fewer calls', async () => {
    const producer = producerFor({ asyncBatching: { maxMessages: 64, lingerMs: 5 } });
    await producer.send({ topic: 'object-events', body: 'warm-up' });
    const callsBefore = fixture.broker.stats().sendMessageCalls;
    const storedBefore = fixture.broker.messages('object-events').length;
    const calls = new Map<number, number>();
    for (let i = 0; i < 500; i++) {
      const count = () => calls.set(i, (calls.get(i) ?? 0) + 1);
      producer.sendAsync(
        { topic: 'object-events', keys: [`batched-${i}`], body: `m${i}` },
        { onSuccess: count, onException: () => expect.unreachable() },
      );
    }
    await producer.drain({ timeoutMs: 10_000 });
    expect([...calls.values()].filter((n) => n === 1)).toHaveLength(500);
    expect(fixture.broker.messages('object-events').length - storedBefore).toBe(500);
    expect(fixture.broker.stats().sendMessageCalls - callsBefore).toBeLessThanOrEqual(
      Math.ceil(500 / 64) + 2,
    );
    expect(producer.stats().async).toMatchObject({ sent: 500, failed: 0 });
  });

  it('answers every message of a batch with the id the proxy returns for it', async () => {
    const producer = producerFor({ asyncBatching: { lingerMs: 20 } });
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        producer.sendAsync({ topic: 'orders', keys: [`shared-${i}`], body: 'x' }),
      ),
    );
    // Like a RocketMQ 5 proxy, the broker answers a batch with one entry: one shared id.
    expect(new Set(results.map((r) => r.messageId)).size).toBe(1);
    expect(results.every((r) => r.topic === 'orders' && r.attempts === 1)).toBe(true);
  });

  it('retries a batch as a whole on a retryable error, and fails each message on a final one', async () => {
    const producer = producerFor({ asyncBatching: { lingerMs: 20 }, retry: { baseDelayMs: 5 } });
    await producer.send({ topic: 'orders', body: 'warm-up' });
    fixture.broker.faults.failNextSends(1, 50001);
    const retried = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        producer.sendAsync({ topic: 'orders', keys: [`retry-${i}`], body: 'x' }),
      ),
    );
    expect(retried.map((r) => r.attempts)).toEqual([2, 2, 2, 2]);
    fixture.broker.faults.failNextSends(1, 40300);
    const failed = await Promise.all(
      Array.from({ length: 3 }, (_, i) =>
        producer
          .sendAsync({ topic: 'orders', keys: [`refused-${i}`], body: 'x' })
          .catch((error: unknown) => error),
      ),
    );
    expect(failed.map((e) => (e as { code: string }).code)).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
  });
});

describe('async micro-batching against a broker that answers per message', () => {
  const perMessage = useBroker({ batchReply: 'per-message' });

  it('gives each message its own stored id', async () => {
    const producer = perMessage.producerFor({ asyncBatching: { lingerMs: 20 } });
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        producer.sendAsync({ topic: 'orders', keys: [`own-${i}`], body: `${i}` }),
      ),
    );
    expect(new Set(results.map((r) => r.messageId)).size).toBe(5);
    for (const [i, result] of results.entries()) {
      const stored = perMessage.broker.messages('orders').find((m) => m.messageId === result.messageId);
      expect(stored?.keys).toEqual([`own-${i}`]);
    }
  });
});
