import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalBroker, type StoredMessage, startLocalBroker } from '../../infra/local-broker/index.js';
import {
  type Message,
  type Producer,
  type ProducerOptions,
  RocketMQError,
  type SendResult,
} from '../../lib/index.js';
import { createProducer } from '../../lib/producer/shared.js';

/**
 * The same send scenarios through both transports, on the embedded broker: what the caller sees (result
 * or error) and what the broker stored must not depend on the transport.
 */

const TRANSPORTS = ['official', 'lean'] as const;
type Choice = (typeof TRANSPORTS)[number];

let broker: LocalBroker;
let signed: LocalBroker;
let small: LocalBroker;
const producers: Producer[] = [];

beforeAll(async () => {
  [broker, signed, small] = await Promise.all([
    startLocalBroker(),
    startLocalBroker({ credentials: { AK: 'SK' } }),
    startLocalBroker({ maxBodySize: 1024 }),
  ]);
});

afterEach(async () => {
  for (const each of [broker, signed, small]) each.faults.reset();
  await Promise.all(producers.splice(0).map((producer) => producer.shutdown({ timeoutMs: 5000 })));
});

afterAll(async () => {
  await Promise.all([broker.stop(), signed.stop(), small.stop()]);
});

function producerFor(transport: Choice, options: ProducerOptions = {}): Producer {
  const producer = createProducer({ endpoints: broker.endpoint, transport, ...options });
  producers.push(producer);
  return producer;
}

/** A result with what differs per message (ids, offsets) replaced by its form. */
function resultShape(result: SendResult) {
  return {
    keys: Object.keys(result).sort(),
    messageId: /^[0-9A-F]{34}$/.test(result.messageId) ? 'hex id' : result.messageId,
    topic: result.topic,
    offset: typeof result.offset,
    attempts: result.attempts,
  };
}

function errorShape(error: unknown) {
  expect(error).toBeInstanceOf(RocketMQError);
  const failure = error as RocketMQError;
  return {
    name: failure.name,
    code: failure.code,
    status: failure.status,
    retryable: failure.retryable,
    attempts: failure.attempts,
    topic: failure.topic,
    message: failure.message,
    mayBeStored: (failure as { mayBeStored?: unknown }).mayBeStored,
    requestWritten: (failure.cause as { requestWritten?: unknown } | undefined)?.requestWritten,
  };
}

function storedShape(stored: StoredMessage | undefined) {
  if (!stored) return undefined;
  return {
    topic: stored.topic,
    type: stored.type,
    tag: stored.tag,
    keys: stored.keys,
    properties: stored.properties,
    body: stored.body.toString('utf8'),
    messageGroup: stored.messageGroup,
    deliveryTimestamp: stored.deliveryTimestamp,
  };
}

/** Runs `scenario` once per transport and returns both outcomes, official first. */
async function both<T>(scenario: (transport: Choice) => Promise<T>): Promise<[T, T]> {
  const official = await scenario('official');
  const lean = await scenario('lean');
  return [official, lean];
}

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('the send succeeded');
    },
    (error: unknown) => error,
  );

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('both transports give the same answer', () => {
  it.each<[string, Message]>([
    [
      'normal',
      { topic: 'orders', tag: 'created', keys: ['k1', 'k2'], properties: { region: 'eu' }, body: 'n' },
    ],
    ['fifo', { topic: 'fifo-topic', messageGroup: 'customer-7', keys: ['f'], body: 'f' }],
    ['delay', { topic: 'delay-topic', deliveryTimestamp: Date.now() + 60_000, body: 'd' }],
  ])('sync send, %s message: same result and the same stored message', async (_kind, message) => {
    const outcomes = await both(async (transport) => {
      const result = await producerFor(transport).send(message);
      const stored = broker.messages(message.topic).find((each) => each.messageId === result.messageId);
      return { result: resultShape(result), stored: storedShape(stored) };
    });
    expect(outcomes[0].stored).toBeDefined();
    expect(outcomes[1]).toEqual(outcomes[0]);
    expect(outcomes[0].result).toMatchObject({ messageId: 'hex id', attempts: 1, offset: 'number' });
  });

  it('unknown topic: TOPIC_NOT_FOUND 40402, one attempt', async () => {
    const [official, lean] = await both(async (transport) =>
      errorShape(await failureOf(producerFor(transport).send({ topic: 'no-such-topic', body: 'x' }))),
    );
    expect(official).toMatchObject({ code: 'TOPIC_NOT_FOUND', status: 40402, attempts: 1, retryable: false });
    expect(lean).toEqual(official);
  });

  it('bad credentials: UNAUTHORIZED 40100, one attempt', async () => {
    const [official, lean] = await both(async (transport) =>
      errorShape(
        await failureOf(
          producerFor(transport, {
            endpoints: signed.endpoint,
            credentials: { accessKeyId: 'AK', accessKeySecret: 'wrong' },
          }).send({ topic: 'orders', body: 'x' }),
        ),
      ),
    );
    expect(official).toMatchObject({
      code: 'UNAUTHORIZED',
      status: 40100,
      attempts: 1,
      requestWritten: true,
    });
    expect(lean).toEqual(official);
  });

  it('message type the topic does not accept: MESSAGE_TYPE_MISMATCH, refused before sending', async () => {
    const [official, lean] = await both(async (transport) => {
      const producer = producerFor(transport);
      await producer.send({ topic: 'orders', body: 'warm-up' });
      const before = broker.stats().sendMessageCalls;
      const error = errorShape(await failureOf(producer.send({ topic: 'fifo-topic', body: 'no group' })));
      return { error, sendCalls: broker.stats().sendMessageCalls - before };
    });
    expect(official).toMatchObject({
      error: { code: 'MESSAGE_TYPE_MISMATCH', status: undefined, attempts: 1, requestWritten: false },
      sendCalls: 0,
    });
    expect(lean).toEqual(official);
  });

  it('body over the broker limit: MESSAGE_TOO_LARGE, not retried', async () => {
    const [official, lean] = await both(async (transport) => {
      const producer = producerFor(transport, { endpoints: small.endpoint });
      await producer.send({ topic: 'orders', body: 'warm-up' });
      const error = errorShape(await failureOf(producer.send({ topic: 'orders', body: 'x'.repeat(2048) })));
      // The official client checks the limit itself once the broker's settings have arrived (no
      // status), before that the broker answers 41301; the lean transport always leaves it to the broker.
      return { code: error.code, retryable: error.retryable, attempts: error.attempts };
    });
    expect(official).toEqual({ code: 'MESSAGE_TOO_LARGE', retryable: false, attempts: 1 });
    expect(lean).toEqual(official);
    expect(small.messages('orders').every((stored) => stored.body.length < 1024)).toBe(true);
  });

  it('body over the producer limit: MESSAGE_TOO_LARGE before any I/O', async () => {
    const [official, lean] = await both(async (transport) =>
      errorShape(
        await failureOf(
          producerFor(transport, { maxBodyBytes: 100 }).send({ topic: 'orders', body: 'x'.repeat(101) }),
        ),
      ),
    );
    expect(official).toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    expect(lean).toEqual(official);
  });

  it('broker down: UNAVAILABLE, retryable, and the request was never written', async () => {
    const port = await closedPort();
    const [official, lean] = await both(async (transport) => {
      const error = errorShape(
        await failureOf(
          producerFor(transport, {
            endpoints: `127.0.0.1:${port}`,
            sendTimeoutMs: 2000,
            retry: { maxAttempts: 1 },
          }).send({ topic: 'orders', body: 'x' }),
        ),
      );
      return {
        code: error.code,
        retryable: error.retryable,
        attempts: error.attempts,
        written: error.requestWritten,
      };
    });
    expect(official).toEqual({ code: 'UNAVAILABLE', retryable: true, attempts: 1, written: false });
    expect(lean).toEqual(official);
  });

  it('broker status 50001 then OK: retried, the same attempts', async () => {
    const [official, lean] = await both(async (transport) => {
      const producer = producerFor(transport, { retry: { baseDelayMs: 5 } });
      await producer.send({ topic: 'orders', body: 'warm-up' });
      broker.faults.failNextSends(2, 50001);
      return resultShape(await producer.send({ topic: 'orders', body: 'x' }));
    });
    expect(official.attempts).toBe(3);
    expect(lean).toEqual(official);
  });

  it('frozen connection without an idle gap: the send succeeds on a fresh connection after one reset', async () => {
    const [official, lean] = await both(async (transport) => {
      const producer = producerFor(transport, { sendTimeoutMs: 3000 });
      await producer.send({ topic: 'orders', body: 'before' });
      broker.faults.freezeConnections();
      const result = resultShape(await producer.send({ topic: 'orders', body: 'after' }));
      broker.faults.reset();
      return { result, resets: producer.stats().clientResets };
    });
    expect(official).toEqual({ result: expect.objectContaining({ attempts: 2 }), resets: 1 });
    expect(lean).toEqual(official);
  });

  it('a broker slower than one attempt slice: the first attempt is still answered after the reset', async () => {
    const [official, lean] = await both(async (transport) => {
      const producer = producerFor(transport, { sendTimeoutMs: 3000 });
      await producer.send({ topic: 'orders', body: 'warm-up' });
      broker.faults.delayMs = 1700;
      const result = await producer.send({ topic: 'orders', keys: [`slow-${transport}`], body: 'x' });
      broker.faults.reset();
      const stored = broker.messages('orders').filter((each) => each.keys[0] === `slow-${transport}`);
      return {
        result: resultShape(result),
        // The second attempt may still reach the broker later, and store a duplicate: at least once.
        stored: stored.some((each) => each.messageId === result.messageId),
      };
    });
    expect(official).toMatchObject({ stored: true, result: { attempts: 2 } });
    expect(lean).toEqual(official);
  });

  it('send after shutdown: PRODUCER_CLOSED', async () => {
    const [official, lean] = await both(async (transport) => {
      const producer = producerFor(transport);
      await producer.send({ topic: 'orders', body: 'x' });
      await producer.shutdown();
      const error = errorShape(await failureOf(producer.send({ topic: 'orders', body: 'y' })));
      return { code: error.code, retryable: error.retryable };
    });
    expect(official).toEqual({ code: 'PRODUCER_CLOSED', retryable: false });
    expect(lean).toEqual(official);
  });
});
