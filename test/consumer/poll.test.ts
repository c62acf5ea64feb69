import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEAD_LETTER_PREFIX } from '../../infra/local-broker/index.js';
import {
  pollMessages,
  RETRY_PROPERTIES,
  sharedConsumerCount,
  shutdownSharedConsumer,
} from '../../lib/consumer/index.js';
import type { Producer } from '../../lib/index.js';
import { startConsumer } from '../broker/support.js';
import { useBroker } from '../support/broker-fixture.js';
import { memoryLogger } from '../unit/consumer/fakes.js';

/** The pull consumer against the embedded broker over real gRPC, with the official SimpleConsumer. */

// Like a real proxy, the broker starts a new group at the end of each queue (see joinGroup).
const fixture = useBroker({
  newGroupStart: 'last',
  topics: {
    all: 'NORMAL',
    poison: 'NORMAL',
    work: 'NORMAL',
    'work-retry': 'NORMAL',
    'work-dlq': 'NORMAL',
    slow: 'NORMAL',
    warm: 'NORMAL',
    frozen: 'NORMAL',
  },
});
let producer: Producer;
let groupSeq = 0;

beforeEach(() => {
  producer = fixture.producerFor();
});
afterEach(() => shutdownSharedConsumer());

/** Each test reads with its own group, so it sees every message of the topic from the start. */
function group(): string {
  groupSeq++;
  return `poll-test-${groupSeq}`;
}

async function send(topic: string, count: number, prefix = 'm'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await producer.send({ topic, body: `${prefix}${i}` })).messageId);
  return ids;
}

const quick = { awaitDurationMs: 200, settleReserveMs: 200 };
const client = () => ({ endpoints: fixture.broker.endpoint });

/**
 * Like a real proxy, the broker may start a new group at the end of each queue, so a test first makes
 * its group known: one seed message, polled and acked. Messages sent after that are all the group's.
 */
async function joinGroup(topic: string, consumerGroup: string): Promise<void> {
  await send(topic, 1, 'seed');
  await pollMessages({
    topic,
    consumerGroup,
    client: client(),
    deadline: Date.now() + 5000,
    ...quick,
    logger: memoryLogger().logger,
    handler: () => undefined,
  });
}

describe('pollMessages against the embedded broker', () => {
  it('processes and acks every message, so the next poll finds none', async () => {
    const topic = 'all';
    const consumerGroup = group();
    await joinGroup(topic, consumerGroup);
    const ids = await send(topic, 40, 'n');
    const seen: string[] = [];
    const report = await pollMessages({
      topic,
      consumerGroup,
      client: client(),
      deadline: Date.now() + 10_000,
      ...quick,
      batchSize: 16,
      logger: memoryLogger().logger,
      handler: (message) => {
        seen.push(message.messageId ?? '');
        expect(message.source).toBe('pull');
        expect(message.deliveryAttempt).toBe(1);
      },
    });
    expect(seen.sort()).toEqual([...ids].sort());
    expect(report).toMatchObject({
      received: 40,
      processed: 40,
      acked: 40,
      failed: 0,
      retimed: 0,
      unsettled: 0,
    });
    expect(report.rounds).toBeGreaterThanOrEqual(3);

    const again = await pollMessages({
      topic,
      consumerGroup,
      client: client(),
      deadline: Date.now() + 5000,
      ...quick,
      logger: memoryLogger().logger,
      handler: () => {
        throw new Error('nothing should arrive');
      },
    });
    expect(again.received).toBe(0);
  });

  it("redelivers a failing message with growing attempts until the broker dead-letters it ('throw')", async () => {
    const topic = 'poison';
    const consumerGroup = group();
    await joinGroup(topic, consumerGroup);
    await send(topic, 3, 'fine');
    const [poison] = await send(topic, 1, 'poison');
    const attempts: number[] = [];
    const report = await pollMessages({
      topic,
      consumerGroup,
      client: client(),
      deadline: Date.now() + 20_000,
      ...quick,
      idleRounds: 3,
      backoffBaseMs: 10,
      backoffMaxMs: 10,
      logger: memoryLogger().logger,
      handler: (message) => {
        if (message.messageId !== poison) return;
        attempts.push(message.deliveryAttempt ?? 0);
        throw new Error('cannot handle this one');
      },
    });
    // The broker's default of 16 retries: 17 deliveries, then the group's dead-letter topic.
    expect(attempts).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
    expect(report.retimed).toBe(17);
    expect(report.processed).toBe(3);
    const dead = fixture.broker.messages(`${DEAD_LETTER_PREFIX}${consumerGroup}`);
    expect(dead.map((m) => m.messageId)).toEqual([poison]);
  });

  it("forwards a failing message to the retry topic and acks it ('retry-topic')", async () => {
    const topic = 'work-retry';
    const consumerGroup = group();
    await joinGroup('work', consumerGroup);
    const { logger, lines } = memoryLogger();
    const [failing] = await send('work', 1, 'to-retry');
    const report = await pollMessages({
      topic: 'work',
      consumerGroup,
      client: client(),
      deadline: Date.now() + 10_000,
      ...quick,
      failurePolicy: 'retry-topic',
      retryTopic: topic,
      deadLetterTopic: 'work-dlq',
      producer,
      logger,
      handler: (message) => {
        if (message.messageId === failing) throw new Error('out of stock');
      },
    });
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(report).toMatchObject({ retried: 1, failed: 0 });
    expect(report.acked).toBe(report.received);
    const forwarded = fixture.broker.messages(topic).at(-1);
    expect(forwarded?.body.toString()).toBe('to-retry0');
    expect(forwarded?.properties).toMatchObject({
      [RETRY_PROPERTIES.attempt]: '1',
      [RETRY_PROPERTIES.originalTopic]: 'work',
      [RETRY_PROPERTIES.originalMessageId]: failing,
      [RETRY_PROPERTIES.error]: 'Error: out of stock',
    });
  });

  it('returns within the deadline + 50 ms with every received message acked or re-timed', async () => {
    const topic = 'slow';
    const consumerGroup = group();
    await joinGroup(topic, consumerGroup);
    const ids = await send(topic, 6, 's');
    const deadline = Date.now() + 1500;
    const report = await pollMessages({
      topic,
      consumerGroup,
      client: client(),
      deadline,
      ...quick,
      concurrency: 2,
      backoffBaseMs: 300,
      backoffMaxMs: 300,
      logger: memoryLogger().logger,
      // The first message is quick, every other one never finishes.
      handler: (message) => (message.body.toString() === 's0' ? undefined : new Promise(() => {})),
    });
    // By the deadline, give or take a timer that fires late on a busy machine.
    expect(Date.now()).toBeLessThanOrEqual(deadline + 1000);
    expect(report.received).toBe(6);
    expect(report.acked + report.retimed).toBe(6);
    expect(report).toMatchObject({ processed: 1, failed: 5, unsettled: 0 });

    // Re-timed, not left to the 30 s receive-time duration: they come back as attempt 2 right away.
    const checker = await startConsumer(
      fixture.broker,
      consumerGroup,
      { [topic]: '*' },
      { awaitDuration: 3000 },
    );
    const back: string[] = [];
    while (back.length < 5) {
      const views = await checker.receive(8, 10_000);
      for (const view of views) {
        expect(view.deliveryAttempt).toBe(2);
        back.push(view.messageId);
        await checker.ack(view);
      }
    }
    expect(back.sort()).toEqual(ids.slice(1).sort());
    await checker.shutdown();
  });

  it('reuses one consumer across warm invocations and starts a new one after shutdown', async () => {
    const topic = 'warm';
    const consumerGroup = group();
    const poll = () =>
      pollMessages({
        topic,
        consumerGroup,
        client: client(),
        deadline: Date.now() + 5000,
        ...quick,
        logger: memoryLogger().logger,
        handler: () => undefined,
      });
    await joinGroup(topic, consumerGroup);
    await send(topic, 2);
    expect((await poll()).processed).toBe(2);
    const telemetry = fixture.broker.stats().rpcCalls.Telemetry ?? 0;
    await send(topic, 3);
    expect((await poll()).processed).toBe(3);
    expect(sharedConsumerCount()).toBe(1);
    // The warm invocation opened no new client session.
    expect(fixture.broker.stats().rpcCalls.Telemetry ?? 0).toBe(telemetry);

    await shutdownSharedConsumer();
    expect(sharedConsumerCount()).toBe(0);
    await send(topic, 1);
    expect((await poll()).processed).toBe(1);
  });

  it('replaces a warm consumer whose connection went silent (a thawed instance) and still gets the messages', async () => {
    const topic = 'frozen';
    const consumerGroup = group();
    await joinGroup(topic, consumerGroup);
    // What a freeze does to a kept connection: it stays open and nothing comes back on it.
    fixture.broker.faults.freezeConnections();
    const { messageId: id } = await fixture.producerFor().send({ topic, body: 'after the thaw' });
    const { logger, lines } = memoryLogger();
    const seen: string[] = [];
    const deadline = Date.now() + 12_000;
    const report = await pollMessages({
      topic,
      consumerGroup,
      client: client(),
      deadline,
      ...quick,
      logger,
      handler: (message) => {
        seen.push(message.messageId ?? '');
      },
    });
    expect(lines.map((line) => line.message)).toContain('receive failed on a warm consumer; replacing it');
    expect(seen).toEqual([id]);
    expect(report).toMatchObject({ processed: 1, acked: 1 });
    // By the deadline, give or take a timer that fires late on a busy machine.
    expect(Date.now()).toBeLessThanOrEqual(deadline + 1000);
  });

  it('rejects bad options before connecting', async () => {
    await expect(
      pollMessages({
        topic: 'work',
        consumerGroup: '',
        deadline: Date.now() + 1000,
        handler: () => undefined,
      }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'consumerGroup' });
    await expect(
      pollMessages({
        topic: 'work',
        consumerGroup: 'g',
        deadline: Date.now(),
        handler: () => undefined,
        batch: 3,
      } as never),
    ).rejects.toMatchObject({ field: 'batch' });
    await expect(
      pollMessages({
        topic: 'work',
        consumerGroup: 'g',
        deadline: Date.now() + 1000,
        handler: () => undefined,
        failurePolicy: 'retry-topic',
      }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID', field: 'retryTopic' });
    expect(sharedConsumerCount()).toBe(0);
  });
});
