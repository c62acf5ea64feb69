import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../../lib/errors.js';
import type { PendingSend } from '../../../lib/producer/pending.js';
import type { SendFailure, SendResult } from '../../../lib/producer/types.js';
import { brokerError, FakeTransport, fakeProducer, fakeSpool } from './fakes.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function recorder() {
  const events: string[] = [];
  const failures: SendFailure[] = [];
  const callback = (name: string) => ({
    onSuccess: (result: SendResult) => events.push(`${name}:ok:${result.attempts}`),
    onException: (failure: SendFailure) => {
      failures.push(failure);
      events.push(`${name}:${failure.exception.code}`);
    },
  });
  return { events, failures, callback };
}

describe('async sends (fake transport)', () => {
  it('runs exactly one callback per send, never before sendAsync returned, even when refused at once', async () => {
    const transport = new FakeTransport();
    const producer = fakeProducer(transport, { maxConcurrentSends: 1 });
    const { events, callback } = recorder();
    producer.sendAsync({ topic: 'orders', body: 'a' }, callback('a'));
    // Waits for the one slot with a deadline already past: refused inside sendAsync, told after it.
    producer.sendAsync({ topic: 'orders', body: 'b' }, callback('b'), { deadline: Date.now() - 1 });
    expect(events).toEqual([]);
    await Promise.resolve();
    expect(events).toEqual(['b:TIMEOUT']);
    transport.answerAll();
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual(['b:TIMEOUT', 'a:ok:1']);
    await producer.drain();
    expect(events).toHaveLength(2);
  });

  it('sends a burst in order, a window at a time, with no retries', async () => {
    const transport = new FakeTransport();
    const producer = fakeProducer(transport, { maxConcurrentSends: 8 });
    transport.autoAnswer = () => 'ok';
    const order: number[] = [];
    const sends = Array.from({ length: 500 }, (_, i) =>
      producer.sendAsync({ topic: 'orders', keys: [`k${i}`], body: 'x' }).then(() => order.push(i)),
    );
    await Promise.all(sends);
    expect(transport.peakOnWire).toBe(8);
    expect(order).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(transport.sent.map((m) => m.keys[0])).toEqual(order.map((i) => `k${i}`));
    expect(producer.stats().async).toMatchObject({ sent: 500, failed: 0, retried: 0 });
  });

  it('fails a send that found no room within its deadline with IN_FLIGHT_FULL, nothing sent', async () => {
    const transport = new FakeTransport();
    const producer = fakeProducer(transport, { maxInFlight: 1 });
    const { events, failures, callback } = recorder();
    producer.sendAsync({ topic: 'orders', body: 'holds the room' }, callback('holder'));
    producer.sendAsync({ topic: 'orders', body: 'waits' }, callback('waiter'), { timeoutMs: 100 });
    await vi.advanceTimersByTimeAsync(100);
    expect(events).toEqual(['waiter:IN_FLIGHT_FULL']);
    expect(failures[0]?.exception).toMatchObject({ mayBeStored: false, attempts: 0, spooled: false });
    expect(transport.held).toHaveLength(1);
    transport.answerAll();
    await producer.drain();
  });

  it('spools a failed send before its callback, and the promise form rejects saying so', async () => {
    const transport = new FakeTransport();
    const spool = fakeSpool();
    const producer = fakeProducer(transport, { spool, retry: { maxAttempts: 1 } });
    transport.autoAnswer = () => brokerError(50001);
    const error = await producer.sendAsync({ topic: 'orders', keys: ['spooled'], body: 'x' }).catch((e) => e);
    expect(error).toMatchObject({ code: ErrorCode.BROKER_INTERNAL, spooled: true, attempts: 1 });
    expect(spool.records.map((r) => r.message.keys[0])).toEqual(['spooled']);
    expect(producer.stats().async).toMatchObject({ failed: 1, spooled: 1 });
  });

  it('a callback that throws is counted and does not break the producer', async () => {
    const transport = new FakeTransport();
    const producer = fakeProducer(transport);
    transport.autoAnswer = () => 'ok';
    producer.sendAsync(
      { topic: 'orders', body: 'x' },
      {
        onSuccess: () => {
          throw new Error('user code');
        },
        onException: () => undefined,
      },
    );
    await producer.drain();
    expect(producer.stats().callbackErrors).toBe(1);
    await expect(producer.send({ topic: 'orders', body: 'y' })).resolves.toMatchObject({ attempts: 1 });
  });
});

describe('oneway sends (fake transport)', () => {
  it('drops and counts sends past maxInFlight at once, and never waits or throws', async () => {
    const transport = new FakeTransport();
    const producer = fakeProducer(transport, { maxInFlight: 10 });
    for (let i = 0; i < 50; i++) producer.sendOneway({ topic: 'metrics', body: `m${i}` });
    expect(producer.stats().oneway.dropped).toBe(40);
    // Deferred: nothing reached the transport while sendOneway ran.
    expect(transport.held).toHaveLength(0);
    await Promise.resolve();
    expect(transport.held).toHaveLength(10);
    transport.held[0]?.fail(brokerError(50001));
    transport.answerAll();
    await producer.drain();
    expect(producer.stats().oneway).toMatchObject({ sent: 9, failed: 1, dropped: 40, retried: 0 });
  });
});

describe('the track hook', () => {
  it('is told of each pending send until it settles, and drain({ sends }) drains only those', async () => {
    const transport = new FakeTransport();
    // The hook keeps its sets live: a send leaves them when it settles.
    const tracked = new Set<PendingSend>();
    const mine = new Set<PendingSend>();
    let calls = 0;
    const producer = fakeProducer(transport, {
      track: (send) => {
        calls++;
        tracked.add(send);
        if (send.mode === 'async') mine.add(send);
        return () => {
          tracked.delete(send);
          mine.delete(send);
        };
      },
    });
    const { events, callback } = recorder();
    producer.sendAsync({ topic: 'orders', body: 'a' }, callback('a'));
    producer.sendOneway({ topic: 'logs', body: 'b' });
    expect(calls).toBe(2);
    expect(tracked.size).toBe(2);
    await Promise.resolve();
    transport.held[0]?.answer();
    const drained = await producer.drain({ sends: mine });
    expect(drained).toMatchObject({ settled: 1, expiredAsync: 0, droppedOneway: 0 });
    expect(events).toEqual(['a:ok:1']);
    // The oneway send is still pending: that drain was not its.
    expect(tracked.size).toBe(1);
    expect(producer.stats().inFlight).toBe(1);
    transport.answerAll();
    await producer.drain();
    expect(tracked.size).toBe(0);
  });
});
