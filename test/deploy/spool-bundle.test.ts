import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle } from '../../infra/build/bundle.js';

/**
 * The object-storage spool's SDK is an optional peer: a function that does not use it carries none of
 * it, although the spool's own code (which loads the SDK only when configured) is in every bundle.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
const SDK_INPUT = /(^|\/)node_modules\/(@aws-sdk|@smithy)\//;

const sdkInputs = (metafile: Metafile) =>
  Object.keys(metafile.inputs).filter((input) => SDK_INPUT.test(input.replaceAll('\\', '/')));
const outputBytes = (metafile: Metafile) =>
  Object.values(metafile.outputs).find((output) => output.entryPoint !== undefined)?.bytes ?? 0;

let outDir: string;
const built: Record<string, Metafile> = {};

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'rocketmq-spool-bundle-'));
  const jobs = [
    ['fc', join(ROOT, 'functions', 'order-confirmation', 'fc.ts'), 'index.js', 'cjs'],
    ['aws', join(ROOT, 'functions', 'order-confirmation', 'aws.ts'), 'index.mjs', 'esm'],
    ['with-s3', join(ROOT, 'test', 'spool', 'fixtures', 's3-spool-function.ts'), 'index.js', 'cjs'],
  ] as const;
  await Promise.all(
    jobs.map(async ([name, entry, file, format]) => {
      built[name] = (
        await bundle({ entry, outFile: join(outDir, name, file), format, transport: 'lean' })
      ).metafile;
    }),
  );
}, 120_000);

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

describe('bundles and the S3 spool SDK', () => {
  it.each(['fc', 'aws'])('order-confirmation (%s) has no @aws-sdk or @smithy input', (name) => {
    const metafile = built[name] as Metafile;
    expect(Object.keys(metafile.inputs).some((input) => input.endsWith('lib/spool/s3-spool.ts'))).toBe(true);
    expect(sdkInputs(metafile)).toEqual([]);
  });

  it('a function that passes the SDK to the spool does carry it (the check sees it)', () => {
    const metafile = built['with-s3'] as Metafile;
    expect(sdkInputs(metafile).some((input) => input.includes('node_modules/@aws-sdk/client-s3/'))).toBe(
      true,
    );
    expect(outputBytes(metafile)).toBeGreaterThan(2 * outputBytes(built.fc as Metafile));
  });
});
