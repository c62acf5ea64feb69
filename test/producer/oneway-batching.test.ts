import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalBroker, startLocalBroker } from '../../infra/local-broker/index.js';
import { createProducer, type Producer } from '../../lib/index.js';

let broker: LocalBroker;
const producers: Producer[] = [];

function producerFor(options: Parameters<typeof createProducer>[0]) {
  const producer = createProducer({ endpoints: broker.endpoint, ...options });
  producers.push(producer);
  return producer;
}

beforeAll(async () => {
  broker = await startLocalBroker();
});
afterEach(async () => {
  broker.faults.reset();
  await Promise.all(producers.splice(0).map((p) => p.shutdown()));
});
afterAll(async () => {
  await broker.stop();
});

describe('oneway micro-batching', () => {
  it('stores every message, each under its own keys, in far fewer calls', async () => {
    const producer = producerFor({ onewayBatching: { maxMessages: 64, lingerMs: 5 } });
    await producer.send({ topic: 'logs', body: 'warm-up' });
    const callsBefore = broker.stats().sendMessageCalls;
    const storedBefore = broker.messages('logs').length;
    for (let i = 0; i < 500; i++)
      producer.sendOneway({ topic: 'logs', tag: 'app', keys: [`line-${i}`], body: `line ${i}` });
    await producer.drain({ timeoutMs: 5000 });
    const stored = broker.messages('logs').slice(storedBefore);
    expect(stored).toHaveLength(500);
    expect(new Set(stored.map((m) => m.keys[0])).size).toBe(500);
    expect(stored.every((m) => m.tag === 'app')).toBe(true);
    const calls = broker.stats().sendMessageCalls - callsBefore;
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
    broker.faults.failNextSends(1, 50001);
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
      createProducer({ endpoints: broker.endpoint, onewayBatching: { maxMesages: 2 } as never }),
    ).toThrow(/unknown onewayBatching option: maxMesages/);
  });
});
