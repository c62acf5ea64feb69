import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createZip } from '../../infra/build/zip.js';
import { type FcApiStub, type RecordedCall, startFcApiStub } from './support/fc-api-stub.js';
import { runTs } from './support/run-cli.js';

// In the order infra/fc/config.json lists them: by name, as generated from the manifests.
const FUNCTIONS = [
  'metrics-reporter',
  'object-fanout',
  'order-confirmation',
  'order-fulfilment',
  'spool-redeliver',
];
/** order-fulfilment has a second RocketMQ trigger, on its retry topic. */
const TRIGGERS: Record<string, number> = { 'order-fulfilment': 2 };
const SERVICE = 'rocketmq-serverless';
const CREDENTIALS = {
  accountId: '1234567890123456',
  region: 'cn-hangzhou',
  accessKeyId: 'LTAI5tStubDeployKey01',
  accessKeySecret: 'stub-deploy-secret-Zq81xv',
};
const FUNCTION_SECRET = 'planted-rocketmq-password-77';

let codeDir: string;
const zips = new Map<string, Buffer>();

function deployEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ALIBABA_CLOUD_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: CREDENTIALS.accessKeySecret,
    ALIBABA_CLOUD_ACCOUNT_ID: CREDENTIALS.accountId,
    ALIBABA_CLOUD_REGION: CREDENTIALS.region,
    ROCKETMQ_ENDPOINTS: 'rmq-cn-test.cn-hangzhou.rmq.aliyuncs.com:8080',
    ROCKETMQ_NAMESPACE: 'rmq-cn-test',
    ROCKETMQ_ACCESS_KEY: 'instance-user',
    ROCKETMQ_SECRET_KEY: FUNCTION_SECRET,
    OSS_BUCKET: 'uploads-bucket',
    ...overrides,
  };
}

function deploy(stub: FcApiStub, env: Record<string, string> = deployEnv(), extra: string[] = []) {
  return runTs('infra/fc/deploy.ts', ['--endpoint', stub.endpoint, '--code-dir', codeDir, ...extra], env);
}

const kindOf = (call: RecordedCall) =>
  call.path.includes('/triggers') ? 'trigger' : call.path.includes('/functions') ? 'function' : 'service';

beforeAll(async () => {
  codeDir = await mkdtemp(join(tmpdir(), 'fc-deploy-code-'));
  for (const name of FUNCTIONS) {
    const zip = createZip([
      { name: 'index.js', data: Buffer.from(`exports.handler = async () => '${name}';\n`) },
    ]);
    zips.set(name, zip);
    await writeFile(join(codeDir, `${name}.zip`), zip);
  }
});
afterAll(async () => {
  await rm(codeDir, { recursive: true, force: true });
});

describe('npm run deploy:fc against a stub of the FC API', () => {
  let stub: FcApiStub;
  let first: RecordedCall[];

  beforeAll(async () => {
    stub = await startFcApiStub({ ...CREDENTIALS });
    const run = await deploy(stub);
    expect(run.code, run.stderr).toBe(0);
    first = [...stub.calls];
  });
  afterAll(async () => {
    await stub.close();
  });

  it('signs every request the way FC checks it', () => {
    expect(stub.rejected).toEqual([]);
    expect(first.every((call) => call.status < 300 || call.method === 'GET')).toBe(true);
  });

  it('goes service → functions → triggers, creating each after a 404', () => {
    const kinds = first.map(kindOf);
    expect(kinds.lastIndexOf('service')).toBeLessThan(kinds.indexOf('function'));
    expect(kinds.lastIndexOf('function')).toBeLessThan(kinds.indexOf('trigger'));
    const creates = first.filter((call) => call.method === 'POST').map((call) => call.path);
    expect(creates).toEqual([
      '/2016-08-15/services',
      ...FUNCTIONS.map(() => `/2016-08-15/services/${SERVICE}/functions`),
      ...FUNCTIONS.flatMap((fn) =>
        Array.from(
          { length: TRIGGERS[fn] ?? 1 },
          () => `/2016-08-15/services/${SERVICE}/functions/${fn}/triggers`,
        ),
      ),
    ]);
    expect(first.filter((call) => call.method === 'GET').every((call) => call.status === 404)).toBe(true);
  });

  it('creates the functions with runtime, handlers, lifecycle hooks, env and the zip as code', () => {
    for (const name of FUNCTIONS) {
      const create = first.find((call) => call.method === 'POST' && call.body?.functionName === name);
      expect(create?.body).toMatchObject({
        runtime: 'nodejs20',
        handler: 'index.handler',
        initializer: 'index.initializer',
        instanceLifecycleConfig: { preStop: { handler: 'index.preStop' } },
        environmentVariables: {
          ROCKETMQ_ENDPOINTS: 'rmq-cn-test.cn-hangzhou.rmq.aliyuncs.com:8080',
          ROCKETMQ_NAMESPACE: 'rmq-cn-test',
          ROCKETMQ_ACCESS_KEY: 'instance-user',
          ROCKETMQ_SECRET_KEY: FUNCTION_SECRET,
        },
      });
      const code = (create?.body?.code as { zipFile?: string } | undefined)?.zipFile ?? '';
      expect(Buffer.from(code, 'base64').equals(zips.get(name) as Buffer)).toBe(true);
      expect(typeof create?.body?.timeout).toBe('number');
      expect(typeof create?.body?.memorySize).toBe('number');
    }
    expect(stub.functions.get(`${SERVICE}/order-confirmation`)?.environmentVariables).toMatchObject({
      ORDERS_TOPIC: 'orders',
    });
  });

  it('creates one trigger per function: HTTP methods, OSS bucket/events/prefix, timer cron/payload', () => {
    const trigger = (fn: string) =>
      [...stub.triggers].find(([key]) => key.startsWith(`${SERVICE}/${fn}/`))?.[1];
    expect(trigger('order-confirmation')).toMatchObject({
      triggerType: 'http',
      triggerConfig: { authType: 'anonymous', methods: ['POST'] },
    });
    expect(trigger('object-fanout')).toMatchObject({
      triggerType: 'oss',
      sourceArn: `acs:oss:cn-hangzhou:${CREDENTIALS.accountId}:uploads-bucket`,
      invocationRole: `acs:ram::${CREDENTIALS.accountId}:role/aliyunosseventnotificationrole`,
      triggerConfig: { events: ['oss:ObjectCreated:*'], filter: { key: { prefix: 'uploads/' } } },
    });
    const timer = trigger('metrics-reporter');
    expect(timer).toMatchObject({ triggerType: 'timer', triggerConfig: { enable: true } });
    const { cronExpression = '', payload = '' } = (timer?.triggerConfig ?? {}) as {
      cronExpression?: string;
      payload?: string;
    };
    expect(cronExpression.split(' ')).toHaveLength(6);
    expect(JSON.parse(payload)).toHaveProperty('gauges');
  });

  it('creates the RocketMQ triggers as EventBridge triggers with their batch window and schema', () => {
    const triggers = [...stub.triggers].filter(([key]) => key.startsWith(`${SERVICE}/order-fulfilment/`));
    expect(triggers.map(([key]) => key.split('/').at(-1))).toEqual([
      'orders-rocketmq',
      'orders-retry-rocketmq',
    ]);
    expect(triggers[0]?.[1]).toMatchObject({
      triggerType: 'eventbridge',
      triggerConfig: {
        eventSourceConfig: {
          eventSourceType: 'RocketMQ',
          eventSourceParameters: {
            sourceRocketMQParameters: { InstanceId: 'rmq-cn-test', Topic: 'orders', RegionId: 'cn-hangzhou' },
          },
        },
        eventSinkConfig: { deliveryOption: { mode: 'event-streaming', eventSchema: 'CloudEvents' } },
        runOptions: { mode: 'event-streaming', batchWindow: { CountBasedWindow: 10, TimeBasedWindow: 2 } },
      },
    });
    expect(triggers[1]?.[1]).toMatchObject({
      triggerConfig: {
        eventSourceConfig: { eventSourceParameters: { sourceRocketMQParameters: { Topic: 'orders-retry' } } },
      },
    });
  });

  it('a second run only reads and updates: no create, triggers left alone when unchanged', async () => {
    const before = stub.calls.length;
    const run = await deploy(stub);
    expect(run.code, run.stderr).toBe(0);
    const second = stub.calls.slice(before);
    expect(new Set(second.map((call) => call.method))).toEqual(new Set(['GET', 'PUT']));
    expect(second.filter((call) => call.method === 'PUT').map(kindOf)).toEqual([
      'service',
      ...FUNCTIONS.map(() => 'function'),
    ]);
    expect(second.filter((call) => call.status >= 300)).toEqual([]);
    expect(run.stdout).toMatch(/trigger .*orders-http: unchanged/);
    expect(stub.rejected).toEqual([]);
  });

  it('makes only calls the dry run listed, with the same bodies apart from code', async () => {
    const dry = await runTs(
      'infra/fc/deploy.ts',
      ['--dry-run', '--json', '--code-dir', codeDir],
      deployEnv(),
    );
    expect(dry.code, dry.stderr).toBe(0);
    const planned = (
      JSON.parse(dry.stdout).steps as {
        calls: { method: string; path: string; body?: Record<string, unknown> }[];
      }[]
    ).flatMap((step) => step.calls);
    for (const call of first) {
      const match = planned.find(
        (entry) =>
          entry.method === call.method &&
          entry.path === call.path &&
          (call.body === undefined ||
            (entry.body?.functionName === call.body.functionName &&
              entry.body?.triggerName === call.body.triggerName)),
      );
      expect(match, `${call.method} ${call.path}`).toBeDefined();
      if (call.body && match?.body) {
        const { code: _c1, environmentVariables: _e1, ...sent } = call.body;
        const { code: _c2, environmentVariables: _e2, ...shown } = match.body;
        expect(sent).toEqual(shown);
      }
    }
  });
});

describe('changes and failures', () => {
  it.each([
    ['updates a changed trigger in place', [], ['GET 200', 'PUT 200'], 'updated'],
    [
      'replaces it when FC refuses to update that type',
      ['oss'],
      ['GET 200', 'PUT 400', 'DELETE 204', 'POST 200'],
      'replaced',
    ],
  ])('%s', async (_name, refuseTriggerUpdates, expected, action) => {
    const stub = await startFcApiStub({ ...CREDENTIALS, refuseTriggerUpdates });
    try {
      expect((await deploy(stub)).code).toBe(0);
      const before = stub.calls.length;
      const run = await deploy(stub, deployEnv({ OSS_PREFIX: 'incoming/' }));
      expect(run.code, run.stderr).toBe(0);
      const ossCalls = stub.calls
        .slice(before)
        .filter((call) => call.path.includes('/object-fanout/triggers'))
        .map((call) => `${call.method} ${call.status}`);
      expect(ossCalls).toEqual(expected);
      const [, trigger] = [...stub.triggers].find(([key]) => key.includes('/object-fanout/')) ?? [];
      expect(trigger?.triggerConfig).toMatchObject({ filter: { key: { prefix: 'incoming/' } } });
      expect(run.stdout).toContain(`objects-created: ${action}`);
    } finally {
      await stub.close();
    }
  });

  it('signs with an STS token when the AccessKey id is an STS one', async () => {
    const sts = { accessKeyId: 'STS.NUgYrLnoC37mZZCNnAbez2', securityToken: 'stub-sts-token-xyz' };
    const stub = await startFcApiStub({ ...CREDENTIALS, ...sts });
    try {
      const run = await deploy(
        stub,
        deployEnv({
          ALIBABA_CLOUD_ACCESS_KEY_ID: sts.accessKeyId,
          ALIBABA_CLOUD_SECURITY_TOKEN: sts.securityToken,
        }),
      );
      expect(run.code, run.stderr).toBe(0);
      expect(stub.rejected).toEqual([]);
      expect(stub.functions.size).toBe(FUNCTIONS.length);
    } finally {
      await stub.close();
    }
  });

  it('a wrong secret fails at the first call with exit 1, FC error code, and no secret in the output', async () => {
    const stub = await startFcApiStub({ ...CREDENTIALS });
    try {
      const run = await deploy(stub, deployEnv({ ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'not-the-right-secret' }));
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /deploy failed at service rocketmq-serverless: GET .* failed with 403.*\[SignatureNotMatch\]/,
      );
      expect(stub.calls).toHaveLength(1);
      expect(run.stdout + run.stderr).not.toContain('not-the-right-secret');
    } finally {
      await stub.close();
    }
  });

  it('refuses to start without built zips, before any call', async () => {
    const stub = await startFcApiStub({ ...CREDENTIALS });
    const empty = await mkdtemp(join(tmpdir(), 'fc-deploy-nocode-'));
    try {
      const run = await runTs(
        'infra/fc/deploy.ts',
        ['--endpoint', stub.endpoint, '--code-dir', empty],
        deployEnv(),
      );
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/order-confirmation\.zip not found: run npm run build first/);
      expect(stub.calls).toEqual([]);
    } finally {
      await stub.close();
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('names every missing value, one per line, with exit 2', async () => {
    const run = await runTs('infra/fc/deploy.ts', ['--code-dir', codeDir], {});
    expect(run.code).toBe(2);
    const lines = run.stderr.trim().split('\n');
    for (const name of [
      'ALIBABA_CLOUD_ACCESS_KEY_ID',
      'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
      'ALIBABA_CLOUD_ACCOUNT_ID',
      'ALIBABA_CLOUD_REGION',
      'ROCKETMQ_ENDPOINTS',
      'OSS_BUCKET',
    ]) {
      expect(lines.filter((line) => line.startsWith(`missing ${name}:`))).toHaveLength(1);
    }
  });
});

it('the stub really checks signatures (a request signed with another secret is refused)', async () => {
  const stub = await startFcApiStub({ ...CREDENTIALS });
  try {
    const { default: FC } = await import('@alicloud/fc2');
    const client = new FC(CREDENTIALS.accountId, {
      accessKeyID: CREDENTIALS.accessKeyId,
      accessKeySecret: 'another-secret',
      region: CREDENTIALS.region,
      endpoint: stub.endpoint,
    });
    await expect(client.getService(SERVICE)).rejects.toMatchObject({ code: 'SignatureNotMatch' });
    expect(stub.rejected).toHaveLength(1);
  } finally {
    await stub.close();
  }
});
