import { beforeEach, describe, expect, it } from 'vitest';
import type { LocalBroker } from '../../infra/local-broker/index.js';
import {
  ErrorCode,
  type Producer,
  RocketMQError,
  type SendFailure,
  type SendResult,
} from '../../lib/index.js';
import { useBroker } from '../support/broker-fixture.js';

const fixture = useBroker();
let broker: LocalBroker;
/** A fresh producer per test: its counters start at zero. */
let producer: Producer;

beforeEach(() => {
  broker = fixture.broker;
  producer = fixture.producerFor();
});

describe('sync send', () => {
  it('resolves with the id the broker stored the message under', async () => {
    const result = await producer.send({
      topic: 'orders',
      tag: 'OrderCreated',
      keys: ['ORDERID_1'],
      properties: { source: 'test' },
      body: { orderId: 1 },
    });
    expect(result).toMatchObject({ topic: 'orders', attempts: 1 });
    const stored = broker.messages('orders').find((m) => m.messageId === result.messageId);
    expect(stored).toMatchObject({ tag: 'OrderCreated', keys: ['ORDERID_1'], type: 'NORMAL' });
    expect(stored?.properties).toMatchObject({ source: 'test', 'content-type': 'application/json' });
    expect(JSON.parse(stored?.body.toString() ?? '')).toEqual({ orderId: 1 });
  });

  it('sends FIFO and delay messages to topics of their type', async () => {
    const fifo = await producer.send({ topic: 'fifo-topic', messageGroup: 'g1', body: 'a' });
    const at = Date.now() + 60_000;
    const delay = await producer.send({ topic: 'delay-topic', deliveryTimestamp: at, body: 'b' });
    expect(broker.messages('fifo-topic').find((m) => m.messageId === fifo.messageId)?.messageGroup).toBe(
      'g1',
    );
    const delayed = broker.messages('delay-topic').find((m) => m.messageId === delay.messageId);
    expect(delayed?.deliveryTimestamp).toBe(at);
  });

  it('throws TOPIC_NOT_FOUND for an unknown topic, without retrying', async () => {
    const before = broker.stats().sendMessageCalls;
    const error = await producer.send({ topic: 'no-such-topic', body: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RocketMQError);
    expect(error).toMatchObject({
      code: ErrorCode.TOPIC_NOT_FOUND,
      retryable: false,
      attempts: 1,
      topic: 'no-such-topic',
    });
    expect(broker.stats().sendMessageCalls).toBe(before);
    // The producer keeps working for known topics.
    await expect(producer.send({ topic: 'orders', body: 'after' })).resolves.toMatchObject({
      topic: 'orders',
    });
  });

  it('throws MESSAGE_TYPE_MISMATCH for a normal message to a FIFO topic', async () => {
    await expect(producer.send({ topic: 'fifo-topic', body: 'no group' })).rejects.toMatchObject({
      code: ErrorCode.MESSAGE_TYPE_MISMATCH,
      retryable: false,
    });
  });

  it('rejects an invalid message before any network I/O', async () => {
    const before = broker.stats().rpcCalls;
    await expect(producer.send({ topic: 'orders', tag: 'a|b', body: 'x' })).rejects.toMatchObject({
      code: ErrorCode.MESSAGE_INVALID,
      field: 'tag',
    });
    expect(broker.stats().rpcCalls).toEqual(before);
  });
});

describe('async send', () => {
  it('calls onSuccess exactly once, never before sendAsync returns', async () => {
    // Recorded, not asserted in the callback: the producer catches what a callback throws.
    const calls: { result: SendResult; afterReturn: boolean }[] = [];
    const failures: SendFailure[] = [];
    let returned = false;
    const done = new Promise<void>((resolve) => {
      producer.sendAsync(
        { topic: 'orders', tag: 'Fanout', body: 'async' },
        {
          onSuccess: (result) => {
            calls.push({ result, afterReturn: returned });
            resolve();
          },
          onException: (failure) => {
            failures.push(failure);
            resolve();
          },
        },
      );
      returned = true;
    });
    await done;
    await producer.drain();
    expect(failures).toEqual([]);
    expect(calls.map((call) => call.afterReturn)).toEqual([true]);
    expect(broker.messages('orders').some((m) => m.messageId === calls[0]?.result.messageId)).toBe(true);
  });

  it('calls onException with topic and typed exception on failure', async () => {
    const outcome = await new Promise<SendFailure | SendResult>((resolve) => {
      producer.sendAsync({ topic: 'no-such-topic', body: 'x' }, { onSuccess: resolve, onException: resolve });
    });
    expect(outcome).toHaveProperty('exception');
    const failure = outcome as SendFailure;
    expect(failure).toMatchObject({ topic: 'no-such-topic', spooled: false });
    expect(failure.exception.code).toBe(ErrorCode.TOPIC_NOT_FOUND);
  });

  it('has a promise form', async () => {
    const result = await producer.sendAsync({ topic: 'orders', body: 'promise' });
    expect(result.topic).toBe('orders');
    await expect(producer.sendAsync({ topic: 'no-such-topic', body: 'x' })).rejects.toMatchObject({
      code: ErrorCode.TOPIC_NOT_FOUND,
      spooled: false,
    });
    await expect(producer.send({ topic: 'orders', body: 'x' }, { timeout: 5 } as never)).rejects.toThrow(
      /unknown send option: timeout/,
    );
  });

  it('throws at once for an invalid message or a half callback, and sends nothing', () => {
    const callback = { onSuccess: () => undefined, onException: () => undefined };
    expect(() => producer.sendAsync({ topic: '', body: 'x' }, callback)).toThrow(/topic/);
    expect(() =>
      producer.sendAsync({ topic: 'orders', body: 'x' }, { onSuccess: () => undefined } as never),
    ).toThrow(/onException/);
    expect(producer.stats().inFlight).toBe(0);
  });

  it('survives a callback that throws', async () => {
    const before = producer.stats().callbackErrors;
    producer.sendAsync(
      { topic: 'orders', body: 'x' },
      {
        onSuccess: () => {
          throw new Error('user bug');
        },
        onException: () => undefined,
      },
    );
    await producer.drain();
    expect(producer.stats().callbackErrors).toBe(before + 1);
    await expect(producer.send({ topic: 'orders', body: 'still fine' })).resolves.toBeDefined();
  });
});

describe('oneway send', () => {
  it('returns at once, and the message is stored after drain', async () => {
    const before = broker.messages('metrics').length;
    const sentBefore = producer.stats().oneway.sent;
    for (let i = 0; i < 50; i++) producer.sendOneway({ topic: 'metrics', keys: [`m${i}`], body: `v=${i}` });
    expect(producer.stats().inFlight).toBeGreaterThan(0);
    const drained = await producer.drain({ timeoutMs: 5000 });
    expect(drained).toMatchObject({ expiredAsync: 0, droppedOneway: 0 });
    expect(broker.messages('metrics').length - before).toBe(50);
    expect(producer.stats().oneway.sent - sentBefore).toBe(50);
  });

  it('never throws on transport failure; counts it', async () => {
    const failedBefore = producer.stats().oneway.failed;
    expect(() => producer.sendOneway({ topic: 'no-such-topic', body: 'x' })).not.toThrow();
    await producer.drain();
    expect(producer.stats().oneway.failed).toBe(failedBefore + 1);
  });

  it('throws at once for an invalid message', () => {
    expect(() => producer.sendOneway({ topic: 'orders', body: 'x', keys: ['a b'] })).toThrow(/keys\[0\]/);
  });
});

describe('stats', () => {
  it('counts each mode from zero and reports latency percentiles', async () => {
    await producer.send({ topic: 'orders', body: 'sync' });
    await producer.sendAsync({ topic: 'orders', body: 'async' });
    await producer.sendAsync({ topic: 'no-such-topic', body: 'fails' }).catch(() => undefined);
    producer.sendOneway({ topic: 'metrics', body: 'oneway' });
    await producer.drain();
    const stats = producer.stats();
    expect(stats.sync).toMatchObject({ sent: 1, failed: 0 });
    expect(stats.async).toMatchObject({ sent: 1, failed: 1 });
    expect(stats.oneway).toMatchObject({ sent: 1, failed: 0, dropped: 0 });
    // Sync and async sends the broker acknowledged; oneway sends have no latency of their own.
    expect(stats.latencyMs.count).toBe(2);
    expect(stats.latencyMs.p99).toBeGreaterThanOrEqual(stats.latencyMs.p50);
    expect(stats.latencyMs.p50).toBeGreaterThan(0);
    expect(stats.inFlight).toBe(0);
  });
});
