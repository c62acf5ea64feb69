import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalBroker, startLocalBroker } from '../../infra/local-broker/index.js';
import { unpack } from '../../lib/index.js';
import { readBack } from '../support/consumer.js';

let broker: LocalBroker;

beforeAll(async () => {
  // readBack() uses a fresh consumer group for messages sent before it: the broker's `oldest` start.
  broker = await startLocalBroker({ newGroupStart: 'oldest' });
});
afterAll(async () => {
  await broker.stop();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function invoke(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'infra/invoke.ts', ...args],
      {
        env: { ...process.env, ROCKETMQ_ENDPOINTS: broker.endpoint, POWERTOOLS_LOG_LEVEL: 'INFO', ...env },
        timeout: 30_000,
      },
      (error, stdout, stderr) => {
        // A timeout kill means the process did not exit on its own: report it as a distinct code.
        const code = error ? (error.killed ? -1 : Number(error.code ?? 1)) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function httpBody(run: Run): Record<string, unknown> {
  return JSON.parse(JSON.parse(run.stdout).body);
}

describe('order-confirmation', () => {
  it.each([
    ['fc', ['-p', 'events/fc/http-order.json']],
    ['fc (FC 2.0 request/response)', ['-p', 'events/fc/http-order.json', '--fc-http', '2']],
    ['fc (base64 body)', ['-p', 'events/fc/http-order-base64.json']],
    ['aws (API Gateway REST)', ['-p', 'events/aws/apigw-v1-order.json', '--platform', 'aws']],
    ['aws (HTTP API)', ['-p', 'events/aws/apigw-v2-order.json', '--platform', 'aws']],
  ])('%s: 200 with the stored message id; a consumer reads the order', async (_name, args) => {
    const run = await invoke(['-f', 'order-confirmation', ...args]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.statusCode).toBe(200);
    const { messageId, topic } = httpBody(run);
    expect(topic).toBe('orders');
    const received = await readBack(broker.endpoint, 'orders', (ms) =>
      ms.some((m) => m.messageId === messageId),
    );
    const message = received.find((m) => m.messageId === messageId);
    expect(message?.tag).toBe('OrderCreated');
    expect(message?.keys).toEqual(['ORDERID_1001']);
    expect(JSON.parse(message?.body.toString() ?? '{}')).toMatchObject({ orderId: '1001', total: 59.8 });
    // Logs go to stderr only, with the request id.
    expect(run.stderr).toContain('"order confirmed"');
  });

  it('a bad order answers 400 with a JSON error, sends nothing, exits 1', async () => {
    const before = broker.stats().sendMessageCalls;
    const run = await invoke(['-f', 'order-confirmation', '-p', 'events/fc/http-order-invalid.json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).statusCode).toBe(400);
    expect(httpBody(run)).toMatchObject({ error: { code: 'EVENT_INVALID' } });
    expect(broker.stats().sendMessageCalls).toBe(before);
  });

  it('an unreachable broker answers 503 with Retry-After within the function timeout', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const started = Date.now();
    const run = await invoke(
      ['-f', 'order-confirmation', '-p', 'events/fc/http-order.json', '--timeout', '3'],
      {
        ROCKETMQ_ENDPOINTS: `127.0.0.1:${port}`,
      },
    );
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout);
    expect(result.statusCode).toBe(503);
    expect(result.headers['retry-after']).toBeDefined();
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('object-fanout', () => {
  it.each([
    ['fc', ['-p', 'events/fc/oss-put.json']],
    ['aws', ['-p', 'events/aws/s3-put.json', '--platform', 'aws']],
  ])('%s: one async message per object, all drained before the result', async (_name, args) => {
    const before = broker.messages('object-events').length;
    const run = await invoke(['-f', 'object-fanout', ...args]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ sent: 3, failed: 0, spooled: 0 });
    const stored = broker.messages('object-events').slice(before);
    expect(stored).toHaveLength(3);
    expect(stored.every((m) => m.tag?.startsWith('ObjectCreated:'))).toBe(true);
    expect(stored.every((m) => /^[^\s]+\/[^\s]+$/.test(m.keys[0] ?? ''))).toBe(true);
  });

  it('an event of the wrong kind fails with EVENT_INVALID and exit 1', async () => {
    const run = await invoke(['-f', 'object-fanout', '-p', 'events/fc/timer.json']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('EVENT_INVALID');
  });
});

describe('metrics-reporter', () => {
  it.each([
    ['fc', ['-p', 'events/fc/timer.json']],
    ['aws', ['-p', 'events/aws/schedule.json', '--platform', 'aws']],
  ])('%s: the data points packed oneway, one message per tag', async (_name, args) => {
    const before = broker.messages('metrics').length;
    const run = await invoke(['-f', 'metrics-reporter', ...args]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.reported).toBeGreaterThan(10);
    const stored = broker.messages('metrics').slice(before);
    // Process and producer points (and the payload's gauges, if any): one pack per tag.
    expect(stored).toHaveLength(result.messages);
    expect(stored.length).toBeLessThan(result.reported);
    const records = stored.flatMap((m) =>
      unpack({ body: m.body, properties: m.properties, keys: m.keys }).map((r) => ({
        tag: m.tag,
        keys: r.keys,
        point: JSON.parse(r.body.toString()),
      })),
    );
    expect(records).toHaveLength(result.reported);
    expect(records.every((r) => r.tag === r.point.name.split('.')[0] && r.keys[0] === r.point.name)).toBe(
      true,
    );
    const names = records.map((r) => r.point.name);
    expect(names).toContain('process.memory.rss');
    expect(names).toContain('producer.sync.sent');
    expect(stored.find((m) => m.tag === 'process')?.properties['pack-records']).toBe('4');
  });
});

describe('the CLI itself', () => {
  it('explains usage errors with exit 2', async () => {
    const noFunction = await invoke(['-p', 'events/fc/timer.json']);
    expect(noFunction.code).toBe(2);
    expect(noFunction.stderr).toContain('missing -f');
    const unknown = await invoke(['-f', 'nope', '-p', 'events/fc/timer.json']);
    expect(unknown.code).toBe(2);
    const missing = await invoke(['-f', 'metrics-reporter', '-p', 'events/fc/no-such-event.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read the event');
    expect(unknown.stderr).toContain('order-confirmation');
  });

  it('reads the event from stdin and starts its own broker without ROCKETMQ_ENDPOINTS', async () => {
    const { readFile } = await import('node:fs/promises');
    const event = await readFile('events/fc/timer.json');
    const run = await new Promise<Run>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', 'infra/invoke.ts', '-f', 'metrics-reporter', '-p', '-', '--tail'],
        { env: { ...process.env, ROCKETMQ_ENDPOINTS: '', POWERTOOLS_LOG_LEVEL: 'ERROR' }, timeout: 30_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end(event);
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).reported).toBeGreaterThan(10);
    expect(run.stderr).toMatch(/\[broker\] metrics tag=process keys=process\.memory\.rss/);
  });
});
