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
