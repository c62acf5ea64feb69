import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../../lib/errors.js';
import type { SendFailure } from '../../../lib/producer/types.js';
import { FakeTransport, fakeProducer, fakeSpool } from './fakes.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function collect() {
  const failures: SendFailure[] = [];
  return {
    failures,
    callback: {
      onSuccess: () => {
        throw new Error('no send may succeed here');
      },
      onException: (failure: SendFailure) => failures.push(failure),
    },
  };
}

describe('drain (fake transport, fake timers)', () => {
  it('expires open async sends at the deadline and drops oneway ones; on the wire means maybe stored', async () => {
    const transport = new FakeTransport();
    const producer = fakeProducer(transport, { maxConcurrentSends: 2, sendTimeoutMs: 10_000 });
    const { failures, callback } = collect();
    for (let i = 0; i < 4; i++) producer.sendAsync({ topic: 'orders', keys: [`a${i}`], body: 'x' }, callback);
    producer.sendOneway({ topic: 'logs', body: 'x' });
    const drained = producer.drain({ timeoutMs: 200 });
    await vi.advanceTimersByTimeAsync(200);
    expect(await drained).toEqual({ settled: 0, expiredAsync: 4, droppedOneway: 1, notPersisted: 0 });
    // The two waiting for a slot go first (nothing answered: the broker looks stalled), never sent; the
    // two on the wire at the deadline, maybe stored.
    expect(failures.map((f) => [f.exception.code, f.exception.mayBeStored, f.exception.attempts])).toEqual([
      [ErrorCode.TIMEOUT, false, 0],
      [ErrorCode.TIMEOUT, false, 0],
      [ErrorCode.TIMEOUT, true, 1],
      [ErrorCode.TIMEOUT, true, 1],
    ]);
    expect(failures.map((f) => f.exception.message.includes('may or may not'))).toEqual([
      false,
      false,
      true,
      true,
    ]);
    expect(producer.stats()).toMatchObject({ inFlight: 0, oneway: { dropped: 1 } });
    // The late answers change nothing.
    transport.answerAll();
    await vi.advanceTimersByTimeAsync(0);
    expect(failures).toHaveLength(4);
    expect(producer.stats().async).toMatchObject({ sent: 0, failed: 4 });
  });

  it('expires early enough for the spool, and reports spooled only what is durable by the deadline', async () => {
    const transport = new FakeTransport();
    const spool = fakeSpool();
    const producer = fakeProducer(transport, { spool, spoolReserveMs: 50, sendTimeoutMs: 10_000 });
    const { failures, callback } = collect();
    producer.sendAsync({ topic: 'orders', keys: ['kept'], body: 'x' }, callback);
    const drained = producer.drain({ timeoutMs: 200 });
    await vi.advanceTimersByTimeAsync(150);
    // Expired 50 ms before the deadline; the spool write is durable before the drain returns.
    expect(failures.map((f) => [f.exception.code, f.spooled])).toEqual([[ErrorCode.TIMEOUT, true]]);
    await vi.advanceTimersByTimeAsync(50);
    expect(await drained).toMatchObject({ expiredAsync: 1, notPersisted: 0 });
    expect(spool.records.map((r) => r.message.keys[0])).toEqual(['kept']);

    spool.hold = true;
    producer.sendAsync({ topic: 'orders', keys: ['lost'], body: 'x' }, callback);
    const second = producer.drain({ timeoutMs: 200 });
    await vi.advanceTimersByTimeAsync(200);
    expect(await second).toMatchObject({ expiredAsync: 1, notPersisted: 1 });
    expect(failures.map((f) => f.spooled)).toEqual([true, false]);
    spool.release();
  });

  it('expires sends still waiting for a slot at once when the broker stalls, leaving time to spool them', async () => {
    const transport = new FakeTransport();
    const spool = fakeSpool();
    const producer = fakeProducer(transport, { spool, maxConcurrentSends: 1, sendTimeoutMs: 10_000 });
    const { failures, callback } = collect();
    for (let i = 0; i < 3; i++) producer.sendAsync({ topic: 'orders', keys: [`s${i}`], body: 'x' }, callback);
    const drained = producer.drain({ timeoutMs: 8000 });
    // No answer for an eighth of the drain's time: the two waiting sends go, never sent.
    await vi.advanceTimersByTimeAsync(1100);
    expect(failures.map((f) => [f.exception.mayBeStored, f.spooled])).toEqual([
      [false, true],
      [false, true],
    ]);
    transport.answerAll();
    await vi.advanceTimersByTimeAsync(0);
    expect(await drained).toMatchObject({ expiredAsync: 2, notPersisted: 0 });
  });
});
