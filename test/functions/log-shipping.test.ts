import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalBroker, startLocalBroker } from '../../infra/local-broker/index.js';
import { createLogger } from '../../lib/entries/advanced.js';
import { getProducer, shutdownSharedProducer, unpack } from '../../lib/index.js';

let broker: LocalBroker;
beforeAll(async () => {
  broker = await startLocalBroker();
});
afterAll(async () => {
  await broker.stop();
});

describe('log shipping (ROCKETMQ_LOG_TOPIC)', () => {
  it("ships the function's log lines oneway and packed to the topic, drained with the invocation, without the library's own", async () => {
    const code = await new Promise<number>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'infra/invoke.ts', '-f', 'order-confirmation', '-p', 'events/fc/http-order.json'],
        {
          env: {
            ...process.env,
            ROCKETMQ_ENDPOINTS: broker.endpoint,
            ROCKETMQ_LOG_TOPIC: 'logs',
            POWERTOOLS_LOG_LEVEL: 'DEBUG',
          },
          timeout: 30_000,
        },
        (error) => resolve(error ? Number(error.code ?? 1) : 0),
      );
    });
    expect(code).toBe(0);
    const stored = broker.messages('logs');
    const shipped = stored.flatMap((m) =>
      unpack({ body: m.body, properties: m.properties, keys: m.keys }).map((r) => ({
        tag: m.tag,
        keys: r.keys,
        packed: r.pack !== undefined,
        type: r.properties['content-type'],
        record: JSON.parse(r.body.toString()),
      })),
    );
    // One line of its level in the invocation: sent as a plain message, which unpack passes through.
    expect(stored).toHaveLength(shipped.length);
    expect(shipped.every((s) => !s.packed && s.type === 'application/json')).toBe(true);
    const confirmed = shipped.find((s) => s.record.message === 'order confirmed');
    expect(confirmed).toMatchObject({
      tag: 'INFO',
      record: { orderId: '1001', functionName: 'order-confirmation' },
    });
    expect(confirmed?.keys).toEqual([confirmed?.record.requestId]);
    // The library's own lines (sends, the client's chatter) stay local, so shipping cannot feed itself.
    expect(shipped.filter((s) => s.record.source !== undefined)).toEqual([]);
  });

  it('packs the lines of one level that an invocation logs into one message, flushed at drain', async () => {
    process.env.ROCKETMQ_LOG_TOPIC = 'logs';
    try {
      const before = broker.messages('logs').length;
      const producer = getProducer({ endpoints: broker.endpoint });
      const logger = createLogger('packing-test');
      // The test run silences logging; shipping follows what is printed.
      logger.setLogLevel('INFO');
      for (let i = 0; i < 5; i++) logger.info({ message: `line ${i}`, requestId: `req-${i % 2}` });
      logger.warn({ message: 'the only warning' });
      await producer.drain();
      const stored = broker.messages('logs').slice(before);
      expect(stored.map((m) => m.tag).sort()).toEqual(['INFO', 'WARN']);
      const info = stored.find((m) => m.tag === 'INFO');
      expect(info?.properties['pack-records']).toBe('5');
      expect(info?.keys).toEqual(['req-0', 'req-1']);
      const lines = unpack({ body: info?.body ?? Buffer.alloc(0), properties: info?.properties }).map(
        (r) => ({
          message: JSON.parse(r.body.toString()).message,
          keys: r.keys,
        }),
      );
      expect(lines).toEqual([0, 1, 2, 3, 4].map((i) => ({ message: `line ${i}`, keys: [`req-${i % 2}`] })));
      const warn = stored.find((m) => m.tag === 'WARN');
      expect(warn?.properties['pack-format']).toBeUndefined();
      expect(JSON.parse(warn?.body.toString() ?? '{}').message).toBe('the only warning');
    } finally {
      delete process.env.ROCKETMQ_LOG_TOPIC;
      await shutdownSharedProducer({ timeoutMs: 5000 });
    }
  });
});
