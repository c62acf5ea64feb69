import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, getLogger } from '../../../lib/index.js';
import { LIBRARY_SOURCE } from '../../../lib/log.js';
import {
  cleanupRocketMQ,
  invocationOf,
  lambdaHandler,
  lambdaHttpHandler,
  rocketmq,
  rocketmqMiddyPlugin,
} from '../../../lib/platforms/lambda.js';
import { shutdownSharedProducer } from '../../../lib/producer/shared.js';
import { jsonResponse } from '../../../lib/triggers/index.js';
import { captureLogLines, fakeLambdaContext, fakeProducerOptions, fakeTransport } from './fakes.js';

afterEach(async () => {
  await shutdownSharedProducer({ timeoutMs: 200 });
});

/** The fake transport answers after 30 ms: a send not drained is still open when the handler returns. */
function options() {
  return { producer: fakeProducerOptions(fakeTransport(30)), shutdownOnSigterm: false };
}

/** Starts an async send and reports whether it settled. */
function startSend(context: Context): { settled: () => boolean; done: Promise<void> } {
  let settled = false;
  let resolve: () => void = () => undefined;
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  const finish = () => {
    settled = true;
    resolve();
  };
  invocationOf(context).producer.sendAsync(
    { topic: 'orders', body: 'async' },
    { onSuccess: finish, onException: finish },
  );
  return { settled: () => settled, done };
}

describe('lambdaHandler', () => {
  it('hands the core the invocation built from the context and drains its sends before returning', async () => {
    let send: ReturnType<typeof startSend> | undefined;
    const handler = lambdaHandler(async (_event: unknown, invocation) => {
      send = startSend({ rocketmq: invocation } as unknown as Context);
      return {
        requestId: invocation.requestId,
        platform: invocation.platform,
        left: invocation.remainingMs(),
      };
    }, options());
    const result = await handler({}, fakeLambdaContext('fake-aws-1', 5000));
    expect(result).toMatchObject({ requestId: 'fake-aws-1', platform: 'aws' });
    // 5 s left: 500 ms kept back for the drain and the return.
    expect(result.left).toBeLessThanOrEqual(4500);
    expect(send?.settled()).toBe(true);
  });

  it("writes the library's lines for the request through the invocation's logger", async () => {
    const handler = lambdaHandler(async (_event: unknown, invocation) => {
      // injectLambdaContext resets the shared logger to its initial level (SILENT in the tests) on each
      // request; this request's logger alone is raised, and the producer's line still goes through it.
      invocation.logger.setLogLevel('DEBUG');
      await invocation.producer.send({ topic: 'orders', keys: ['k-1'], body: 'sync' });
      return 'ok';
    }, options());
    const { records } = await captureLogLines(getLogger(), 'DEBUG', () =>
      handler({}, fakeLambdaContext('fake-aws-logs')),
    );
    const sent = records.filter((record) => record.source === LIBRARY_SOURCE && record.message === 'sent');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ function_request_id: 'fake-aws-logs', keys: ['k-1'] });
  });
});

describe('lambdaHttpHandler', () => {
  const handler = lambdaHttpHandler(
    async (request, invocation) => jsonResponse(200, { path: request.path, requestId: invocation.requestId }),
    options(),
  );

  it('answers an HTTP API (v2) event in the v2 shape', async () => {
    const response = await handler(
      {
        version: '2.0',
        rawPath: '/orders',
        headers: {},
        isBase64Encoded: false,
        requestContext: { http: { method: 'GET', path: '/orders' } },
      },
      fakeLambdaContext('fake-v2'),
    );
    expect(response).toMatchObject({ statusCode: 200 });
    expect(JSON.parse(String((response as { body: string }).body))).toEqual({
      path: '/orders',
      requestId: 'fake-v2',
    });
  });

  it('refuses an FC 3.0 event with 400 EVENT_INVALID', async () => {
    const response = await handler(
      { version: 'v1', rawPath: '/', headers: {}, requestContext: { http: { method: 'GET', path: '/' } } },
      fakeLambdaContext('fake-wrong-platform'),
    );
    expect(response).toMatchObject({ statusCode: 400 });
    expect(JSON.parse(String((response as { body: string }).body))).toMatchObject({
      error: { code: ErrorCode.EVENT_INVALID },
    });
  });
});

describe('a middleware that answers early', () => {
  it('in lambdaHandler, an after middleware that answers early does not skip the drain', async () => {
    let send: ReturnType<typeof startSend> | undefined;
    const handler = lambdaHandler(async (_event: unknown, invocation) => {
      send = startSend({ rocketmq: invocation } as unknown as Context);
      return 'from the handler';
    }, options()).use({ after: () => 'answered early' });
    await expect(handler({}, fakeLambdaContext('fake-early-after'))).resolves.toBe('answered early');
    expect(send?.settled()).toBe(true);
  });

  it('in lambdaHandler, a before middleware that sends and answers early does not skip the drain', async () => {
    let send: ReturnType<typeof startSend> | undefined;
    const handler = lambdaHandler(async () => expect.unreachable('the handler must not run'), options()).use({
      before: (request) => {
        send = startSend(request.context);
        return 'cached';
      },
    });
    await expect(handler({}, fakeLambdaContext('fake-early-before'))).resolves.toBe('cached');
    expect(send?.settled()).toBe(true);
  });

  it('in your own chain with rocketmqMiddyPlugin(), an early answer is drained too', async () => {
    let send: ReturnType<typeof startSend> | undefined;
    const handler = middy(rocketmqMiddyPlugin())
      .use(rocketmq(options()))
      .use({
        before: (request) => {
          send = startSend(request.context);
          return 'cached';
        },
      })
      .handler(async () => 'from the handler');
    await expect(handler({}, fakeLambdaContext('fake-own-chain'))).resolves.toBe('cached');
    expect(send?.settled()).toBe(true);
  });

  it("in your own chain without the plugin, a middleware that follows Powertools' convention runs the cleanup", async () => {
    let send: ReturnType<typeof startSend> | undefined;
    const handler = middy()
      .use(rocketmq(options()))
      .use({
        before: async (request) => {
          send = startSend(request.context);
          await cleanupRocketMQ(request);
          return 'cached';
        },
      })
      .handler(async () => 'from the handler');
    await expect(handler({}, fakeLambdaContext('fake-convention'))).resolves.toBe('cached');
    expect(send?.settled()).toBe(true);
  });

  it('without the plugin or the cleanup call, an early answer leaves the send open: what both are for', async () => {
    let send: ReturnType<typeof startSend> | undefined;
    const handler = middy()
      .use(rocketmq(options()))
      .use({
        before: (request) => {
          send = startSend(request.context);
          return 'cached';
        },
      })
      .handler(async () => 'from the handler');
    await expect(handler({}, fakeLambdaContext('fake-no-cleanup'))).resolves.toBe('cached');
    expect(send?.settled()).toBe(false);
    await send?.done;
  });

  it('the drain runs once, however many of after, onError and requestEnd reach it', async () => {
    let drains = 0;
    const handler = lambdaHandler(async (_event: unknown, invocation) => {
      const drain = invocation.producer.drain.bind(invocation.producer);
      invocation.producer.drain = (drainOptions) => {
        drains += 1;
        return drain(drainOptions);
      };
      return 'ok';
    }, options());
    await handler({}, fakeLambdaContext('fake-once'));
    expect(drains).toBe(1);
  });
});
