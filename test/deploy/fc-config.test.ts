// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} here is config / Serverless syntax, not a template.
import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contains } from '../../infra/fc/apply.js';
import { functionEnvironment, readConfigFile, resolveConfig, validateConfig } from '../../infra/fc/config.js';
import { buildPlan, rocketmqTriggerConfig } from '../../infra/fc/plan.js';
import { REDACTED, redact } from '../../infra/fc/plan-format.js';
import { resolveSettings, SettingsError } from '../../infra/fc/settings.js';
import { readManifests } from '../../infra/manifest.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const TARGET = { accountId: '1234567890123456', region: 'cn-hangzhou', codeDir: '/code' };

async function rawConfig(): Promise<Record<string, unknown>> {
  return structuredClone(await readConfigFile()) as unknown as Record<string, unknown>;
}

/** The plan's steps, in order, for the functions the manifests describe: service, functions, triggers. */
async function expectedPlanKinds(): Promise<string[]> {
  const manifests = await readManifests();
  return [
    'service',
    ...manifests.map(() => 'function'),
    ...manifests.flatMap((m) => m.fc.triggers.map(() => 'trigger')),
  ];
}

describe('infra/fc/config.json', () => {
  it('describes exactly the functions in functions/, one trigger kind each', async () => {
    const config = await readConfigFile();
    const dirs = (await readdir(resolve(ROOT, 'functions'), { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(Object.keys(config.functions).sort()).toEqual(dirs.sort());
    expect(new Set(Object.values(config.functions).map((fn) => fn.trigger.type))).toEqual(
      new Set(['http', 'oss', 'timer', 'rocketmq']),
    );
  });

  it.each([
    ['an unknown key', ['functions', 'order-confirmation', 'memory'], 1, /unknown key "memory"/],
    [
      'a five-field cron',
      ['functions', 'metrics-reporter', 'trigger', 'cronExpression'],
      '*/5 * * * *',
      /six fields/,
    ],
    [
      'an OSS event without prefix',
      ['functions', 'object-fanout', 'trigger', 'events'],
      ['ObjectCreated:*'],
      /oss: prefix/,
    ],
    ['memory not a multiple of 64', ['functions', 'object-fanout', 'memorySize'], 500, /multiple of 64/],
    ['a reserved variable name', ['environment', 'FC_THING'], 'x', /FC_THING: not a usable/],
    [
      'a trigger type it cannot deploy',
      ['functions', 'object-fanout', 'trigger', 'type'],
      'mns',
      /http, oss, timer or rocketmq/,
    ],
  ])('rejects %s', async (_name, path, value, message) => {
    const config = await rawConfig();
    let at: Record<string, unknown> = config;
    for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
    at[path.at(-1) as string] = value;
    expect(validateConfig(config).join('\n')).toMatch(message);
  });

  it('fills ${NAME} from the environment, ${NAME:-x} with x when unset or empty, and reports what is missing', async () => {
    const config = await readConfigFile();
    const { config: resolved, missing } = resolveConfig(config, {
      ROCKETMQ_ENDPOINTS: 'a:1',
      ORDERS_TOPIC: '',
    });
    expect(resolved.environment.ROCKETMQ_ENDPOINTS).toBe('a:1');
    expect(resolved.functions['order-confirmation']?.environment.ORDERS_TOPIC).toBe('orders');
    expect(missing).toEqual([
      { name: 'OSS_BUCKET', where: 'functions.object-fanout.trigger.bucket' },
      { name: 'ROCKETMQ_NAMESPACE', where: 'functions.order-fulfilment.trigger.instanceId' },
    ]);
    expect(resolved.functions['object-fanout']?.trigger).toMatchObject({ bucket: '<OSS_BUCKET>' });
    // Empty optional values are left out of the function, so the library sees them as unset.
    const env = functionEnvironment(resolved, 'order-confirmation');
    expect(env).not.toHaveProperty('ROCKETMQ_NAMESPACE');
    expect(env).not.toHaveProperty('ALIBABA_CLOUD_ACCESS_KEY_SECRET');
    expect(env).toMatchObject({ ROCKETMQ_ENDPOINTS: 'a:1', ORDERS_TOPIC: 'orders' });
  });
});

describe('deploy settings', () => {
  it('names every missing value once, never a value', () => {
    const error = (() => {
      try {
        resolveSettings({ ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'do-not-print' });
      } catch (caught) {
        return caught as SettingsError;
      }
    })();
    expect(error).toBeInstanceOf(SettingsError);
    expect(error?.problems.map((line) => line.split(':')[0])).toEqual([
      'missing ALIBABA_CLOUD_ACCESS_KEY_ID',
      'missing ALIBABA_CLOUD_ACCOUNT_ID',
      'missing ALIBABA_CLOUD_REGION',
    ]);
    expect(error?.message).not.toContain('do-not-print');
  });

  it('needs the token with an STS AccessKey id, and builds the regional endpoint', () => {
    const base = {
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's',
      ALIBABA_CLOUD_ACCOUNT_ID: '42',
      ALIBABA_CLOUD_REGION: 'cn-beijing',
    };
    expect(() => resolveSettings({ ...base, ALIBABA_CLOUD_ACCESS_KEY_ID: 'STS.abc' })).toThrow(
      /SECURITY_TOKEN/,
    );
    expect(resolveSettings({ ...base, ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI' }).endpoint).toBe(
      'https://42.cn-beijing.fc.aliyuncs.com',
    );
    expect(() => resolveSettings({ ...base, ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI' }, 'ftp://x')).toThrow(
      /--endpoint/,
    );
  });
});

describe('the plan', () => {
  it('sends a RocketMQ batch that fails every retry to its dead-letter ARN, and never skips one without', () => {
    const trigger = {
      name: 't',
      type: 'rocketmq' as const,
      instanceId: 'rmq-cn-1',
      topic: 'orders',
      groupId: 'GID_x',
      tag: '*',
      batchSize: 10,
      batchWindowSeconds: 2,
      eventSchema: 'CloudEvents' as const,
      retryStrategy: 'BACKOFF_RETRY' as const,
    };
    expect(rocketmqTriggerConfig(trigger, 'cn-hangzhou').runOptions).toMatchObject({
      errorsTolerance: 'NONE',
    });
    const arn = 'acs:mns:cn-hangzhou:1234567890123456:/queues/orders-dead';
    expect(rocketmqTriggerConfig({ ...trigger, deadLetterArn: arn }, 'cn-hangzhou').runOptions).toMatchObject(
      {
        errorsTolerance: 'ALL',
        deadLetterQueue: { Arn: arn },
      },
    );
  });

  it('orders service, functions, triggers, and shapes each trigger as FC 2.0 wants it', async () => {
    const { config } = resolveConfig(await readConfigFile(), { ROCKETMQ_ENDPOINTS: 'a:1', OSS_BUCKET: 'b' });
    const plan = buildPlan(config, TARGET);
    expect(plan.map((step) => step.kind)).toEqual(await expectedPlanKinds());
    const oss = plan.find((step) => step.kind === 'trigger' && step.triggerType === 'oss');
    expect(oss?.create.body).toMatchObject({
      sourceArn: 'acs:oss:cn-hangzhou:1234567890123456:b',
      invocationRole: 'acs:ram::1234567890123456:role/aliyunosseventnotificationrole',
    });
    // sourceArn cannot change in place, so it is not part of the update.
    expect(oss?.update.body).not.toHaveProperty('sourceArn');
    const fn = plan.find((step) => step.kind === 'function');
    expect(fn?.create.body).not.toHaveProperty('code');
    expect(fn?.kind === 'function' && fn.codeFile).toBe('/code/metrics-reporter.zip');
  });

  it('redacts secret-named environment values and any known secret anywhere', () => {
    const body = {
      description: 'the-secret-value',
      environmentVariables: {
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'x1',
        MY_TOKEN: 'x2',
        ROCKETMQ_ENDPOINTS: 'a:1',
      },
    };
    expect(redact(body, ['the-secret-value'])).toEqual({
      description: REDACTED,
      environmentVariables: {
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: REDACTED,
        MY_TOKEN: REDACTED,
        ROCKETMQ_ENDPOINTS: 'a:1',
      },
    });
  });

  it('compares triggers by what we set, ignoring fields FC adds', () => {
    const current = {
      triggerConfig: { methods: ['POST'], authType: 'anonymous', extra: 1 },
      createdTime: 'x',
    };
    expect(contains(current, { triggerConfig: { authType: 'anonymous', methods: ['POST'] } })).toBe(true);
    expect(contains(current, { triggerConfig: { authType: 'function', methods: ['POST'] } })).toBe(false);
    expect(contains(current, { triggerConfig: { methods: ['POST', 'GET'] } })).toBe(false);
  });
});
