import type { Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ESM_REQUIRE_BANNER } from '../../infra/build/bundle.js';
import { forbiddenInputs, missingRequireBanner } from '../../infra/build/checks.js';
import { type BundleRecord, overBudget, parseBudget, ratios } from '../../infra/build/report.js';
import { PLATFORM_TARGETS } from '../../infra/build/targets.js';

function metafile(inputs: Record<string, 'cjs' | 'esm'>): Metafile {
  return {
    inputs: Object.fromEntries(
      Object.entries(inputs).map(([path, format]) => [path, { bytes: 10, imports: [], format }]),
    ),
    outputs: {},
  };
}

function record(platform: 'fc' | 'aws', name: string, rawBytes: number): BundleRecord {
  return {
    platform,
    name,
    file: '',
    rawBytes,
    gzipBytes: rawBytes / 4,
    zipBytes: rawBytes / 2,
    inputs: 1,
    largestPackages: [],
  };
}

describe('bundle checks', () => {
  it('flag middy or the Lambda wrapper in an FC bundle, the FC SDK or wrapper in a Lambda bundle', () => {
    const mixed = metafile({
      'lib/platforms/lambda.ts': 'esm',
      'node_modules/@middy/core/index.js': 'esm',
      'node_modules/@alicloud/fc2/lib/client.js': 'cjs',
      'lib/platforms/fc.ts': 'esm',
      'functions/order-confirmation/handler.ts': 'esm',
    });
    expect(forbiddenInputs(mixed, PLATFORM_TARGETS.fc)).toEqual([
      'contains lib/platforms/lambda.ts (the Lambda platform wrapper)',
      'contains node_modules/@middy/core/index.js (middy is the Lambda wrapper)',
    ]);
    expect(forbiddenInputs(mixed, PLATFORM_TARGETS.aws)).toEqual([
      'contains node_modules/@alicloud/fc2/lib/client.js (the Function Compute SDK)',
      'contains lib/platforms/fc.ts (the FC platform wrapper)',
    ]);
  });

  it('flag native addons and the client file logger on any platform', () => {
    const native = metafile({
      'node_modules/x/build/x.node': 'cjs',
      'node_modules/egg-logger/index.js': 'cjs',
    });
    expect(forbiddenInputs(native, PLATFORM_TARGETS.aws)).toHaveLength(2);
  });

  it('require the createRequire banner on ESM output with CommonJS inside, and only there', () => {
    const withCjs = metafile({
      'node_modules/google-protobuf/google-protobuf.js': 'cjs',
      'lib/index.ts': 'esm',
    });
    expect(missingRequireBanner(withCjs, 'esm', 'export{a};')).toHaveLength(1);
    expect(missingRequireBanner(withCjs, 'esm', `${ESM_REQUIRE_BANNER}\nexport{a};`)).toEqual([]);
    expect(missingRequireBanner(withCjs, 'cjs', '"use strict";')).toEqual([]);
    expect(missingRequireBanner(metafile({ 'lib/index.ts': 'esm' }), 'esm', 'export{a};')).toEqual([]);
  });
});

describe('size budget', () => {
  const budget = parseBudget(
    {
      fc: { rawBytes: 100, gzipBytes: 100, zipBytes: 100 },
      aws: { rawBytes: 200, gzipBytes: 200, zipBytes: 200 },
    },
    'test',
  );

  it('names each limit a bundle exceeds, per platform', () => {
    expect(overBudget([record('fc', 'a', 120), record('aws', 'a', 120)], budget)).toEqual([
      'fc/a: rawBytes 120 > budget 100',
    ]);
  });

  it('rejects a budget with a missing or non-positive limit', () => {
    expect(() => parseBudget({ fc: { rawBytes: 1, gzipBytes: 1 }, aws: budget.aws }, 'b.json')).toThrow(
      'b.json: fc.zipBytes must be a positive whole number of bytes',
    );
  });

  it('compares each bundle with the raw client of its platform', () => {
    const result = ratios(
      [record('fc', 'a', 150), record('aws', 'a', 300)],
      [record('fc', 'raw-client', 100), record('aws', 'raw-client', 200)],
    );
    expect(result).toEqual({ 'fc/a': 1.5, 'aws/a': 1.5 });
  });
});
