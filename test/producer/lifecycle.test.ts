import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createProducer, ErrorCode, getProducer, shutdownSharedProducer } from '../../lib/index.js';
import { useBroker } from '../support/broker-fixture.js';

const run = promisify(execFile);

const fixture = useBroker();

describe('shared producer', () => {
  afterAll(async () => {
    await shutdownSharedProducer();
  });

  it('is created once and reused; concurrent first sends share one startup', async () => {
    const first = getProducer({ endpoints: fixture.broker.endpoint });
    expect(getProducer()).toBe(first);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => getProducer().send({ topic: 'orders', body: `first-${i}` })),
    );
    expect(new Set(results.map((r) => r.messageId)).size).toBe(20);
    expect(fixture.broker.stats().rpcCalls.QueryRoute).toBe(1);
  });

  it('refuses sends after shutdown, and the next getProducer() makes a fresh one', async () => {
    const old = getProducer();
    await shutdownSharedProducer();
    expect(() => old.sendOneway({ topic: 'orders', body: 'x' })).toThrow(
      expect.objectContaining({ code: ErrorCode.PRODUCER_CLOSED }),
    );
    await expect(old.send({ topic: 'orders', body: 'x' })).rejects.toMatchObject({
      code: ErrorCode.PRODUCER_CLOSED,
    });
    const fresh = getProducer({ endpoints: fixture.broker.endpoint });
    expect(fresh).not.toBe(old);
    await expect(fresh.send({ topic: 'orders', body: 'y' })).resolves.toMatchObject({ topic: 'orders' });
  });

  it('warms up ahead of the first send: client started, routes looked up, nothing thrown when down', async () => {
    const producer = fixture.producerFor();
    const routesBefore = fixture.broker.stats().rpcCalls.QueryRoute ?? 0;
    expect(await producer.warmUp(['orders', 'metrics'])).toBeUndefined();
    expect((fixture.broker.stats().rpcCalls.QueryRoute ?? 0) - routesBefore).toBe(2);
    await producer.send({ topic: 'orders', body: 'after warm-up' });
    expect((fixture.broker.stats().rpcCalls.QueryRoute ?? 0) - routesBefore).toBe(2);
    await producer.shutdown();

    const unknown = fixture.producerFor();
    expect(await unknown.warmUp(['no-such-topic'])).toMatchObject({ code: ErrorCode.TOPIC_NOT_FOUND });
    await unknown.shutdown();
  });

  it('rejects unknown options by name', () => {
    expect(() => createProducer({ endpoints: 'h:1', sendTimeout: 5 } as never)).toThrow(
      /unknown producer option: sendTimeout/,
    );
  });
});

describe('process lifecycle', () => {
  it('a script exits by itself after shutdown, even when the broker went away first', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/shutdown-after-broker-gone.ts'],
      {
        env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
        timeout: 15_000,
      },
    );
    const report = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
    expect(report.messageId).toMatch(/^[0-9A-F]{34}$/i);
    expect(report.shutdownMs).toBeLessThan(3000);
  });
});
