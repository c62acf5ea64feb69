import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../../lib/errors.js';
import type { PreparedMessage } from '../../../lib/message.js';
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

/**
 * A fake spool with the synchronous path a drain uses: `appendThen` queues, `flushSync` makes the queue
 * durable at once and tells the records on the next microtask, as the real spools do. `onFlush` runs
 * inside the write (to move the fake clock, say).
 */
function syncSpool(onFlush: () => void = () => undefined) {
  const queued: { key: string; done: (error: unknown) => void }[] = [];
  const spool = {
    durable: [] as string[],
    writes: 0,
    async append(): Promise<string> {
      throw new Error('a drain uses appendThen');
    },
    appendThen(message: PreparedMessage, _error: unknown, done: (error: unknown) => void) {
      queued.push({ key: message.keys[0] ?? '', done });
    },
    flushSync() {
      const batch = queued.splice(0);
      if (batch.length === 0) return;
      spool.writes++;
      onFlush();
      spool.durable.push(...batch.map((entry) => entry.key));
      queueMicrotask(() => {
        for (const entry of batch) entry.done(undefined);
      });
    },
    async list() {
      return [];
    },
    async redeliver() {
      return { delivered: 0, failed: 0, rejected: 0, quarantined: 0, remaining: 0 };
    },
  };
  return spool;
}

describe('drain: durable first, then told', () => {
  it('makes every record of an expiry durable in one write before any of their callbacks runs', async () => {
    const transport = new FakeTransport();
    const spool = syncSpool();
    const producer = fakeProducer(transport, { spool, maxConcurrentSends: 2, sendTimeoutMs: 10_000 });
    const seen: number[] = [];
    const failures: SendFailure[] = [];
    for (let i = 0; i < 200; i++) {
      producer.sendAsync(
        { topic: 'orders', keys: [`k${i}`], body: 'x' },
        {
          onSuccess: () => {
            throw new Error('no send may succeed here');
          },
          onException: (failure) => {
            seen.push(spool.durable.length);
            failures.push(failure);
          },
        },
      );
    }
    const drained = producer.drain({ timeoutMs: 200 });
    await vi.advanceTimersByTimeAsync(200);
    expect(await drained).toEqual({ settled: 0, expiredAsync: 200, droppedOneway: 0, notPersisted: 0 });
    // 198 waiting for a slot expire together when the broker stalls, the 2 on the wire later: two writes,
    // and each callback ran once its whole expiry was on disk.
    expect(spool.writes).toBe(2);
    expect(seen).toEqual([...Array.from({ length: 198 }, () => 198), 200, 200]);
    expect(failures.every((failure) => failure.spooled)).toBe(true);
    expect(new Set(spool.durable)).toEqual(new Set(Array.from({ length: 200 }, (_, i) => `k${i}`)));
  });

  it('a record made durable as the deadline passes is reported spooled, not as not persisted', async () => {
    const transport = new FakeTransport();
    // The write takes the drain past its deadline.
    const spool = syncSpool(() => vi.setSystemTime(Date.now() + 1000));
    const producer = fakeProducer(transport, { spool, maxConcurrentSends: 1, sendTimeoutMs: 10_000 });
    const { failures, callback } = collect();
    for (let i = 0; i < 50; i++)
      producer.sendAsync({ topic: 'orders', keys: [`k${i}`], body: 'x' }, callback);
    const drained = producer.drain({ timeoutMs: 100 });
    await vi.advanceTimersByTimeAsync(100);
    const result = await drained;
    expect(result).toMatchObject({ expiredAsync: 50, notPersisted: 0 });
    expect(failures.map((failure) => failure.spooled)).toEqual(Array.from({ length: 50 }, () => true));
  });

  it("gives each callback an exception of its own, made when first read, with the send's attempts and spooled", async () => {
    const transport = new FakeTransport();
    const producer = fakeProducer(transport, {
      spool: syncSpool(),
      maxConcurrentSends: 1,
      sendTimeoutMs: 10_000,
    });
    const { failures, callback } = collect();
    for (let i = 0; i < 3; i++) producer.sendAsync({ topic: 'orders', keys: [`k${i}`], body: 'x' }, callback);
    const drained = producer.drain({ timeoutMs: 100 });
    await vi.advanceTimersByTimeAsync(100);
    await drained;
    // The two waiting for a slot expire first, at the stall; the one on the wire at the deadline.
    expect(failures.map((failure) => failure.exception.mayBeStored)).toEqual([false, false, true]);
    const [waiting, alsoWaiting, onWire] = failures.map((failure) => ({ ...failure }));
    expect(waiting?.exception).not.toBe(alsoWaiting?.exception);
    expect(failures[1]?.exception).toBe(failures[1]?.exception);
    expect(waiting?.exception).toMatchObject({ code: ErrorCode.TIMEOUT, attempts: 0, spooled: true });
    expect(onWire?.exception).toMatchObject({ code: ErrorCode.TIMEOUT, attempts: 1, spooled: true });
    expect(onWire?.exception.stack).toMatch(/^RocketMQError: async send to orders did not finish/);
  });

  it('sends expired while waiting leave the gate at once: 5,000 of them, spool writes pending, and the answer on the wire admits none', async () => {
    const transport = new FakeTransport();
    const spool = fakeSpool();
    spool.hold = true;
    const producer = fakeProducer(transport, { spool, maxConcurrentSends: 1, sendTimeoutMs: 10_000 });
    const { failures, callback } = collect();
    for (let i = 0; i < 5000; i++)
      producer.sendAsync({ topic: 'orders', keys: [`k${i}`], body: 'x' }, callback);
    const drained = producer.drain({ timeoutMs: 1000 });
    // The broker stalls: the 4,999 waiting are expired and handed to the (held) spool.
    await vi.advanceTimersByTimeAsync(300);
    expect(transport.held).toHaveLength(1);
    transport.answerAll();
    await vi.advanceTimersByTimeAsync(0);
    expect(transport.held).toHaveLength(0);
    expect(transport.sent).toHaveLength(1);
    spool.release();
    await vi.advanceTimersByTimeAsync(1000);
    expect(await drained).toMatchObject({ settled: 1, expiredAsync: 4999, notPersisted: 0 });
    expect(failures).toHaveLength(4999);
  });
});
