import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalBroker, startLocalBroker } from '../../infra/local-broker/index.js';
import { resolveConfig } from '../../lib/entries/advanced.js';
import { createProducer } from '../../lib/index.js';
import './provided-context.js';

/**
 * The test matrix (vitest.config.ts) switches transports through ROCKETMQ_TRANSPORT only. This proves
 * the switch reaches producers created without a `transport` option, in the test process and in child
 * processes, by what the broker saw: the official client opens a Telemetry stream, the lean transport
 * sends with no stream at all.
 */
const expected = inject('transport');
const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./send-from-env.ts', import.meta.url));

let broker: LocalBroker;

beforeAll(async () => {
  broker = await startLocalBroker();
});

afterAll(async () => {
  await broker.stop();
});

describe(`the ${expected} project`, () => {
  it('resolves the transport from the environment', () => {
    expect(resolveConfig({ endpoints: broker.endpoint }).transport).toBe(expected);
  });

  it('sends on that transport in the test process and in a child process', async () => {
    const before = broker.stats().rpcCalls.Telemetry ?? 0;
    const producer = createProducer({ endpoints: broker.endpoint });
    try {
      const result = await producer.send({ topic: 'orders', keys: ['matrix'], body: 'in process' });
      expect(result.attempts).toBe(1);
    } finally {
      await producer.shutdown();
    }
    const inProcess = (broker.stats().rpcCalls.Telemetry ?? 0) - before;

    const { stdout } = await run(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, ROCKETMQ_ENDPOINTS: broker.endpoint },
      timeout: 20_000,
    });
    expect(JSON.parse(stdout)).toEqual({ transport: expected, attempts: 1 });
    const inChild = (broker.stats().rpcCalls.Telemetry ?? 0) - before - inProcess;

    expect(broker.messages('orders').map((m) => m.keys[0])).toEqual(['matrix', 'matrix-child']);
    if (expected === 'official') {
      expect(inProcess).toBeGreaterThan(0);
      expect(inChild).toBeGreaterThan(0);
    } else {
      expect(inProcess).toBe(0);
      expect(inChild).toBe(0);
    }
  });
});
