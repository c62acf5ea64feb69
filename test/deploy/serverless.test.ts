// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} here is config / Serverless syntax, not a template.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createZip } from '../../infra/build/zip.js';

/**
 * serverless.yml checked with osls (the open-source Serverless Framework v3 line), offline and without AWS
 * credentials: `print` resolves it, `package` turns it into the CloudFormation template checked here.
 * It runs on a copy in a temporary folder, with small zips standing in for `npm run build`.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
const OSLS = join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');
const FUNCTIONS = [
  'order-confirmation',
  'object-fanout',
  'metrics-reporter',
  'order-fulfilment',
  'spool-redeliver',
];

// Every ${env:} the file reads, so no value falls through to SSM (which would need AWS credentials).
const ENV = {
  ROCKETMQ_ENDPOINTS: 'rmq-test.example.com:8081',
  ROCKETMQ_NAMESPACE: 'rmq-cn-test',
  ROCKETMQ_ACCESS_KEY: 'dummy-instance-user',
  ROCKETMQ_SECRET_KEY: 'dummy-instance-password',
  OBJECT_EVENTS_BUCKET: 'existing-uploads-bucket',
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function osls(cwd: string, args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [OSLS, ...args],
      // Nothing from the developer's shell: no AWS profile, no real keys.
      { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...ENV }, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

let work: string;
let invalid: string;
let print: Run;
let pack: Run;
let broken: Run;
let resources: Resources;

async function serviceDir(dir: string, yaml?: string): Promise<void> {
  await mkdir(join(dir, 'dist', 'aws'), { recursive: true });
  if (yaml === undefined) await copyFile(join(ROOT, 'serverless.yml'), join(dir, 'serverless.yml'));
  else await writeFile(join(dir, 'serverless.yml'), yaml);
  const zip = createZip([
    { name: 'index.mjs', data: Buffer.from('export const handler = async () => ({});\n') },
  ]);
  for (const name of FUNCTIONS) await writeFile(join(dir, 'dist', 'aws', `${name}.zip`), zip);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'osls-'));
  invalid = await mkdtemp(join(tmpdir(), 'osls-invalid-'));
  await serviceDir(work);
  const original = await readFile(join(ROOT, 'serverless.yml'), 'utf8');
  await serviceDir(
    invalid,
    original.replace('  memorySize: 512\n', '  memorySize: 512\n  memorySizee: 512\n'),
  );
  [print, pack, broken] = await Promise.all([
    osls(work, ['print']),
    osls(work, ['package', '--package', join(work, 'out')]),
    osls(invalid, ['print']),
  ]);
  expect(pack.code, pack.stderr + pack.stdout).toBe(0);
  const template = JSON.parse(
    await readFile(join(work, 'out', 'cloudformation-template-update-stack.json'), 'utf8'),
  );
  resources = template.Resources;
}, 90_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
  await rm(invalid, { recursive: true, force: true });
});

function resource(type: string, predicate: (r: Resources[string]) => boolean = () => true) {
  return Object.values(resources).filter((r) => r.Type === type && predicate(r));
}

describe('serverless.yml', () => {
  it('resolves offline (osls print) with values from the environment', () => {
    expect(print.code, print.stderr).toBe(0);
    expect(print.stdout).toContain('ROCKETMQ_ENDPOINTS: rmq-test.example.com:8081');
    expect(print.stdout).toContain('configValidationMode: error');
  });

  it('holds no literal secret: credentials come from ${env:} / ${ssm:}', async () => {
    const text = await readFile(join(ROOT, 'serverless.yml'), 'utf8');
    for (const name of ['ROCKETMQ_ACCESS_KEY', 'ROCKETMQ_SECRET_KEY', 'ROCKETMQ_ENDPOINTS']) {
      const line = text.split('\n').find((entry) => entry.trim().startsWith(`${name}:`));
      expect(line, name).toMatch(/: \$\{env:[A-Z_]+, ssm:\/rocketmq-serverless\/\$\{sls:stage\}\//);
    }
  });

  it('fails on an unknown property (configValidationMode: error)', () => {
    expect(broken.code).not.toBe(0);
    expect(broken.stdout + broken.stderr).toMatch(/memorySizee/);
  });

  it('packages the functions from the build zips: nodejs20.x, index.handler', () => {
    // Besides ours, the framework adds the Lambda behind the existing-bucket custom resource.
    const functions = resource('AWS::Lambda::Function', (r) => r.Properties.Handler === 'index.handler');
    expect(functions.map((r) => r.Properties.FunctionName).sort()).toEqual(
      FUNCTIONS.map((name) => `rocketmq-serverless-dev-${name}`).sort(),
    );
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs20.x', Handler: 'index.handler' });
      const key = String((fn.Properties.Code as { S3Key: string }).S3Key);
      expect(FUNCTIONS.some((name) => key.endsWith(`/${name}.zip`))).toBe(true);
      const variables = (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;
      expect(variables).toMatchObject({
        ROCKETMQ_ENDPOINTS: ENV.ROCKETMQ_ENDPOINTS,
        ROCKETMQ_NAMESPACE: ENV.ROCKETMQ_NAMESPACE,
        ROCKETMQ_SECRET_KEY: ENV.ROCKETMQ_SECRET_KEY,
      });
    }
  });

  it("grants the functions' role the object spool's bucket: objects read, written, deleted; the bucket listed", () => {
    // The functions' execution role, not the one of the framework's existing-bucket custom resource.
    const role = resources.IamRoleLambdaExecution;
    expect(role?.Type).toBe('AWS::IAM::Role');
    const policies = (role?.Properties.Policies ?? []) as {
      PolicyDocument: { Statement: Record<string, unknown>[] };
    }[];
    const statements = policies.flatMap((policy) => policy.PolicyDocument.Statement);
    const grant = (action: string) =>
      statements
        .filter((statement) => (statement.Action as string[]).includes(action))
        .map((s) => s.Resource);
    for (const action of ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'])
      expect(grant(action), action).toEqual(['arn:aws:s3:::rocketmq-serverless-spool/*']);
    expect(grant('s3:ListBucket')).toEqual(['arn:aws:s3:::rocketmq-serverless-spool']);
  });

  it('routes POST /orders of an HTTP API (payload 2.0) to order-confirmation', () => {
    const [route] = resource('AWS::ApiGatewayV2::Route');
    expect(route?.Properties.RouteKey).toBe('POST /orders');
    const [integration] = resource('AWS::ApiGatewayV2::Integration');
    expect(integration?.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
    expect(JSON.stringify(integration?.Properties.IntegrationUri)).toContain(
      'OrderDashconfirmationLambdaFunction',
    );
  });

  it('adds an S3 notification to the existing bucket (custom resource, no new bucket)', () => {
    const [notification] = resource('Custom::S3');
    expect(notification?.Properties).toMatchObject({
      FunctionName: 'rocketmq-serverless-dev-object-fanout',
      BucketName: ENV.OBJECT_EVENTS_BUCKET,
      BucketConfigs: [{ Event: 's3:ObjectCreated:*', Rules: [{ Prefix: 'uploads/' }] }],
    });
    const buckets = resource('AWS::S3::Bucket').filter(
      (r) => r.Properties.BucketName === ENV.OBJECT_EVENTS_BUCKET,
    );
    expect(buckets).toEqual([]);
  });

  it('schedules metrics-reporter with an EventBridge rule and no constant input', () => {
    const [rule] = resource('AWS::Events::Rule');
    expect(rule?.Properties).toMatchObject({ ScheduleExpression: 'rate(5 minutes)', State: 'ENABLED' });
    const [target] = (rule?.Properties.Targets ?? []) as { Arn: unknown; Input?: unknown }[];
    expect(JSON.stringify(target?.Arn)).toContain('MetricsDashreporterLambdaFunction');
    expect(target?.Input).toBeUndefined();
  });

  it('runs the order-fulfilment poller every minute on its own rule', () => {
    const rule = resource('AWS::Events::Rule').find((r) =>
      JSON.stringify(r.Properties.Targets).includes('OrderDashfulfilmentLambdaFunction'),
    );
    expect(rule?.Properties).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
    const [fn] = resource(
      'AWS::Lambda::Function',
      (r) => r.Properties.FunctionName === 'rocketmq-serverless-dev-order-fulfilment',
    );
    expect(fn?.Properties).toMatchObject({ Timeout: 60 });
  });
});
