import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, EventError, getLogger, RocketMQError } from '../../../lib/index.js';
import {
  requestRoutedLogger,
  runWithRequestLogger,
  serveHttp,
  serveInvocation,
  sharedProducer,
  startInvocation,
} from '../../../lib/platforms/core.js';
import { createInvocation, type Invocation } from '../../../lib/platforms/invocation.js';
import type { DrainResult, Producer } from '../../../lib/producer/producer.js';
import { shutdownSharedProducer } from '../../../lib/producer/shared.js';
import { currentTraceparent } from '../../../lib/trace-context.js';
import type { HttpRequest } from '../../../lib/triggers/index.js';
import { captureLogLines, fakeProducerOptions, fakeTransport } from './fakes.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const NO_DRAIN: DrainResult = { settled: 0, expiredAsync: 0, droppedOneway: 0, notPersisted: 0 };

/** A fake producer that only records its drains (the core never sends by itself). */
function fakeProducer(): Producer & { drains: number } {
  const fake = {
    drains: 0,
    drain: async () => {
      fake.drains += 1;
      return NO_DRAIN;
    },
  };
  return fake as unknown as Producer & { drains: number };
}

function fakeInvocation(producer: Producer = fakeProducer()): Invocation {
  return createInvocation({
    platform: 'fc',
    requestId: 'fake-request',
    functionName: 'fake-function',
    deadline: Date.now() + 1000,
    marginMs: 100,
    producer,
    logger: getLogger().createChild({ persistentKeys: { requestId: 'fake-request' } }),
  });
}

const request = (fields: Partial<HttpRequest> = {}): HttpRequest => ({
  method: 'POST',
  path: '/',
  headers: {},
  query: {},
  body: Buffer.from('{}'),
  platform: 'fc3',
  ...fields,
});

afterEach(async () => {
  await shutdownSharedProducer({ timeoutMs: 200 });
});

describe('serveHttp', () => {
  it("answers with the core's response, run under the request's traceparent", async () => {
    let seen: string | undefined;
    const response = await serveHttp(
      async () => {
        seen = currentTraceparent();
        return { statusCode: 201, headers: {}, body: 'made' };
      },
      () => request({ traceparent: TRACEPARENT }),
      fakeInvocation(),
    );
    expect(response).toMatchObject({ statusCode: 201, body: 'made' });
    expect(seen).toBe(TRACEPARENT);
  });

  it('turns a refused event into a 400 and does not log the caller’s mistake', async () => {
    const { result, records } = await captureLogLines(getLogger(), 'DEBUG', () =>
      serveHttp(
        async () => expect.unreachable('the core must not run for a refused event'),
        () => {
          throw new EventError(ErrorCode.EVENT_INVALID, 'not an HTTP event');
        },
        fakeInvocation(),
      ),
    );
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(String(result.body))).toMatchObject({ error: { code: ErrorCode.EVENT_INVALID } });
    expect(records.filter((record) => record.message === 'HTTP handler failed')).toEqual([]);
  });

  it('turns a broker failure into a 503 and logs it with the request id', async () => {
    const { result, records } = await captureLogLines(getLogger(), 'DEBUG', () =>
      serveHttp(
        async () => {
          throw new RocketMQError(ErrorCode.UNAVAILABLE, 'fake broker down');
        },
        () => request(),
        fakeInvocation(),
      ),
    );
    expect(result.statusCode).toBe(503);
    const logged = records.filter((record) => record.message === 'HTTP handler failed');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ requestId: 'fake-request' });
  });
});

describe('serveInvocation', () => {
  it('drains the invocation after its work, also when the work throws', async () => {
    const producer = fakeProducer();
    const start = () => fakeInvocation(producer);
    await expect(serveInvocation(start, async () => 'done')).resolves.toBe('done');
    expect(producer.drains).toBe(1);
    await expect(
      serveInvocation(start, async () => {
        throw new Error('fake failure');
      }),
    ).rejects.toThrow('fake failure');
    expect(producer.drains).toBe(2);
  });
});

describe('startInvocation', () => {
  it("gives the invocation a child logger with the request's keys and leaves the shared logger as it was", async () => {
    const shared = getLogger();
    const keysBefore = JSON.stringify(shared.getPersistentLogAttributes());
    const invocation = startInvocation({
      platform: 'fc',
      requestId: 'fake-request-1',
      functionName: 'fake-function',
      remainingMs: 5000,
      producer: fakeProducer(),
      logKeys: { requestId: 'fake-request-1' },
    });
    expect(invocation.logger).not.toBe(shared);
    expect(invocation.logger.getPersistentLogAttributes()).toMatchObject({ requestId: 'fake-request-1' });
    expect(JSON.stringify(shared.getPersistentLogAttributes())).toBe(keysBefore);
    // 5 s left: a margin of 500 ms is kept back.
    expect(invocation.marginMs).toBe(500);
    expect(invocation.remainingMs()).toBeLessThanOrEqual(4500);
  });
});

describe('requestRoutedLogger', () => {
  it('writes through the logger of the request in progress, and through its base outside any request', async () => {
    const base = new Logger({ serviceName: 'fake-base' });
    const routed = requestRoutedLogger(base);
    const first = base.createChild({ persistentKeys: { requestId: 'first' } });
    const second = base.createChild({ persistentKeys: { requestId: 'second' } });
    const { records } = await captureLogLines(base, 'INFO', async () => {
      // Children copy the base level when created; these were created before the capture raised it.
      first.setLogLevel('INFO');
      second.setLogLevel('INFO');
      const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      await Promise.all([
        runWithRequestLogger(first, async () => {
          await pause(20);
          routed.info({ message: 'from first' });
        }),
        runWithRequestLogger(second, async () => {
          routed.info({ message: 'from second' });
          await pause(40);
          routed.info({ message: 'from second again' });
        }),
      ]);
      routed.info({ message: 'outside' });
    });
    const byMessage = Object.fromEntries(records.map((record) => [record.message, record.requestId]));
    expect(byMessage).toEqual({
      'from first': 'first',
      'from second': 'second',
      'from second again': 'second',
      outside: undefined,
    });
    expect(routed.level).toBe(base.level);
  });
});

describe('sharedProducer', () => {
  it('creates the shared producer once; later calls get the same one whatever options they bring', async () => {
    const transport = fakeTransport();
    const producer = sharedProducer(fakeProducerOptions(transport));
    expect(sharedProducer({ endpoints: 'other:1' })).toBe(producer);
    await producer.send({ topic: 'orders', body: 'x' });
    expect(transport.sent).toEqual(['orders']);
  });
});
