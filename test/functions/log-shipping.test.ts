import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalBroker, startLocalBroker } from '../../infra/local-broker/index.js';

let broker: LocalBroker;
beforeAll(async () => {
  broker = await startLocalBroker();
});
afterAll(async () => {
  await broker.stop();
});

describe('log shipping (ROCKETMQ_LOG_TOPIC)', () => {
  it("ships the function's log lines oneway to the topic, drained with the invocation, without the library's own", async () => {
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
    const shipped = broker
      .messages('logs')
      .map((m) => ({ tag: m.tag, keys: m.keys, record: JSON.parse(m.body.toString()) }));
    const confirmed = shipped.find((s) => s.record.message === 'order confirmed');
    expect(confirmed).toMatchObject({
      tag: 'INFO',
      record: { orderId: '1001', functionName: 'order-confirmation' },
    });
    expect(confirmed?.keys).toEqual([confirmed?.record.requestId]);
    // The library's own lines (sends, the client's chatter) stay local, so shipping cannot feed itself.
    expect(shipped.filter((s) => s.record.source !== undefined)).toEqual([]);
  });
});
