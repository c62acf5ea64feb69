import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, RocketMQError } from '../../../lib/errors.js';
import { brokerError, FakeTransport, fakeProducer } from './fakes.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Fails the next `count` sends with `error`, then answers. */
function failing(transport: FakeTransport, count: number, error: () => unknown): void {
  let left = count;
  transport.autoAnswer = () => (left-- > 0 ? error() : 'ok');
}

describe('retry policy (fake transport, fake timers)', () => {
  it('retries a retryable verdict after a jittered exponential backoff and counts the attempts', async () => {
    const transport = new FakeTransport();
    const producer = fakeProducer(transport, { retry: { baseDelayMs: 100, maxAttempts: 3 } });
    const attemptsAt: number[] = [];
    const start = Date.now();
    let left = 2;
    transport.autoAnswer = () => {
      attemptsAt.push(Date.now() - start);
      return left-- > 0 ? brokerError(50001) : 'ok';
    };
    const sent = producer.send({ topic: 'orders', body: 'x' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(await sent).toMatchObject({ attempts: 3 });
    // Full jitter with random() = 0.5: half of 100 ms, then half of 200 ms.
    expect(attemptsAt).toEqual([0, 50, 150]);
    expect(producer.stats().sync).toMatchObject({ sent: 1, retried: 2, failed: 0 });
  });

  it('never retries a verdict on the message', async () => {
    const transport = new FakeTransport();
    const producer = fakeProducer(transport);
    failing(transport, 5, () => brokerError(40300));
    await expect(producer.send({ topic: 'orders', body: 'x' })).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
      attempts: 1,
      retryable: false,
    });
    expect(transport.answers).toBe(1);
  });

  it('gives up after maxAttempts with the last error and its attempts', async () => {
    const transport = new FakeTransport();
    const producer = fakeProducer(transport, { retry: { maxAttempts: 2, baseDelayMs: 10 } });
    failing(transport, 5, () => brokerError(42900));
    const sent = producer.send({ topic: 'orders', body: 'x' }).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(100);
    expect(await sent).toMatchObject({ code: ErrorCode.TOO_MANY_REQUESTS, attempts: 2, retryable: true });
    expect(transport.answers).toBe(2);
  });

  it('fails a send whose deadline already passed with TIMEOUT, attempts 0, without touching the wire', async () => {
    const transport = new FakeTransport();
    const producer = fakeProducer(transport);
    await expect(
      producer.send({ topic: 'orders', body: 'x' }, { deadline: Date.now() - 1 }),
    ).rejects.toMatchObject({
      code: ErrorCode.TIMEOUT,
      attempts: 0,
      mayBeStored: false,
    });
    expect(transport.held).toHaveLength(0);
  });

  it('cuts an unanswered attempt at its slice, replaces the client, and takes the late answer of any attempt', async () => {
    const transport = new FakeTransport();
    const producer = fakeProducer(transport, { sendTimeoutMs: 1000 });
    const sent = producer.send({ topic: 'orders', body: 'x' });
    await vi.advanceTimersByTimeAsync(500);
    // The first attempt's slice (half the send timeout) ran out with nothing heard: a stale channel.
    expect(transport.resets).toBe(1);
    expect(transport.held).toHaveLength(2);
    transport.held[0]?.answer();
    expect(await sent).toMatchObject({ attempts: 2 });
  });

  it('gives every failed send an error of its own, even when the transport throws one object for all', async () => {
    const transport = new FakeTransport();
    const producer = fakeProducer(transport, { retry: { maxAttempts: 1 } });
    const shared = new RocketMQError(ErrorCode.BROKER_INTERNAL, 'one failure for a whole batch', {
      topic: 'orders',
    });
    transport.autoAnswer = () => shared;
    const errors = await Promise.all(
      [0, 1, 2].map((i) => producer.sendAsync({ topic: 'orders', body: `${i}` }).catch((e: unknown) => e)),
    );
    expect(new Set(errors).size).toBe(3);
    for (const error of errors) {
      expect(error).not.toBe(shared);
      expect(error).toMatchObject({ code: ErrorCode.BROKER_INTERNAL, attempts: 1, spooled: false });
    }
    // The transport's own error is as it was thrown.
    expect(shared.attempts).toBeUndefined();
    expect(shared.spooled).toBeUndefined();
  });
});
