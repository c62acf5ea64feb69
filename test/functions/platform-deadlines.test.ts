import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fcContext, lambdaContext } from '../../infra/emulate.js';
import { type LocalBroker, startLocalBroker } from '../../infra/local-broker/index.js';
import {
  ErrorCode,
  getProducer,
  hasOpenSharedProducer,
  type SendFailure,
  shutdownSharedProducer,
} from '../../lib/index.js';
import { ShippingLogger } from '../../lib/log.js';
import { fcEventHandler } from '../../lib/platforms/fc.js';
import { lambdaHandler } from '../../lib/platforms/lambda.js';

let broker: LocalBroker;
beforeAll(async () => {
  broker = await startLocalBroker();
  process.env.ROCKETMQ_ENDPOINTS = broker.endpoint;
});
afterAll(async () => {
  await shutdownSharedProducer({ timeoutMs: 500 });
  await broker.stop();
});

describe('the platform deadline', () => {
  it('a handler returns before the platform would kill it, with open async sends already failed', async () => {
    const failures: SendFailure[] = [];
    const handler = lambdaHandler(async (_event: unknown, invocation) => {
      await invocation.producer.send({ topic: 'orders', body: 'warm-up' });
      broker.faults.blackhole(true);
      invocation.producer.sendAsync(
        { topic: 'orders', body: 'never answered' },
        { onSuccess: () => expect.unreachable(), onException: (failure) => failures.push(failure) },
      );
      return 'returned early';
    });
    const context = lambdaContext('deadline-test', 3);
    const started = Date.now();
    await expect(handler({}, context)).resolves.toBe('returned early');
    const elapsed = Date.now() - started;
    broker.faults.blackhole(false);
    // 3 s function: work until 2.7 s, drain until 2.85 s, the rest for expiry and the return.
    expect(elapsed).toBeLessThan(2950);
    expect(failures.map((f) => f.exception.code)).toEqual([ErrorCode.TIMEOUT]);
  });
});

describe('FC instance concurrency', () => {
  it("one request's drain neither waits for nor expires another request's sends", async () => {
    const outcomes: string[] = [];
    const slow = fcEventHandler(async (_event, invocation) => {
      invocation.producer.sendAsync(
        { topic: 'orders', body: 'B' },
        {
          onSuccess: () => outcomes.push('B sent'),
          onException: (f) => outcomes.push(`B ${f.exception.code}`),
        },
      );
      return 'B';
    });
    const quick = fcEventHandler(async () => 'A');
    await getProducer().send({ topic: 'orders', body: 'warm-up' });
    broker.faults.delayMs = 800;
    const b = slow(Buffer.from('{}'), fcContext('slow', 60));
    const startedA = Date.now();
    await expect(quick(Buffer.from('{}'), fcContext('quick', 1))).resolves.toBe('A');
    expect(Date.now() - startedA).toBeLessThan(300);
    await expect(b).resolves.toBe('B');
    broker.faults.delayMs = 0;
    expect(outcomes).toEqual(['B sent']);
  });
});

describe('log shipping', () => {
  it('never creates the shared producer itself', async () => {
    await shutdownSharedProducer({ timeoutMs: 500 });
    new ShippingLogger({ topic: 'logs' }).info('a line while no shared producer is open');
    expect(hasOpenSharedProducer()).toBe(false);
  });
});
