import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateManifest } from '../../infra/manifest.js';
import { type CliRun, runTs } from './support/run-cli.js';

/**
 * `npm run new` in a scratch tree (lib/, infra/ and node_modules/ linked from this repository, its own
 * functions/, events/ and test/): every kind of function it scaffolds type-checks, bundles for both
 * platforms and passes the test it comes with, unchanged.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
const KINDS = ['http', 'object', 'timer', 'rocketmq'] as const;

let tree: string;
let env: Record<string, string>;
const created: Record<string, CliRun> = {};

beforeAll(async () => {
  tree = await mkdtemp(join(tmpdir(), 'rocketmq-new-'));
  for (const link of ['lib', 'infra', 'node_modules', 'package.json'])
    await symlink(join(ROOT, link), join(tree, link));
  await mkdir(join(tree, 'functions'));
  env = { ROCKETMQ_FUNCTIONS_DIR: join(tree, 'functions') };
  for (const kind of KINDS) {
    created[kind] = await runTs('infra/new-function.ts', [`my-${kind}`, '--trigger', kind], env, {
      cwd: tree,
      timeoutMs: 60_000,
    });
  }
}, 240_000);

afterAll(async () => {
  if (tree) await rm(tree, { recursive: true, force: true });
});

describe('npm run new', () => {
  it('creates the handler, both entries, the manifest, a sample event per platform and a test', async () => {
    for (const kind of KINDS) {
      const name = `my-${kind}`;
      expect(created[kind]?.code, created[kind]?.stderr).toBe(0);
      for (const file of [
        `functions/${name}/handler.ts`,
        `functions/${name}/fc.ts`,
        `functions/${name}/aws.ts`,
        `events/fc/${name}.json`,
        `events/aws/${name}.json`,
        `test/functions/${name}.test.ts`,
      ]) {
        expect(created[kind]?.stdout).toContain(file);
      }
      const manifest = JSON.parse(await readFile(join(tree, 'functions', name, 'function.json'), 'utf8'));
      expect(validateManifest(manifest, name)).toEqual([]);
      expect(manifest.trigger).toBe(kind);
    }
  });

  it('what it writes type-checks under the repository settings', async () => {
    await writeFile(
      join(tree, 'tsconfig.json'),
      JSON.stringify({
        extends: join(ROOT, 'tsconfig.json'),
        include: ['functions', 'test', 'lib/transport/lean/siphash24.d.ts'],
      }),
    );
    const tsc = await runTs(
      'node_modules/typescript/bin/tsc',
      ['--noEmit', '-p', tree],
      {},
      { timeoutMs: 120_000 },
    );
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
  }, 150_000);

  it('passes its own tests unchanged, on both platforms', async () => {
    const vitest = await runTs(
      'node_modules/vitest/vitest.mjs',
      ['run'],
      { ...env, NO_COLOR: '1' },
      {
        cwd: tree,
        timeoutMs: 180_000,
      },
    );
    expect(vitest.code, vitest.stdout + vitest.stderr).toBe(0);
    expect(vitest.stdout).toMatch(/Tests\s+8 passed/);
  }, 200_000);

  it('bundles for both platforms with npm run build', async () => {
    const build = await runTs('infra/build/build.ts', ['--out-dir', join(tree, 'dist')], env, {
      cwd: tree,
      timeoutMs: 120_000,
    });
    expect(build.code, build.stderr).toBe(0);
    for (const kind of KINDS) {
      expect(build.stdout).toMatch(new RegExp(`^fc\\s+my-${kind}\\s`, 'm'));
      expect(build.stdout).toMatch(new RegExp(`^aws\\s+my-${kind}\\s`, 'm'));
    }
  }, 150_000);

  it('refuses a bad name, an unknown trigger and an existing function with exit 2', async () => {
    const runs = await Promise.all([
      runTs('infra/new-function.ts', ['My_Func', '--trigger', 'http'], env, { cwd: tree }),
      runTs('infra/new-function.ts', ['ok-name', '--trigger', 'queue'], env, { cwd: tree }),
      runTs('infra/new-function.ts', ['my-http', '--trigger', 'http'], env, { cwd: tree }),
      runTs('infra/new-function.ts', [], env, { cwd: tree }),
    ]);
    expect(runs.map((run) => run.code)).toEqual([2, 2, 2, 2]);
    expect(runs[0]?.stderr).toContain('not a function name');
    expect(runs[1]?.stderr).toContain('--trigger must be one of');
    expect(runs[2]?.stderr).toContain('exists already');
  });
});
