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
    const producer = producerFor({ maxInFlight: 4 });
    await producer.send({ topic: 'orders', body: 'warm-up' });
    fixture.broker.faults.delayMs = 50;
    const order: number[] = [];
    const results = Array.from({ length: 12 }, (_, i) =>
      producer
        .sendAsync({ topic: 'orders', keys: [`wait-${i}`], body: 'x' }, { timeoutMs: 5000 })
        .then(() => order.push(i)),
    );
    await Promise.all(results);
    expect(order).toHaveLength(12);
    expect(producer.stats().async).toMatchObject({ sent: 12, failed: 0 });
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

  it('a burst of async sends goes out a window at a time: no retries, no duplicates', async () => {
    // A short attempt timeout: thousands of calls queued inside the client at once would outlast it.
    const producer = producerFor({ attemptTimeoutMs: 500 });
    await producer.send({ topic: 'object-events', body: 'warm-up' });
    const storedBefore = fixture.broker.messages('object-events').length;
    fixture.broker.faults.delayMs = 2;
    const results = Array.from({ length: 4000 }, (_, i) =>
      producer.sendAsync({ topic: 'object-events', keys: [`burst-${i}`], body: 'x' }),
    );
    await Promise.all(results);
    expect(producer.stats().async).toMatchObject({ sent: 4000, failed: 0, retried: 0 });
    expect(producer.stats().clientResets).toBe(0);
    expect(fixture.broker.messages('object-events').length - storedBefore).toBe(4000);
  });

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
