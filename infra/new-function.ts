// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} here is manifest / Serverless syntax.
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runCli, UsageError } from './cli.js';
import {
  DEFAULT_FUNCTIONS_DIR,
  FUNCTIONS_DIR,
  type FunctionManifest,
  MANIFEST_FILE,
  type TriggerKind,
} from './manifest.js';

/**
 * `npm run new -- <name> --trigger http|object|timer|rocketmq`: a new function that builds, invokes and
 * passes its test as it is — handler, FC and Lambda entries, function.json, a sample event per platform
 * and a test — then regenerates the deploy files from the manifests.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `Usage: npm run new -- <name> --trigger http|object|timer|rocketmq

Creates functions/<name>/ (handler.ts, fc.ts, aws.ts, function.json), events/fc/<name>.json,
events/aws/<name>.json and test/functions/<name>.test.ts, then runs what \`npm run generate\` does so
infra/fc/config.json, s.yaml and serverless.yml list the new function.

  <name>                   lower-case letters, digits and dashes, starting with a letter
  --trigger <kind>         http: an HTTP endpoint (POST /<name>) that sends each body, sync
                           object: OSS / S3 object-created events, one message per object
                           timer: FC timer / EventBridge schedule, one message per tick
                           rocketmq: messages from a RocketMQ trigger (FC) or a poll (Lambda),
                           one message forwarded per message
  -h, --help               this text

Exit codes: 0 created; 2 usage (bad name, unknown trigger, the function exists).`;

const NAME = /^[a-z][a-z0-9-]{0,63}$/;
const TRIGGERS: readonly TriggerKind[] = ['http', 'object', 'timer', 'rocketmq'];

interface Options {
  name: string;
  trigger: TriggerKind;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { trigger: { type: 'string', short: 't' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return undefined;
  const [name, ...extra] = positionals;
  if (!name) throw new UsageError('missing the function name');
  if (extra.length > 0) throw new UsageError(`one name only, got also: ${extra.join(' ')}`);
  if (!NAME.test(name) || name.endsWith('-'))
    throw new UsageError(`"${name}" is not a function name: lower-case letters, digits and dashes`);
  if (!TRIGGERS.includes(values.trigger as TriggerKind))
    throw new UsageError(`--trigger must be one of ${TRIGGERS.join(', ')}`);
  return { name, trigger: values.trigger as TriggerKind };
}

const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
const upper = (name: string) => name.toUpperCase().replace(/-/g, '_');

interface Template {
  manifest: FunctionManifest;
  handler: string;
  fc: string;
  aws: string;
  fcEvent: unknown;
  awsEvent: unknown;
  /** What the test expects on stdout (a subset of the result) for each platform. */
  expected: { fc: unknown; aws: unknown };
}

async function sample(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(ROOT, 'events', path), 'utf8'));
}

async function template(name: string, trigger: TriggerKind): Promise<Template> {
  const fn = camel(name);
  const topicVar = `${upper(name)}_TOPIC`;
  const base = {
    name,
    trigger,
    memory: 512,
    fc: { triggers: [], initializationTimeout: 10, preStopTimeout: 3 },
  };
  const topicHelper = (fallback: string, what: string) =>
    `/** ${what}; function.json sets ${topicVar} on both platforms. */\nexport const topic = (): string => process.env.${topicVar} || '${fallback}';\n`;
  const entries = (fcCall: string, awsImport: string, awsCall: string) => ({
    fc: `import { ${fcCall.split('(')[0]}, fcInitializer, fcPreStop } from 'rocketmq-serverless/fc';
import { ${fn}, topic } from './handler.js';

export const handler = ${fcCall};
export const initializer = fcInitializer({ warmTopics: [topic()] });
export const preStop = fcPreStop();
`,
    aws: `import { ${awsImport} } from 'rocketmq-serverless/lambda';
import { ${fn} } from './handler.js';

export const handler = ${awsCall};
`,
  });

  switch (trigger) {
    case 'http': {
      const path = `/${name}`;
      const fcEvent = await sample('fc/http-order.json');
      const context = fcEvent.requestContext as { http: Record<string, unknown> };
      fcEvent.rawPath = path;
      context.http.path = path;
      const awsEvent = await sample('aws/apigw-v2-order.json');
      awsEvent.rawPath = path;
      awsEvent.routeKey = `POST ${path}`;
      (awsEvent.requestContext as { http: Record<string, unknown> }).http.path = path;
      return {
        manifest: {
          ...base,
          description: `POST ${path}: sync send of the JSON body to ${topicVar}`,
          timeout: 10,
          environment: { [topicVar]: `\${${topicVar}:-orders}` },
          topics: { sends: ['orders'], consumes: [] },
          http: { paths: [path], methods: ['POST'] },
          fc: {
            ...base.fc,
            triggers: [{ name: `${name}-http`, type: 'http', authType: 'anonymous', methods: ['POST'] }],
          },
          aws: { events: [{ httpApi: { method: 'POST', path } }] },
        },
        handler: `import type { Invocation } from 'rocketmq-serverless';
import {
  type HttpRequest,
  type HttpResponse,
  jsonResponse,
  readJsonBody,
  requireMethod,
} from 'rocketmq-serverless/triggers';

${topicHelper('orders', 'The topic each request goes to')}
/** POST a JSON body → sync send → 200 with the message id, once the broker stored it. */
export async function ${fn}(request: HttpRequest, invocation: Invocation): Promise<HttpResponse> {
  requireMethod(request, ['POST']);
  const body = readJsonBody(request);
  if (typeof body !== 'object' || body === null)
    return jsonResponse(400, { error: { code: 'BODY_NOT_OBJECT', message: 'send a JSON object' } });
  const sent = await invocation.producer.send({ topic: topic(), body }, { deadline: invocation.deadline });
  invocation.logger.info({ message: 'sent', messageId: sent.messageId });
  return jsonResponse(200, { messageId: sent.messageId, topic: sent.topic });
}
`,
        ...entries(`fcHttpHandler(${fn})`, 'lambdaHttpHandler', `lambdaHttpHandler(${fn})`),
        fcEvent,
        awsEvent,
        expected: { fc: { statusCode: 200 }, aws: { statusCode: 200 } },
      };
    }
    case 'object':
      return {
        manifest: {
          ...base,
          description: `object created: one message per object to ${topicVar}`,
          timeout: 60,
          environment: { [topicVar]: `\${${topicVar}:-object-events}` },
          topics: { sends: ['object-events'], consumes: [] },
          fc: {
            ...base.fc,
            triggers: [
              {
                name: `${name}-objects`,
                type: 'oss',
                bucket: '${OSS_BUCKET}',
                events: ['oss:ObjectCreated:*'],
                prefix: '${OSS_PREFIX:-uploads/}',
                suffix: '',
              },
            ],
          },
          aws: {
            events: [
              {
                s3: {
                  bucket: '${env:OBJECT_EVENTS_BUCKET, ssm:/rocketmq-serverless/${sls:stage}/bucket}',
                  existing: true,
                  event: 's3:ObjectCreated:*',
                },
              },
            ],
          },
        },
        handler: `import type { Invocation } from 'rocketmq-serverless';
import { fromObjectEvent } from 'rocketmq-serverless/triggers';

${topicHelper('object-events', 'The topic each object goes to')}
/** OSS (FC) or S3 (Lambda) object-created event → one sync message per object, keyed bucket/key. */
export async function ${fn}(event: unknown, invocation: Invocation): Promise<{ sent: number }> {
  const objects = fromObjectEvent(event as Parameters<typeof fromObjectEvent>[0]);
  for (const object of objects) {
    await invocation.producer.send(
      { topic: topic(), tag: 'ObjectCreated', keys: [\`\${object.bucket}/\${object.key}\`.replace(/\\s/g, '_')], body: object },
      { deadline: invocation.deadline },
    );
  }
  return { sent: objects.length };
}
`,
        ...entries(`fcEventHandler(${fn})`, 'lambdaHandler', `lambdaHandler(${fn})`),
        fcEvent: await sample('fc/oss-put.json'),
        awsEvent: await sample('aws/s3-put.json'),
        expected: { fc: { sent: 3 }, aws: { sent: 3 } },
      };
    case 'timer':
      return {
        manifest: {
          ...base,
          description: `every 5 minutes: one message per tick to ${topicVar}`,
          timeout: 30,
          environment: { [topicVar]: `\${${topicVar}:-metrics}` },
          topics: { sends: ['metrics'], consumes: [] },
          fc: {
            ...base.fc,
            triggers: [
              {
                name: `${name}-every-5m`,
                type: 'timer',
                cronExpression: '0 */5 * * * *',
                enable: true,
                payload: '{}',
              },
            ],
          },
          aws: { events: [{ schedule: { rate: 'rate(5 minutes)', enabled: true } }] },
        },
        handler: `import type { Invocation } from 'rocketmq-serverless';
import { fromTimerEvent } from 'rocketmq-serverless/triggers';

${topicHelper('metrics', 'The topic each tick goes to')}
/** FC timer or EventBridge schedule → one sync message with the tick's time and payload. */
export async function ${fn}(event: unknown, invocation: Invocation): Promise<{ messageId: string }> {
  const tick = fromTimerEvent(event as Parameters<typeof fromTimerEvent>[0]);
  const sent = await invocation.producer.send(
    { topic: topic(), tag: 'Tick', body: { time: tick.time, payload: tick.payload ?? null } },
    { deadline: invocation.deadline },
  );
  return { messageId: sent.messageId };
}
`,
        ...entries(`fcEventHandler(${fn})`, 'lambdaHandler', `lambdaHandler(${fn})`),
        fcEvent: await sample('fc/timer.json'),
        awsEvent: await sample('aws/schedule.json'),
        expected: { fc: {}, aws: {} },
      };
    case 'rocketmq': {
      const groupVar = `${upper(name)}_GROUP`;
      const group = `GID_${name.replace(/-/g, '_')}`;
      return {
        manifest: {
          ...base,
          description: `messages of ${upper(name)}_SOURCE_TOPIC: one message forwarded per message to ${topicVar}`,
          timeout: 60,
          environment: {
            [`${upper(name)}_SOURCE_TOPIC`]: `\${${upper(name)}_SOURCE_TOPIC:-orders}`,
            [topicVar]: `\${${topicVar}:-shipments}`,
          },
          topics: { sends: ['shipments'], consumes: ['orders'] },
          fc: {
            ...base.fc,
            triggers: [
              {
                name: `${name}-rocketmq`,
                type: 'rocketmq',
                instanceId: '${ROCKETMQ_NAMESPACE}',
                topic: `\${${upper(name)}_SOURCE_TOPIC:-orders}`,
                groupId: `\${${groupVar}:-${group}}`,
                tag: '*',
                batchSize: 10,
                batchWindowSeconds: 2,
                eventSchema: 'CloudEvents',
                retryStrategy: 'BACKOFF_RETRY',
              },
            ],
          },
          aws: {
            description: `every minute: poll ${upper(name)}_SOURCE_TOPIC, one message forwarded per message`,
            environment: { [groupVar]: `\${${groupVar}:-${group}}` },
            events: [{ schedule: { rate: 'rate(1 minute)', enabled: true } }],
          },
        },
        handler: `import type { Invocation, ReceivedMessage } from 'rocketmq-serverless';

${topicHelper('shipments', 'The topic each message is forwarded to')}
/** The topic it consumes: the FC trigger's topic, and the one the Lambda variant polls. */
export const sourceTopic = (): string => process.env.${upper(name)}_SOURCE_TOPIC || 'orders';
/** The consumer group the Lambda variant polls with. */
export const consumerGroup = (): string => process.env.${groupVar} || '${group}';

/** One message: forwarded to topic() with the same keys, sync. A throw fails (and retries) it. */
export function ${fn}(invocation: Invocation) {
  return async (message: ReceivedMessage): Promise<string> => {
    const sent = await invocation.producer.send(
      { topic: topic(), tag: 'Forwarded', keys: [...message.keys], body: message.text() },
      { deadline: invocation.deadline },
    );
    return sent.messageId;
  };
}
`,
        fc: `import { processMessages } from 'rocketmq-serverless';
import { fcEventHandler, fcInitializer, fcPreStop } from 'rocketmq-serverless/fc';
import { fromRocketMQEvent } from 'rocketmq-serverless/triggers';
import { ${fn}, topic } from './handler.js';

/** FC: the RocketMQ trigger hands over batches; a message that fails fails the batch (FC redelivers it). */
export const handler = fcEventHandler(async (event, invocation) => {
  const messages = fromRocketMQEvent(event as Parameters<typeof fromRocketMQEvent>[0]);
  const report = await processMessages(messages, ${fn}(invocation), { deadline: invocation.deadline });
  return { processed: report.processed, failed: report.failed };
});
export const initializer = fcInitializer({ warmTopics: [topic()] });
export const preStop = fcPreStop();
`,
        aws: `import { pollMessages } from 'rocketmq-serverless/consumer';
import { lambdaHandler } from 'rocketmq-serverless/lambda';
import { fromScheduledEvent } from 'rocketmq-serverless/triggers';
import { consumerGroup, ${fn}, sourceTopic } from './handler.js';

/** Lambda has no RocketMQ event source: a schedule runs this poll until shortly before the timeout. */
export const handler = lambdaHandler(async (event, invocation) => {
  fromScheduledEvent(event as Parameters<typeof fromScheduledEvent>[0]);
  const report = await pollMessages({
    topic: sourceTopic(),
    consumerGroup: consumerGroup(),
    deadline: invocation.deadline,
    handler: ${fn}(invocation),
  });
  return { processed: report.processed, failed: report.failed };
});
`,
        fcEvent: await sample('fc/rocketmq-orders.json'),
        // An FC RocketMQ event for --platform aws: invoke puts its messages on the embedded broker first.
        awsEvent: await sample('fc/rocketmq-orders.json'),
        expected: { fc: { processed: 2, failed: 0 }, aws: { processed: 2, failed: 0 } },
      };
    }
  }
}

function testSource(name: string, t: Template): string {
  const sendsTo = t.manifest.topics.sends[0];
  return `import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** ${name}, invoked as each platform calls it, against the embedded broker. */

const ROOT = resolve(import.meta.dirname, '..', '..');

function invoke(platform: 'fc' | 'aws'): Promise<{ code: number; stdout: string; stderr: string }> {
  const event = join(ROOT, 'events', platform, '${name}.json');
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'infra/invoke.ts', '-f', '${name}', '-p', event, '--platform', platform, '--tail'],
      { cwd: ROOT, env: { ...process.env, ROCKETMQ_ENDPOINTS: '' }, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('${name}', () => {
  for (const platform of ['fc', 'aws'] as const) {
    it(\`runs on \${platform} with its sample event and sends to ${sendsTo}\`, async () => {
      const run = await invoke(platform);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject(${JSON.stringify(t.expected.fc)});
      expect(run.stderr).toMatch(/\\[broker\\] ${sendsTo} /);
    }, 90_000);
  }
});
`;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function create(options: Options): Promise<number> {
  const { name, trigger } = options;
  const root = join(FUNCTIONS_DIR, '..');
  const dir = join(FUNCTIONS_DIR, name);
  if (await exists(dir)) throw new UsageError(`functions/${name} exists already`);
  const t = await template(name, trigger);
  const files: [string, string][] = [
    [join(dir, MANIFEST_FILE), `${JSON.stringify(t.manifest, null, 2)}\n`],
    [join(dir, 'handler.ts'), t.handler],
    [join(dir, 'fc.ts'), t.fc],
    [join(dir, 'aws.ts'), t.aws],
    [join(root, 'events', 'fc', `${name}.json`), `${JSON.stringify(t.fcEvent, null, 2)}\n`],
    [join(root, 'events', 'aws', `${name}.json`), `${JSON.stringify(t.awsEvent, null, 2)}\n`],
    [join(root, 'test', 'functions', `${name}.test.ts`), testSource(name, t)],
  ];
  for (const [file] of files) {
    if (await exists(file)) throw new UsageError(`${relative(root, file)} exists already`);
  }
  for (const [file, text] of files) {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  await formatFiles(
    files.map(([file]) => file),
    root,
  );
  for (const [file] of files) process.stdout.write(`created ${relative(process.cwd(), file)}\n`);
  if (FUNCTIONS_DIR === DEFAULT_FUNCTIONS_DIR) {
    const { generateAll } = await import('./generate.js');
    for (const { file, text } of await generateAll()) {
      await writeFile(file, text);
      process.stdout.write(`updated ${relative(process.cwd(), file)}\n`);
    }
  }
  process.stdout.write(
    `\nNext:\n  npm run invoke -- -f ${name} -p events/fc/${name}.json\n` +
      `  npm run invoke -- -f ${name} -p events/aws/${name}.json --platform aws\n` +
      `  npx vitest run test/functions/${name}.test.ts\n`,
  );
  return 0;
}

/** The files as Biome writes them (through stdin, so the tree may be anywhere), so the lint passes. */
async function formatFiles(files: string[], root: string): Promise<void> {
  const { execFile } = await import('node:child_process');
  const biome = join(ROOT, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    const fixed = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        process.execPath,
        [biome, 'check', '--write', `--stdin-file-path=${relative(root, file)}`],
        { cwd: ROOT },
        (error, stdout, stderr) =>
          error ? reject(new Error(`biome: ${stderr || error.message}`)) : resolve(stdout),
      );
      child.stdin?.end(text);
    });
    await writeFile(file, fixed);
  }
}

await runCli(USAGE, parseOptions, create);
