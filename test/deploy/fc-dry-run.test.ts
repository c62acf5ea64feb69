import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createZip } from '../../infra/build/zip.js';
import { readManifests } from '../../infra/manifest.js';
import { runTs } from './support/run-cli.js';

const OFFLINE = { preload: ['test/deploy/support/no-network.ts'] };
// Fake secrets for every credential the deploy or the functions could get.
const PLANTED = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5tPlantedDryRunId9',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'planted-dry-run-secret-Kq2',
  ALIBABA_CLOUD_SECURITY_TOKEN: 'planted-dry-run-sts-token',
  ROCKETMQ_ACCESS_KEY: 'planted-instance-username',
  ROCKETMQ_SECRET_KEY: 'planted-instance-password',
};

let codeDir: string;
let zip: Buffer;

beforeAll(async () => {
  codeDir = await mkdtemp(join(tmpdir(), 'fc-dry-run-'));
  zip = createZip([
    { name: 'index.js', data: Buffer.from('exports.handler = async () => "dry";\n'.repeat(50)) },
  ]);
  for (const name of ['order-confirmation', 'object-fanout'])
    await writeFile(join(codeDir, `${name}.zip`), zip);
});
afterAll(async () => {
  await rm(codeDir, { recursive: true, force: true });
});

/** The plan's steps, in order, for the functions the manifests describe: service, functions, triggers. */
async function expectedPlanKinds(): Promise<string[]> {
  const manifests = await readManifests();
  return [
    'service',
    ...manifests.map(() => 'function'),
    ...manifests.flatMap((m) => m.fc.triggers.map(() => 'trigger')),
  ];
}

describe('npm run deploy:fc -- --dry-run', () => {
  it('the offline guard works (a command that connects fails under it)', async () => {
    const run = await runTs('test/deploy/support/try-network.ts', [], {}, OFFLINE);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/must stay offline/);
  });

  it('prints the plan with no credentials, no network, and lists what a deploy would still need', async () => {
    const run = await runTs('infra/fc/deploy.ts', ['--dry-run', '--code-dir', codeDir], {}, OFFLINE);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/dry run: nothing was sent/);
    expect(run.stdout).toMatch(/GET {4}\/2016-08-15\/services\/rocketmq-serverless {3}\(always\)/);
    expect(run.stdout).toMatch(
      /POST {3}\/2016-08-15\/services\/rocketmq-serverless\/functions\/order-confirmation\/triggers/,
    );
    expect(run.stdout).toMatch(/A real deploy also needs:\n {2}ALIBABA_CLOUD_ACCESS_KEY_ID\n/);
    expect(run.stdout).toMatch(/ {2}OSS_BUCKET \(functions\.object-fanout\.trigger\.bucket\)/);
    // The RocketMQ trigger of order-fulfilment, with its batch window.
    expect(run.stdout).toMatch(/trigger rocketmq-serverless\/order-fulfilment\/orders-rocketmq/);
    expect(run.stdout).toMatch(/"triggerType": "eventbridge"/);
    expect(run.stdout).toMatch(/"CountBasedWindow": 10/);
    // Code is described, never included; a missing zip is pointed out.
    expect(run.stdout).toMatch(/<base64 of .*order-confirmation\.zip: [\d,]+ bytes, sha256 [0-9a-f]{16}…>/);
    expect(run.stdout).toMatch(/metrics-reporter\.zip: missing, run npm run build/);
    expect(run.stdout).not.toContain(zip.toString('base64').slice(0, 40));
  });

  it('plans service → functions → triggers, every call a method and an API path', async () => {
    const run = await runTs(
      'infra/fc/deploy.ts',
      ['--dry-run', '--json', '--code-dir', codeDir],
      {},
      OFFLINE,
    );
    expect(run.code, run.stderr).toBe(0);
    const plan = JSON.parse(run.stdout) as {
      steps: { kind: string; id: string; calls: { method: string; path: string }[] }[];
    };
    expect(plan.steps.map((step) => step.kind)).toEqual(await expectedPlanKinds());
    for (const step of plan.steps) {
      expect(step.calls.map((call) => call.method).slice(0, 3)).toEqual(['GET', 'POST', 'PUT']);
      expect(step.calls.every((call) => call.path.startsWith('/2016-08-15/services'))).toBe(true);
    }
  });

  it('prints no secret, whether the deployer’s or the functions’', async () => {
    for (const json of [false, true]) {
      const run = await runTs(
        'infra/fc/deploy.ts',
        ['--dry-run', ...(json ? ['--json'] : []), '--code-dir', codeDir],
        { ...PLANTED, ALIBABA_CLOUD_ACCOUNT_ID: '1234567890123456', ALIBABA_CLOUD_REGION: 'cn-shanghai' },
        OFFLINE,
      );
      expect(run.code, run.stderr).toBe(0);
      for (const secret of Object.values(PLANTED)) expect(run.stdout + run.stderr).not.toContain(secret);
      expect(run.stdout).toContain('<redacted>');
      expect(run.stdout).toContain('acs:oss:cn-shanghai:1234567890123456:<OSS_BUCKET>');
    }
  });

  it('rejects --json without --dry-run (exit 2)', async () => {
    const run = await runTs('infra/fc/deploy.ts', ['--json'], {}, OFFLINE);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--json only goes with --dry-run/);
  });
});
