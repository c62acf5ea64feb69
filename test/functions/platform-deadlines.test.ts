import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fcContext, lambdaContext } from '../../infra/emulate.js';
import { type LocalBroker, startLocalBroker } from '../../infra/local-broker/index.js';
import { hasOpenSharedProducer } from '../../lib/entries/advanced.js';
import {
  ErrorCode,
  getLogger,
  getProducer,
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

describe('FC instance concurrency and logs', () => {
  it("each request's log lines carry its own request id, however the requests interleave", async () => {
    const lines: string[] = [];
    const shared = getLogger();
    const level = shared.getLevelName();
    shared.setLogLevel('INFO');
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      const handler = fcEventHandler(async (event, invocation) => {
        const { name, pause } = JSON.parse(String(event)) as { name: string; pause: number };
        invocation.logger.info({ message: 'started', name });
        await new Promise((resolve) => setTimeout(resolve, pause));
        invocation.logger.info({ message: 'finished', name });
        return name;
      });
      const first = fcContext('interleaved', 10);
      const second = fcContext('interleaved', 10);
      await Promise.all([
        handler(Buffer.from('{"name":"first","pause":80}'), first),
        handler(Buffer.from('{"name":"second","pause":10}'), second),
      ]);
      const records = lines
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((record) => record.name === 'first' || record.name === 'second');
      expect(records).toHaveLength(4);
      for (const record of records) {
        expect(record.requestId).toBe(record.name === 'first' ? first.requestId : second.requestId);
      }
    } finally {
      process.stdout.write = write;
      shared.setLogLevel(level);
    }
  });
});

describe('log shipping', () => {
  it('never creates the shared producer itself', async () => {
    await shutdownSharedProducer({ timeoutMs: 500 });
    new ShippingLogger({ topic: 'logs' }).info('a line while no shared producer is open');
    expect(hasOpenSharedProducer()).toBe(false);
  });
});
