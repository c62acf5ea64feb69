import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchFailedError } from '../../../lib/consumer/errors.js';
import { processMessages, RETRY_PROPERTIES } from '../../../lib/consumer/processor.js';
import { consumerStats } from '../../../lib/consumer/stats.js';
import { ErrorCode, RocketMQError } from '../../../lib/errors.js';
import { currentTraceparent } from '../../../lib/trace-context.js';
import { fakeProducer, memoryLogger, received } from './fakes.js';

const soon = () => Date.now() + 10_000;

afterEach(() => {
  vi.useRealTimers();
});

function messages(count: number, extra: (i: number) => Parameters<typeof received>[0] = () => ({})) {
  return Array.from({ length: count }, (_, i) =>
    received({ messageId: `id-${i}`, body: `m${i}`, ...extra(i) }),
  );
}

async function rejection(promise: Promise<unknown>): Promise<BatchFailedError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BatchFailedError);
    return error as BatchFailedError;
  }
  throw new Error('expected processMessages to throw');
}

describe('processMessages: order and concurrency', () => {
  it('runs one after another in batch order by default', async () => {
    const order: string[] = [];
    let active = 0;
    let maxActive = 0;
    const report = await processMessages(
      messages(5),
      async (message) => {
        active++;
        maxActive = Math.max(maxActive, active);
        order.push(message.text());
        await new Promise((resolve) => setImmediate(resolve));
        active--;
        return message.text().toUpperCase();
      },
      { deadline: soon(), logger: memoryLogger().logger },
    );
    expect(order).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(maxActive).toBe(1);
    expect(report.outcomes.map((o) => [o.status, o.result])).toEqual(
      ['M0', 'M1', 'M2', 'M3', 'M4'].map((r) => ['processed', r]),
    );
    expect(report.processed).toBe(5);
  });

  it('runs up to `concurrency` at once, but one message group in order', async () => {
    const log: string[] = [];
    let active = 0;
    let maxActive = 0;
    const groups = ['a', 'a', 'b', 'a', 'c', 'b'];
    await processMessages(
      messages(6, (i) => ({ messageGroup: groups[i] })),
      async (message) => {
        active++;
        maxActive = Math.max(maxActive, active);
        log.push(`start ${message.text()}`);
        for (let tick = 0; tick < 3; tick++) await new Promise((resolve) => setImmediate(resolve));
        log.push(`end ${message.text()}`);
        active--;
      },
      { deadline: soon(), concurrency: 3, logger: memoryLogger().logger },
    );
    expect(maxActive).toBe(3);
    // Within a group, each message starts only after the one before it ended.
    for (const [before, after] of [
      ['m0', 'm1'],
      ['m1', 'm3'],
      ['m2', 'm5'],
    ]) {
      expect(log.indexOf(`start ${after}`)).toBeGreaterThan(log.indexOf(`end ${before}`));
    }
    // Messages of other groups do not wait: m2 (group b) starts before m0 (group a) ends.
    expect(log.indexOf('start m2')).toBeLessThan(log.indexOf('end m0'));
  });

  it('runs a message id seen earlier in the batch once', async () => {
    let calls = 0;
    const batch = [...messages(2), received({ messageId: 'id-0', body: 'again' })];
    const report = await processMessages(
      batch,
      () => {
        calls++;
      },
      { deadline: soon(), logger: memoryLogger().logger },
    );
    expect(calls).toBe(2);
    expect(report.outcomes.map((o) => o.status)).toEqual(['processed', 'processed', 'duplicate']);
    expect(report.duplicates).toBe(1);
  });

  it('continues the trace of each message inside its handler', async () => {
    const seen: Array<string | undefined> = [];
    const traced = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await processMessages(
      [received({ messageId: 'a', traceparent: traced }), received({ messageId: 'b' })],
      () => {
        seen.push(currentTraceparent());
      },
      { deadline: soon(), logger: memoryLogger().logger },
    );
    expect(seen).toEqual([traced, undefined]);
  });
});

describe("processMessages: failurePolicy 'throw'", () => {
  it('throws after the batch with every outcome, the first failure as cause and its code', async () => {
    const { logger, lines } = memoryLogger();
    const failure = new RocketMQError(ErrorCode.BAD_REQUEST, 'stock service said no');
    const ran: string[] = [];
    const error = await rejection(
      processMessages(
        messages(3),
        (message) => {
          ran.push(message.text());
          if (message.text() === 'm1') throw failure;
        },
        { deadline: soon(), logger },
      ),
    );
    expect(ran).toEqual(['m0', 'm1', 'm2']);
    expect(error.code).toBe(ErrorCode.BAD_REQUEST);
    expect(error.cause).toBe(failure);
    expect(error.report.outcomes.map((o) => o.status)).toEqual(['processed', 'failed', 'processed']);
    expect(lines.filter((line) => line.level === 'warn').map((line) => line.messageId)).toEqual(['id-1']);
    expect(lines.at(-1)).toMatchObject({ message: 'batch processed', processed: 2, failed: 1 });
  });

  it('does not run the rest of a message group after a failure', async () => {
    const ran: string[] = [];
    const error = await rejection(
      processMessages(
        messages(4, (i) => ({ messageGroup: i < 3 ? 'g' : undefined })),
        (message) => {
          ran.push(message.text());
          if (message.text() === 'm0') throw new Error('first of the group fails');
        },
        { deadline: soon(), logger: memoryLogger().logger },
      ),
    );
    expect(ran).toEqual(['m0', 'm3']);
    expect(error.report.outcomes.map((o) => o.status)).toEqual(['failed', 'failed', 'failed', 'processed']);
  });

  it('keeps the deadline: a hanging handler is abandoned with TIMEOUT and aborted, later ones never start', async () => {
    vi.useFakeTimers();
    let aborted = false;
    const ran: string[] = [];
    const outcome = rejection(
      processMessages(
        messages(3),
        (message, { signal }) => {
          ran.push(message.text());
          signal.addEventListener('abort', () => {
            aborted = true;
          });
          return new Promise(() => {});
        },
        { deadline: Date.now() + 200, logger: memoryLogger().logger },
      ),
    );
    await vi.advanceTimersByTimeAsync(199);
    expect(aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await outcome;
    expect(ran).toEqual(['m0']);
    expect(aborted).toBe(true);
    expect(error.report.outcomes.map((o) => (o.error as RocketMQError).code)).toEqual([
      ErrorCode.TIMEOUT,
      ErrorCode.TIMEOUT,
      ErrorCode.TIMEOUT,
    ]);
  });
});

describe("processMessages: failurePolicy 'retry-topic'", () => {
  const options = (producer: ReturnType<typeof fakeProducer>['producer']) => ({
    deadline: soon(),
    failurePolicy: 'retry-topic' as const,
    retryTopic: 'orders-retry',
    deadLetterTopic: 'orders-dlq',
    maxAttempts: 3,
    producer,
    logger: memoryLogger().logger,
  });

  it('sends a failed message to the retry topic with its attempt and error, and succeeds', async () => {
    const { producer, sent } = fakeProducer();
    const message = received({
      messageId: 'id-7',
      tag: 'OrderCreated',
      keys: ['ORDERID_7'],
      body: '{"orderId":"7"}',
      userProperties: Object.assign(Object.create(null), { 'content-type': 'application/json' }),
    });
    const report = await processMessages(
      [message, ...messages(1)],
      (m) => {
        if (m.messageId === 'id-7') throw new RocketMQError(ErrorCode.BAD_REQUEST, 'out of stock');
      },
      options(producer),
    );
    expect(report).toMatchObject({ processed: 1, retried: 1, failed: 0, deadLettered: 0 });
    expect(report.outcomes[0]?.forwardedTo).toEqual({ topic: 'orders-retry', messageId: 'fake-1' });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ topic: 'orders-retry', tag: 'OrderCreated', keys: ['ORDERID_7'] });
    expect(Buffer.from(sent[0]?.body as Uint8Array).toString()).toBe('{"orderId":"7"}');
    expect(sent[0]?.properties).toEqual({
      'content-type': 'application/json',
      [RETRY_PROPERTIES.attempt]: '1',
      [RETRY_PROPERTIES.error]: 'RocketMQError: out of stock',
      [RETRY_PROPERTIES.errorCode]: ErrorCode.BAD_REQUEST,
      [RETRY_PROPERTIES.originalTopic]: 'orders',
      [RETRY_PROPERTIES.originalMessageId]: 'id-7',
    });
  });

  it('counts attempts through the retry topic and dead-letters at maxAttempts', async () => {
    const { producer, sent } = fakeProducer();
    let attemptSeen = 0;
    const second = received({
      topic: 'orders-retry',
      messageId: 'retry-1',
      userProperties: Object.assign(Object.create(null), {
        [RETRY_PROPERTIES.attempt]: '2',
        [RETRY_PROPERTIES.originalTopic]: 'orders',
        [RETRY_PROPERTIES.originalMessageId]: 'id-7',
      }),
    });
    const report = await processMessages(
      [second],
      (_m, { attempt }) => {
        attemptSeen = attempt;
        throw new Error('still out of stock');
      },
      options(producer),
    );
    expect(attemptSeen).toBe(3);
    expect(report).toMatchObject({ deadLettered: 1, retried: 0, failed: 0 });
    expect(sent[0]?.topic).toBe('orders-dlq');
    expect(sent[0]?.properties).toMatchObject({
      [RETRY_PROPERTIES.attempt]: '3',
      [RETRY_PROPERTIES.originalTopic]: 'orders',
      [RETRY_PROPERTIES.originalMessageId]: 'id-7',
      [RETRY_PROPERTIES.error]: 'Error: still out of stock',
    });
    expect(sent[0]?.properties?.[RETRY_PROPERTIES.errorCode]).toBeUndefined();
  });

  it('throws when a failed message cannot be forwarded, so the batch comes back', async () => {
    const { producer } = fakeProducer(['orders-retry']);
    const error = await rejection(
      processMessages(
        messages(2),
        (m) => {
          if (m.messageId === 'id-1') throw new Error('boom');
        },
        options(producer),
      ),
    );
    expect(error.code).toBe(ErrorCode.UNAVAILABLE);
    expect(error.report).toMatchObject({ processed: 1, failed: 1, retried: 0 });
  });

  it('forwards messages the deadline left unstarted without using up an attempt', async () => {
    vi.useFakeTimers();
    const { producer, sent } = fakeProducer();
    const processing = processMessages(
      messages(2),
      () => new Promise((resolve) => setTimeout(resolve, 400)),
      { ...options(producer), deadline: Date.now() + 400, reserveMs: 200 },
    );
    await vi.advanceTimersByTimeAsync(400);
    const report = await processing;
    expect(report.outcomes.map((o) => o.status)).toEqual(['retried', 'retried']);
    expect(sent.map((m) => m.properties?.[RETRY_PROPERTIES.attempt])).toEqual(['1', '0']);
  });

  it('rejects options that cannot work before running anything', async () => {
    let ran = false;
    const handler = () => {
      ran = true;
    };
    await expect(
      processMessages(messages(1), handler, { deadline: soon(), failurePolicy: 'retry-topic' }),
    ).rejects.toMatchObject({
      code: ErrorCode.CONFIG_INVALID,
      field: 'retryTopic',
    });
    await expect(processMessages(messages(1), handler, {} as never)).rejects.toMatchObject({
      field: 'deadline',
    });
    await expect(
      processMessages(messages(1), handler, { deadline: soon(), concurency: 2 } as never),
    ).rejects.toMatchObject({ field: 'concurency' });
    expect(ran).toBe(false);
  });
});

describe('consumer stats', () => {
  it('counts the outcomes of every batch', async () => {
    const before = consumerStats();
    await processMessages(messages(2), () => undefined, { deadline: soon(), logger: memoryLogger().logger });
    const after = consumerStats();
    expect(after.batches - before.batches).toBe(1);
    expect(after.processed - before.processed).toBe(2);
  });
});
