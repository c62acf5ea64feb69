import { describe, expect, it } from 'vitest';
import { createProducer, ErrorCode, type SendFailure } from '../../lib/index.js';
import { useBroker } from '../support/broker-fixture.js';

const fixture = useBroker();
const producerFor = fixture.producerFor.bind(fixture);

describe('in-flight bounds', () => {
  it('drops and counts oneway sends past the bound, never throws', async () => {
    const producer = producerFor({ maxInFlight: 10 });
    await producer.send({ topic: 'metrics', body: 'warm-up' });
    fixture.broker.faults.delayMs = 100;
    for (let i = 0; i < 50; i++)
      expect(() => producer.sendOneway({ topic: 'metrics', body: `m${i}` })).not.toThrow();
    expect(producer.stats().oneway.dropped).toBe(40);
    await producer.drain({ timeoutMs: 5000 });
    expect(producer.stats().oneway).toMatchObject({ sent: 10, dropped: 40 });
  });

  it('makes async sends past the bound wait for room, in order, within their deadline', async () => {
    // One send in flight at a time: each waiting send goes only after the one before it was answered.
    const producer = producerFor({ maxInFlight: 1 });
    await producer.send({ topic: 'orders', body: 'warm-up' });
    fixture.broker.faults.delayMs = 20;
    const order: number[] = [];
    const results = Array.from({ length: 8 }, (_, i) =>
      producer
        .sendAsync({ topic: 'orders', keys: [`wait-${i}`], body: 'x' }, { timeoutMs: 20_000 })
        .then(() => order.push(i)),
    );
    await Promise.all(results);
    const indices = Array.from({ length: 8 }, (_, i) => i);
    expect(order).toEqual(indices);
    const stored = fixture.broker.messages('orders').filter((m) => m.keys[0]?.startsWith('wait-'));
    expect(stored.map((m) => m.keys[0])).toEqual(indices.map((i) => `wait-${i}`));
    expect(producer.stats().async).toMatchObject({ sent: 8, failed: 0 });
  });

  it('fails an async send that found no room before its deadline with IN_FLIGHT_FULL', async () => {
    const producer = producerFor({ maxInFlight: 1 });
    await producer.send({ topic: 'orders', body: 'warm-up' });
    fixture.broker.faults.delayMs = 500;
    const failures: SendFailure[] = [];
    const callback = { onSuccess: () => undefined, onException: (f: SendFailure) => failures.push(f) };
    producer.sendAsync({ topic: 'orders', body: 'holds the slot' }, callback, { timeoutMs: 3000 });
    producer.sendAsync({ topic: 'orders', body: 'waits' }, callback, { timeoutMs: 100 });
    await producer.drain({ timeoutMs: 3000 });
    expect(failures.map((f) => f.exception.code)).toEqual([ErrorCode.IN_FLIGHT_FULL]);
    expect(failures[0]?.exception.message).toMatch(/too many sends in flight/);
  });

  it('a burst of async sends goes out a window at a time: each stored once', async () => {
    // Send timeouts a loaded machine does not run out of; what the window prevents is thousands of
    // calls queued in the client at once, each its own attempt timer, retrying into duplicates.
    const producer = producerFor({ sendTimeoutMs: 20_000, attemptTimeoutMs: 10_000 });
    await producer.send({ topic: 'object-events', body: 'warm-up' });
    fixture.broker.faults.delayMs = 2;
    const results = await Promise.allSettled(
      Array.from({ length: 4000 }, (_, i) =>
        producer.sendAsync({ topic: 'object-events', keys: [`burst-${i}`], body: 'x' }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(producer.stats().async).toMatchObject({ sent: 4000, failed: 0, retried: 0 });
    expect(producer.stats().clientResets).toBe(0);
    const keys = fixture.broker
      .messages('object-events')
      .map((m) => m.keys[0])
      .filter((key) => key?.startsWith('burst-'));
    expect(keys).toHaveLength(4000);
    expect(new Set(keys).size).toBe(4000);
  }, 120_000);

  it('rejects nonsense bounds', () => {
    expect(() => createProducer({ endpoints: fixture.broker.endpoint, maxInFlight: 0 })).toThrow(
      /maxInFlight/,
    );
    expect(() => createProducer({ endpoints: fixture.broker.endpoint, maxConcurrentSends: 0 })).toThrow(
      /maxConcurrentSends/,
    );
    expect(() => createProducer({ endpoints: fixture.broker.endpoint, maxInFlightBytes: -1 })).toThrow(
      /maxInFlightBytes/,
    );
  });

  it('100,000 oneway sends against a slow broker keep memory bounded', async () => {
    const producer = producerFor({ maxInFlight: 2000 });
    await producer.send({ topic: 'logs', body: 'warm-up' });
    fixture.broker.faults.delayMs = 200;
    const before = process.memoryUsage().heapUsed;
    let peakInFlight = 0;
    for (let i = 0; i < 100_000; i++) {
      producer.sendOneway({ topic: 'logs', body: 'a log line of moderate length, about sixty bytes long' });
      if (i % 1000 === 0) peakInFlight = Math.max(peakInFlight, producer.stats().inFlight);
    }
    const grownMiB = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
    expect(peakInFlight).toBeLessThanOrEqual(2000);
    expect(producer.stats().oneway.dropped).toBeGreaterThanOrEqual(98_000);
    // Unbounded, 100k pending sends hold several hundred MiB; bounded, a small fraction of that.
    expect(grownMiB).toBeLessThan(150);
    fixture.broker.faults.delayMs = 0;
    await producer.drain({ timeoutMs: 10_000 });
    expect(producer.stats().inFlight).toBe(0);
  });
});
