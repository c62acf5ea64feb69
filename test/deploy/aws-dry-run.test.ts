import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createZip } from '../../infra/build/zip.js';
import { readManifests } from '../../infra/manifest.js';
import { runTs } from './support/run-cli.js';

/** `npm run deploy:aws -- --dry-run` on a copy of serverless.yml, with nothing in the environment. */

const ROOT = resolve(import.meta.dirname, '..', '..');
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'aws-dry-run-'));
  await copyFile(join(ROOT, 'serverless.yml'), join(work, 'serverless.yml'));
  await mkdir(join(work, 'dist', 'aws'), { recursive: true });
  const zip = createZip([
    { name: 'index.mjs', data: Buffer.from('export const handler = async () => ({});\n') },
  ]);
  const yaml = await readFile(join(work, 'serverless.yml'), 'utf8');
  for (const [, artifact] of yaml.matchAll(/artifact: (\S+)/g))
    await writeFile(join(work, artifact as string), zip);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('npm run deploy:aws -- --dry-run', () => {
  it('packages offline with no AWS credentials and no values, naming the stand-ins', async () => {
    // Only PATH and HOME: no AWS profile or keys, no ROCKETMQ_* (which would otherwise come from SSM).
    const run = await runTs('infra/aws-deploy.ts', ['--', '--dry-run'], {}, { cwd: work, timeoutMs: 90_000 });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('nothing was deployed');
    for (const manifest of await readManifests())
      expect(run.stdout).toMatch(
        new RegExp(`rocketmq-serverless-dev-${manifest.name}\\s+nodejs20\\.x arm64`),
      );
    expect(run.stdout).toContain('stand-ins for unset values (SSM at a real deploy): ROCKETMQ_ENDPOINTS');
    const template = JSON.parse(
      await readFile(join(work, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as {
      Resources: Record<
        string,
        { Type: string; Properties: { Environment?: { Variables: Record<string, string> } } }
      >;
    };
    const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
    expect(fn?.Properties.Environment?.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
  }, 120_000);

  it('refuses to run without the built zips, with exit 2', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'aws-dry-run-empty-'));
    try {
      await copyFile(join(ROOT, 'serverless.yml'), join(empty, 'serverless.yml'));
      const run = await runTs('infra/aws-deploy.ts', ['--', '--dry-run'], {}, { cwd: empty });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('run npm run build first');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
