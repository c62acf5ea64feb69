// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} here is manifest syntax.
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unpack } from '../../lib/index.js';
import { useBroker } from '../support/broker-fixture.js';
import { readBack } from '../support/consumer.js';

// readBack() uses a fresh consumer group for messages sent before it: the fixture's `oldest` start.
const fixture = useBroker();

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
        env: {
          ...process.env,
          ROCKETMQ_ENDPOINTS: fixture.broker.endpoint,
          POWERTOOLS_LOG_LEVEL: 'INFO',
          ...env,
        },
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

/** As a user runs it: `npm run invoke -- ...`. */
function npmInvoke(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['run', '-s', 'invoke', '--', ...args],
      { env: { ...process.env, ROCKETMQ_ENDPOINTS: fixture.broker.endpoint }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
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
    const received = await readBack(fixture.broker.endpoint, 'orders', (ms) =>
      ms.some((m) => m.messageId === messageId),
    );
    const message = received.find((m) => m.messageId === messageId);
    expect(message?.tag).toBe('OrderCreated');
    expect(message?.keys).toEqual(['ORDERID_1001']);
    expect(JSON.parse(message?.body.toString() ?? '{}')).toMatchObject({ orderId: '1001', total: 59.8 });
    // Logs go to stderr only, with the request id.
    expect(run.stderr).toContain('"order confirmed"');
  });

  it('a bad order answers 400 with a JSON error, sends nothing; exit 0 as the handler answered, 1 with --fail-on-http-error', async () => {
    const before = fixture.broker.stats().sendMessageCalls;
    const strict = await invoke([
      '-f',
      'order-confirmation',
      '-p',
      'events/fc/http-order-invalid.json',
      '--fail-on-http-error',
    ]);
    expect(strict.code).toBe(1);
    expect(JSON.parse(strict.stdout).statusCode).toBe(400);
    const run = await invoke(['-f', 'order-confirmation', '-p', 'events/fc/http-order-invalid.json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).statusCode).toBe(400);
    expect(httpBody(run)).toMatchObject({ error: { code: 'EVENT_INVALID' } });
    expect(fixture.broker.stats().sendMessageCalls).toBe(before);
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
    expect(run.code).toBe(0);
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
    const before = fixture.broker.messages('object-events').length;
    const run = await invoke(['-f', 'object-fanout', ...args]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ sent: 3, failed: 0, spooled: 0 });
    const stored = fixture.broker.messages('object-events').slice(before);
    expect(stored).toHaveLength(3);
    expect(stored.every((m) => m.tag?.startsWith('ObjectCreated:'))).toBe(true);
    expect(stored.every((m) => /^[^\s]+\/[^\s]+$/.test(m.keys[0] ?? ''))).toBe(true);
  });

  it('an event of the wrong kind fails with EVENT_INVALID and exit 1, the error object as the result', async () => {
    const run = await invoke(['-f', 'object-fanout', '-p', 'events/fc/timer.json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ errorType: 'EventError', code: 'EVENT_INVALID' });
    expect(JSON.parse(run.stdout).errorMessage).toEqual(expect.any(String));
    expect(run.stderr).toContain('EVENT_INVALID');
  });
});

describe('metrics-reporter', () => {
  it.each([
    ['fc', ['-p', 'events/fc/timer.json']],
    ['aws', ['-p', 'events/aws/schedule.json', '--platform', 'aws']],
  ])('%s: the data points packed oneway, one message per tag', async (_name, args) => {
    const before = fixture.broker.messages('metrics').length;
    const run = await invoke(['-f', 'metrics-reporter', ...args]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.reported).toBeGreaterThan(10);
    const stored = fixture.broker.messages('metrics').slice(before);
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

/** Every sample in events/, with the function and platform it is for: each one must run. */
const SAMPLES: [string, string, string[]][] = [
  ['fc/http-order.json', 'order-confirmation', []],
  ['fc/http-order-base64.json', 'order-confirmation', []],
  ['fc/http-order-invalid.json', 'order-confirmation', []],
  ['fc/fc2-http-order-request.json', 'order-confirmation', []],
  ['fc/fc2-http-order-request.json', 'order-confirmation', ['--fc-http', '2']],
  ['fc/oss-put.json', 'object-fanout', []],
  ['fc/timer.json', 'metrics-reporter', []],
  ['fc/rocketmq-orders.json', 'order-fulfilment', []],
  ['fc/rocketmq-orders-rawdata.json', 'order-fulfilment', []],
  ['fc/rocketmq-selfmanaged.json', 'order-fulfilment', []],
  ['aws/apigw-v1-order.json', 'order-confirmation', ['--platform', 'aws']],
  ['aws/apigw-v2-order.json', 'order-confirmation', ['--platform', 'aws']],
  ['aws/s3-put.json', 'object-fanout', ['--platform', 'aws']],
  ['aws/schedule.json', 'metrics-reporter', ['--platform', 'aws']],
  ['aws/schedule-fulfilment.json', 'order-fulfilment', ['--platform', 'aws']],
];

describe('every sample event', () => {
  it('is listed here', async () => {
    const { readdir } = await import('node:fs/promises');
    const files = [
      ...(await readdir('events/fc')).map((f) => `fc/${f}`),
      ...(await readdir('events/aws')).map((f) => `aws/${f}`),
    ];
    // Scaffolded functions bring their own samples and tests; these are the repository's four.
    const scaffolded = new Set(
      (await import('../../infra/manifest.js').then((m) => m.readManifests())).map((m) => `${m.name}.json`),
    );
    const listed = new Set(SAMPLES.map(([file]) => file));
    expect(files.filter((f) => !listed.has(f) && !scaffolded.has(f.split('/')[1] ?? ''))).toEqual([]);
  });

  it.each(SAMPLES)('%s invokes %s and the handler returns (exit 0)', async (file, fn, args) => {
    const run = await invoke(['-f', fn, '-p', `events/${file}`, ...args]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).not.toHaveProperty('errorType');
  });

  it('the FC 2.0 request sample is served as an FC 2.0 HTTP call: 200 with the stored id', async () => {
    const run = await invoke(['-f', 'order-confirmation', '-p', 'events/fc/fc2-http-order-request.json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.statusCode).toBe(200);
    const { messageId } = JSON.parse(result.body);
    expect(fixture.broker.messages('orders').some((m) => m.messageId === messageId)).toBe(true);
  });
});

describe('faithful to the platforms', () => {
  let tree: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    const { mkdir, mkdtemp, symlink, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join, resolve } = await import('node:path');
    const root = resolve(import.meta.dirname, '..', '..');
    tree = await mkdtemp(join(tmpdir(), 'rocketmq-invoke-'));
    await symlink(join(root, 'lib'), join(tree, 'lib'));
    const manifest = (name: string, environment: Record<string, string> = {}) =>
      JSON.stringify({
        name,
        description: 'a test fixture',
        trigger: 'timer',
        timeout: 30,
        memory: 256,
        environment,
        topics: { sends: [], consumes: [] },
        fc: {
          triggers: [
            { name: 't', type: 'timer', cronExpression: '0 */5 * * * *', enable: true, payload: '{}' },
          ],
        },
        aws: { events: [{ schedule: { rate: 'rate(5 minutes)' } }] },
      });
    const files: Record<string, string> = {
      // Runs far past any --timeout the tests give.
      'slow/function.json': manifest('slow'),
      'slow/fc.ts': `import { fcEventHandler } from '../../lib/platforms/fc.js';
export const handler = fcEventHandler(() => new Promise((resolve) => setTimeout(() => resolve({ done: true }), 20_000)));`,
      'slow/aws.ts': `import { lambdaHandler } from '../../lib/platforms/lambda.js';
export const handler = lambdaHandler(() => new Promise((resolve) => setTimeout(() => resolve({ done: true }), 20_000)));`,
      // Reports the environment it runs in.
      'probe/function.json': manifest('probe', {
        PROBE_TOPIC: '${PROBE_TOPIC:-probe-default}',
        PROBE_FIXED: 'fixed',
      }),
      'probe/fc.ts': `import { fcEventHandler } from '../../lib/platforms/fc.js';
const pick = (names: string[]) => Object.fromEntries(names.map((n) => [n, process.env[n] ?? null]));
export const handler = fcEventHandler(async (_event, invocation) => ({
  env: pick(['FC_FUNCTION_NAME', 'FC_FUNCTION_HANDLER', 'FC_FUNCTION_MEMORY_SIZE', 'FC_REGION', 'PROBE_TOPIC', 'PROBE_FIXED', 'AWS_LAMBDA_FUNCTION_NAME']),
  functionName: invocation.functionName,
}));`,
      'probe/aws.ts': `import { lambdaHandler } from '../../lib/platforms/lambda.js';
const pick = (names: string[]) => Object.fromEntries(names.map((n) => [n, process.env[n] ?? null]));
export const handler = lambdaHandler(async (_event, invocation) => {
  invocation.logger.info('probe ran');
  return {
    env: pick(['AWS_LAMBDA_FUNCTION_NAME', '_HANDLER', 'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_REGION', 'PROBE_TOPIC', 'PROBE_FIXED', 'FC_FUNCTION_NAME']),
  };
});`,
      // Only a Function Compute entry.
      'fc-only/function.json': manifest('fc-only'),
      'fc-only/fc.ts': `import { fcEventHandler } from '../../lib/platforms/fc.js';
export const handler = fcEventHandler(async () => ({ ok: true }));`,
    };
    for (const [file, text] of Object.entries(files)) {
      await mkdir(join(tree, 'functions', file, '..'), { recursive: true });
      await writeFile(join(tree, 'functions', file), text);
    }
    env = { ROCKETMQ_FUNCTIONS_DIR: join(tree, 'functions') };
  });

  afterAll(async () => {
    const { rm } = await import('node:fs/promises');
    if (tree) await rm(tree, { recursive: true, force: true });
  });

  it.each([
    // middy ends a Lambda handler itself just before the deadline (its timeoutEarlyResponse), as it
    // would on AWS; without middy the platform's own message comes.
    ['aws', /Task timed out after 1\.00 seconds|The operation was aborted/],
    ['fc', /Function timed out after 1 seconds/],
  ])('%s: --timeout abandons the handler with the platform message and exit 1', async (platform, message) => {
    const started = Date.now();
    const run = await invoke(
      ['-f', 'slow', '-d', '{"version":"0","source":"custom"}', '--platform', platform, '--timeout', '1'],
      env,
    );
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout);
    expect(result.errorType).toBe('TimeoutError');
    expect(result.errorMessage).toMatch(message);
    expect(run.stderr).toMatch(message);
    // The handler would run 20 s; the process ends at the timeout (generous bound for a busy machine).
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("aws: Lambda's variables, the manifest's environment, and Powertools sees a cold start", async () => {
    const run = await invoke(['-f', 'probe', '-d', '{}', '--platform', 'aws'], { ...env, PROBE_FIXED: '' });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).env).toEqual({
      AWS_LAMBDA_FUNCTION_NAME: 'probe',
      _HANDLER: 'index.handler',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_REGION: process.env.AWS_REGION || 'us-east-1',
      PROBE_TOPIC: 'probe-default',
      PROBE_FIXED: 'fixed',
      FC_FUNCTION_NAME: null,
    });
    const line = run.stderr.split('\n').find((l) => l.includes('"probe ran"'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({ cold_start: true, function_name: 'probe' });
  });

  it("fc: FC's variables and the manifest's environment; the shell's values win", async () => {
    const run = await invoke(['-f', 'probe', '-d', '{}'], { ...env, PROBE_TOPIC: 'from-shell' });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      env: {
        FC_FUNCTION_NAME: 'probe',
        FC_FUNCTION_HANDLER: 'index.handler',
        FC_FUNCTION_MEMORY_SIZE: '256',
        FC_REGION: process.env.ALIBABA_CLOUD_REGION || 'cn-hangzhou',
        PROBE_TOPIC: 'from-shell',
        PROBE_FIXED: 'fixed',
        AWS_LAMBDA_FUNCTION_NAME: null,
      },
      functionName: 'probe',
    });
  });

  it('a function without a Lambda entry invoked with --platform aws is a usage error', async () => {
    const run = await invoke(['-f', 'fc-only', '-d', '{}', '--platform', 'aws'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('fc-only has no AWS Lambda entry');
  });
});

describe('usage errors exit 2 on both platforms', () => {
  it.each(['fc', 'aws'])('%s: an event that is not JSON, from a file or inline', async (platform) => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const file = join(await mkdtemp(join(tmpdir(), 'rocketmq-event-')), 'bad.json');
    await writeFile(file, '{ not json');
    const fromFile = await invoke(['-f', 'metrics-reporter', '-p', file, '--platform', platform]);
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toContain('is not JSON');
    const inline = await invoke(['-f', 'metrics-reporter', '-d', '{nope', '--platform', platform]);
    expect(inline.code).toBe(2);
    expect(inline.stderr).toContain('event --data is not JSON');
  });

  it('--env-file on a missing file, with our own message (through npm run invoke)', async () => {
    const run = await npmInvoke([
      '-f',
      'metrics-reporter',
      '-p',
      'events/fc/timer.json',
      '--env-file',
      'no-such.env',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cannot read the env file no-such.env: ENOENT');
  });

  it.each([
    [
      'an FC HTTP event to the Lambda entry',
      ['-p', 'events/fc/http-order.json', '--platform', 'aws'],
      'Function Compute event',
    ],
    ['an API Gateway event to the FC entry', ['-p', 'events/aws/apigw-v2-order.json'], 'AWS Lambda event'],
  ])('%s', async (_name, args, message) => {
    const run = await invoke(['-f', 'order-confirmation', ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it('-p and -d together, or neither', async () => {
    const both = await invoke(['-f', 'metrics-reporter', '-p', 'events/fc/timer.json', '-d', '{}']);
    expect(both.code).toBe(2);
    const neither = await invoke(['-f', 'metrics-reporter']);
    expect(neither.code).toBe(2);
  });
});

describe('--data', () => {
  it('takes the event inline', async () => {
    const event = await (await import('node:fs/promises')).readFile('events/fc/timer.json', 'utf8');
    const run = await invoke(['-f', 'metrics-reporter', '-d', event]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).reported).toBeGreaterThan(10);
  });
});
