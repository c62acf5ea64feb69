import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { useBroker } from '../support/broker-fixture.js';
import {
  failureCode,
  message,
  receiveAll,
  shutDownClientsAfterEach,
  startConsumer,
  startProducer,
} from './support.js';

const fixture = useBroker();
shutDownClientsAfterEach();

describe('fault hooks', () => {
  it('delayMs holds back every unary response', async () => {
    const producer = await startProducer(fixture.broker, { topics: ['orders'] });
    fixture.broker.faults.delayMs = 300;
    const started = Date.now();
    await producer.send(message('orders', 'slow'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    fixture.broker.faults.delayMs = 0;
    const again = Date.now();
    await producer.send(message('orders', 'fast'));
    expect(Date.now() - again).toBeLessThan(290);
  });

  it('failNextSends answers the next sends with a status code, which the client retries', async () => {
    const producer = await startProducer(fixture.broker, { topics: ['orders'] });
    const before = fixture.broker.stats();
    fixture.broker.faults.failNextSends(2, 50001, 'disk full');
    const receipt = await producer.send(message('orders', 'third time lucky'));
    const after = fixture.broker.stats();
    expect(after.sendMessageCalls - before.sendMessageCalls).toBe(3);
    expect(after.rejectedSends - before.rejectedSends).toBe(2);
    expect(fixture.broker.messages('orders').at(-1)?.messageId).toBe(receipt.messageId);

    const once = await startProducer(fixture.broker, { maxAttempts: 1 });
    fixture.broker.faults.failNextSends(1, 42900);
    expect(await failureCode(once.send(message('orders', 'throttled')))).toBe(42900);
    fixture.broker.faults.failNextSends(1, 40100, 'no');
    expect(await failureCode(once.send(message('orders', 'refused')))).toBe(40100);
  });

  it('failNextSendsWithGrpc fails sends at the gRPC layer', async () => {
    const producer = await startProducer(fixture.broker, { maxAttempts: 1 });
    fixture.broker.faults.failNextSendsWithGrpc(1, 14);
    expect(await failureCode(producer.send(message('orders', 'x')))).toBe(14);
    await producer.send(message('orders', 'ok again'));
  });

  it('dropConnections closes every connection and clients reconnect', async () => {
    const producer = await startProducer(fixture.broker, { topics: ['orders'] });
    await producer.send(message('orders', 'before drop'));
    fixture.broker.faults.dropConnections();
    await producer.send(message('orders', 'after drop'));
    expect(fixture.broker.messages('orders').at(-1)?.body.toString()).toBe('after drop');
  });

  it('blackhole accepts calls but never answers them until it is turned off', async () => {
    const producer = await startProducer(fixture.broker, {
      topics: ['orders'],
      maxAttempts: 1,
      requestTimeout: 1000,
    });
    fixture.broker.faults.blackhole(true);
    expect(await failureCode(producer.send(message('orders', 'lost')))).toBe(4);
    fixture.broker.faults.blackhole(false);
    await producer.send(message('orders', 'answered'));
    expect(fixture.broker.messages('orders').map((stored) => stored.body.toString())).not.toContain('lost');
  });

  it('reset turns every fault off', async () => {
    const producer = await startProducer(fixture.broker, { maxAttempts: 1, requestTimeout: 1000 });
    fixture.broker.faults.delayMs = 5000;
    fixture.broker.faults.failNextSends(5, 50001);
    fixture.broker.faults.failNextSendsWithGrpc(5, 14);
    fixture.broker.faults.blackhole(true);
    fixture.broker.faults.reset();
    await producer.send(message('orders', 'unharmed'));
  });
});

describe('restart', () => {
  it('listens again on the same port, keeps the messages, and the same clients recover', async () => {
    const restarting = await fixture.startBroker({ newGroupStart: 'oldest' });
    const producer = await startProducer(restarting, { topics: ['orders'] });
    const consumer = await startConsumer(restarting, 'across-restart', { orders: '*' });
    for (let i = 0; i < 5; i++) await producer.send(message('orders', `before ${i}`));
    const port = restarting.port;

    let sending = true;
    const outcomes: boolean[] = [];
    const sender = (async () => {
      for (let i = 0; sending; i++) {
        outcomes.push(
          await producer.send(message('orders', `during ${i}`)).then(
            () => true,
            () => false,
          ),
        );
        await sleep(20);
      }
    })();
    await sleep(100);
    const telemetryStreams = restarting.stats().rpcCalls.Telemetry ?? 0;
    const idle = await startConsumer(
      restarting,
      'idle-across-restart',
      { logs: '*' },
      { awaitDuration: 10_000 },
    );
    const longPoll = idle.receive(1, 15_000);
    await vi.waitFor(() => expect(restarting.stats().rpcCalls.ReceiveMessage).toBe(1));
    await restarting.restart();
    expect(restarting.port).toBe(port);
    expect(await longPoll).toEqual([]);
    const deadline = Date.now() + 10_000;
    while (!outcomes.slice(-5).every(Boolean) || outcomes.length < 10) {
      if (Date.now() > deadline) throw new Error(`producer did not recover: ${outcomes.join(',')}`);
      await sleep(50);
    }
    sending = false;
    await sender;
    // Both clients saw their Telemetry stream end and opened a new one on the restarted broker.
    await vi.waitFor(
      () => expect(restarting.stats().rpcCalls.Telemetry).toBeGreaterThanOrEqual(telemetryStreams + 3),
      {
        timeout: 5000,
      },
    );

    const bodies = restarting.messages('orders').map((stored) => stored.body.toString());
    expect(bodies.slice(0, 5)).toEqual(['before 0', 'before 1', 'before 2', 'before 3', 'before 4']);
    expect(bodies.length - 5).toBe(outcomes.filter(Boolean).length);
    const received = await receiveAll(consumer, bodies.length);
    expect(received.map((view) => view.body.toString()).sort()).toEqual([...bodies].sort());
  });
});

describe('bounded storage', () => {
  it('evicts the oldest messages of a topic past maxMessagesPerTopic', async () => {
    const bounded = await fixture.startBroker({ maxMessagesPerTopic: 10, newGroupStart: 'oldest' });
    const producer = await startProducer(bounded, { topics: ['metrics'] });
    for (let i = 0; i < 25; i++) await producer.send(message('metrics', `m${i}`));
    const stored = bounded.messages('metrics');
    expect(stored.map((entry) => entry.body.toString())).toEqual(
      Array.from({ length: 10 }, (_, index) => `m${index + 15}`),
    );
    // Spread round robin over the 8 queues: message i is in queue i % 8 at offset ⌊i / 8⌋.
    const positions = Array.from({ length: 10 }, (_, index) => [
      (index + 15) % 8,
      Math.floor((index + 15) / 8),
    ]);
    expect(stored.map((entry) => [entry.queueId, entry.queueOffset])).toEqual(positions);
    expect(bounded.stats().storedMessages).toBe(25);
    const consumer = await startConsumer(bounded, 'late-reader', { metrics: '*' });
    expect((await receiveAll(consumer, 10)).map((view) => view.body.toString())).toEqual(
      Array.from({ length: 10 }, (_, index) => `m${index + 15}`),
    );
  });
});

describe('waitForMessages', () => {
  it('resolves once enough messages are stored and rejects on timeout', async () => {
    const producer = await startProducer(fixture.broker, { topics: ['logs'] });
    const waiting = fixture.broker.waitForMessages('logs', 3, 5000);
    for (let i = 0; i < 3; i++) await producer.send(message('logs', `w${i}`));
    expect((await waiting).map((stored) => stored.body.toString())).toEqual(['w0', 'w1', 'w2']);
    await expect(fixture.broker.waitForMessages('logs', 4, 100)).rejects.toThrow(
      'Timed out after 100 ms waiting for 4 messages in logs, 3 stored',
    );
  });

  it('rejects pending waits when the broker stops; stop is idempotent', async () => {
    const stopping = await fixture.startBroker();
    const waiting = stopping.waitForMessages('orders', 1, 10_000);
    await stopping.stop();
    await expect(waiting).rejects.toThrow('The local broker was stopped');
    await stopping.stop();
    await expect(stopping.restart()).rejects.toThrow(/stopped/);
  });
});
