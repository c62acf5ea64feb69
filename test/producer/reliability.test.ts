import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileSpool } from '../../lib/entries/spool.js';
import { ErrorCode, type SendFailure, type SendResult } from '../../lib/index.js';
import { useBroker } from '../support/broker-fixture.js';

const fixture = useBroker();
const producerFor = fixture.producerFor.bind(fixture);

describe('retry policy', () => {
  it('retries retryable broker errors and succeeds, counting attempts', async () => {
    const producer = producerFor({ retry: { baseDelayMs: 5 } });
    await producer.send({ topic: 'orders', body: 'warm-up' });
    const before = fixture.broker.stats().sendMessageCalls;
    fixture.broker.faults.failNextSends(2, 50001);
    const result = await producer.send({ topic: 'orders', body: 'x' });
    expect(result.attempts).toBe(3);
    expect(fixture.broker.stats().sendMessageCalls - before).toBe(3);
    expect(producer.stats().sync.retried).toBe(2);
  });

  it.each([
    [40300, ErrorCode.FORBIDDEN],
    [40100, ErrorCode.UNAUTHORIZED],
    [41301, ErrorCode.MESSAGE_TOO_LARGE],
    [40014, ErrorCode.MESSAGE_TYPE_MISMATCH],
  ])('never retries %i (%s)', async (status, code) => {
    const producer = producerFor({ retry: { baseDelayMs: 5 } });
    await producer.send({ topic: 'orders', body: 'warm-up' });
    const before = fixture.broker.stats().sendMessageCalls;
    fixture.broker.faults.failNextSends(1, status);
    await expect(producer.send({ topic: 'orders', body: 'x' })).rejects.toMatchObject({ code, attempts: 1 });
    expect(fixture.broker.stats().sendMessageCalls - before).toBe(1);
  });

  it('gives up after maxAttempts on a broker that keeps failing', async () => {
    const producer = producerFor({ retry: { maxAttempts: 2, baseDelayMs: 5 } });
    await producer.send({ topic: 'orders', body: 'warm-up' });
    fixture.broker.faults.failNextSends(5, 42900);
    await expect(producer.send({ topic: 'orders', body: 'x' })).rejects.toMatchObject({
      code: ErrorCode.TOO_MANY_REQUESTS,
      attempts: 2,
      retryable: true,
    });
  });
});

describe('deadlines', () => {
  it('a slow broker fails the send with TIMEOUT within the caller deadline', async () => {
    const producer = producerFor({ sendTimeoutMs: 3000 });
    await producer.send({ topic: 'orders', body: 'warm-up' });
    fixture.broker.faults.delayMs = 2000;
    const started = Date.now();
    await expect(producer.send({ topic: 'orders', body: 'x' }, { timeoutMs: 300 })).rejects.toMatchObject({
      code: ErrorCode.TIMEOUT,
    });
    expect(Date.now() - started).toBeLessThan(600);
  });

  it('a deadline already past fails at once', async () => {
    const producer = producerFor();
    await expect(
      producer.send({ topic: 'orders', body: 'x' }, { deadline: Date.now() - 1 }),
    ).rejects.toMatchObject({
      code: ErrorCode.TIMEOUT,
    });
  });

  it('drain at a deadline fails open async sends with TIMEOUT, spools them, and drops oneway ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'drain-spool-'));
    try {
      const producer = producerFor({ sendTimeoutMs: 5000, spool: { dir } });
      await producer.send({ topic: 'orders', body: 'warm-up' });
      fixture.broker.faults.delayMs = 3000;
      const failures: SendFailure[] = [];
      const successes: SendResult[] = [];
      for (let i = 0; i < 5; i++) {
        producer.sendAsync(
          { topic: 'orders', keys: [`late${i}`], body: 'slow' },
          { onSuccess: (r) => successes.push(r), onException: (f) => failures.push(f) },
        );
      }
      for (let i = 0; i < 3; i++) producer.sendOneway({ topic: 'logs', body: 'slow' });
      const started = Date.now();
      const result = await producer.drain({ timeoutMs: 200 });
      expect(Date.now() - started).toBeLessThan(1000);
      expect(result).toEqual({ settled: 0, expiredAsync: 5, droppedOneway: 3, notPersisted: 0 });
      expect(successes).toEqual([]);
      expect(failures).toHaveLength(5);
      expect(failures.every((f) => f.exception.code === ErrorCode.TIMEOUT && f.spooled)).toBe(true);
      expect(producer.stats()).toMatchObject({ inFlight: 0, oneway: { dropped: 3 }, async: { spooled: 5 } });
      // Durable when the drain returned, in one group commit.
      expect((await readdir(dir)).filter((f) => f.endsWith('.partial'))).toEqual([]);
      expect((await new FileSpool({ dir }).list()).map((r) => r.message.keys[0]).sort()).toEqual([
        'late0',
        'late1',
        'late2',
        'late3',
        'late4',
      ]);
      expect(failures.every((f) => f.exception.mayBeStored)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('exactly-once callbacks under load', () => {
  it('1,000 concurrent async sends with injected failures: one callback each', async () => {
    // A send timeout that a loaded machine cannot run out of: the only failures are the injected ones.
    const producer = producerFor({ retry: { maxAttempts: 1 }, sendTimeoutMs: 30_000 });
    await producer.send({ topic: 'orders', body: 'warm-up' });
    const storedBefore = fixture.broker.messages('orders').length;
    fixture.broker.faults.failNextSends(100, 50001);
    // Recorded, not asserted in the callbacks: the producer catches what a callback throws.
    const calls = new Map<number, string[]>();
    for (let i = 0; i < 1000; i++) {
      const record = (outcome: string) => calls.set(i, [...(calls.get(i) ?? []), outcome]);
      producer.sendAsync(
        { topic: 'orders', keys: [`k${i}`], body: `m${i}` },
        {
          onSuccess: () => record('ok'),
          onException: (failure) => record(failure.exception.code),
        },
      );
    }
    const drained = await producer.drain({ timeoutMs: 60_000 });
    expect(drained.expiredAsync).toBe(0);
    expect(calls.size).toBe(1000);
    expect([...calls.values()].filter((outcomes) => outcomes.length !== 1)).toEqual([]);
    const outcomes = [...calls.values()].map(([outcome]) => outcome);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(900);
    expect(outcomes.filter((o) => o !== 'ok')).toEqual(Array(100).fill(ErrorCode.BROKER_INTERNAL));
    expect(fixture.broker.messages('orders').length - storedBefore).toBe(900);
    expect(producer.stats().async).toMatchObject({ sent: 900, failed: 100 });
  }, 120_000);
});

describe('spool round trip', () => {
  it('failed async sends are spooled, then redelivered once the broker is back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spool-rt-'));
    try {
      const spool = new FileSpool({ dir });
      const producer = producerFor({ spool, sendTimeoutMs: 1000, retry: { maxAttempts: 1 } });
      await producer.send({ topic: 'orders', body: 'warm-up' });
      fixture.broker.faults.failNextSends(3, 50001);
      const failures: SendFailure[] = [];
      const successes: SendResult[] = [];
      for (let i = 0; i < 3; i++) {
        producer.sendAsync(
          { topic: 'orders', tag: 'Spooled', keys: [`SPOOL_${i}`], body: { i } },
          { onSuccess: (r) => successes.push(r), onException: (f) => failures.push(f) },
        );
      }
      await producer.drain();
      expect(successes).toEqual([]);
      expect(failures.map((f) => f.spooled)).toEqual([true, true, true]);
      await writeFile(join(dir, '000000000000000-corrupt.json'), 'not json');
      const report = await producer.redeliverSpool();
      expect(report).toEqual({ delivered: 3, failed: 0, rejected: 0, quarantined: 1, remaining: 0 });
      const stored = fixture.broker.messages('orders').filter((m) => m.tag === 'Spooled');
      expect(stored.map((m) => m.keys[0]).sort()).toEqual(['SPOOL_0', 'SPOOL_1', 'SPOOL_2']);
      expect(JSON.parse(stored[0]?.body.toString() ?? '')).toHaveProperty('i');
      expect(await spool.list()).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('connection faults', () => {
  it('recovers when every connection is dropped', async () => {
    const producer = producerFor();
    await producer.send({ topic: 'orders', body: 'before' });
    fixture.broker.faults.dropConnections();
    await expect(producer.send({ topic: 'orders', body: 'after drop' })).resolves.toMatchObject({
      topic: 'orders',
    });
  });

  it('recovers across a broker restart on the same port', async () => {
    const producer = producerFor({ retry: { baseDelayMs: 50 } });
    await producer.send({ topic: 'orders', body: 'before restart' });
    await fixture.broker.restart();
    await expect(producer.send({ topic: 'orders', body: 'after restart' })).resolves.toMatchObject({
      topic: 'orders',
    });
  });

  it('a connection that went silent while the instance was frozen is replaced within one send', async () => {
    const producer = producerFor({ sendTimeoutMs: 2000 });
    await producer.send({ topic: 'orders', body: 'before freeze' });
    // No pause: the last answer and the next attempts fall in the same millisecond, which must not
    // pass for a sign of life.
    fixture.broker.faults.freezeConnections();
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        producer.send({ topic: 'orders', keys: [`thawed-${i}`], body: 'x' }),
      ),
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(results.map((r) => r.attempts)).toEqual([2, 2, 2, 2]);
    expect(producer.stats().clientResets).toBe(1);
    for (const result of results) {
      expect(fixture.broker.messages('orders').some((m) => m.messageId === result.messageId)).toBe(true);
    }
  });

  it('replaces a client whose channel went silent and fails no later than the deadline', async () => {
    const producer = producerFor({ sendTimeoutMs: 800 });
    await producer.send({ topic: 'orders', body: 'before freeze' });
    fixture.broker.faults.blackhole(true);
    const started = Date.now();
    await expect(producer.send({ topic: 'orders', body: 'frozen' })).rejects.toMatchObject({
      code: ErrorCode.TIMEOUT,
    });
    expect(Date.now() - started).toBeLessThan(1200);
    expect(producer.stats().clientResets).toBeGreaterThanOrEqual(1);
    fixture.broker.faults.blackhole(false);
    await expect(producer.send({ topic: 'orders', body: 'thawed' })).resolves.toMatchObject({
      topic: 'orders',
    });
  });
});
